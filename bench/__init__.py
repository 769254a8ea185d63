"""Benchmarks for the targets in the design: each is `python -m bench.<name>` and prints its
figures; `python -m bench` runs them all and writes docs/benchmarks.md.

They drive the whole product over real HTTP on the loopback interface (the bot, the local
Slack sandbox, fake model servers) and report what they measure. They are not tests: nothing
here asserts a wall-clock time, and every load loop is bounded in count and in time.
"""
