"""What the tests and the benchmarks share: fake model servers and the whole stack.

`bot.testkit.fakes` are local servers speaking the real Anthropic and OpenAI wire formats, with
failures staged on cue; `bot.testkit.stack` runs the real bot between the Slack sandbox and a
fake model over real HTTP. Both the test suite and `bench/` import them from here, so neither
depends on the other, and neither imports anything from `tests/`.
"""
