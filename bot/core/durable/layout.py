"""The step layout: which workflows and steps a durable run records, numbered.

A workflow left PENDING by one build replays against the next one's code: each step it had
recorded must come back where the new code asks for it. A build that changes that (a step
added, removed, renamed or moved; a workflow's stored input changed) cannot resume the runs
of the build before it, so the layout number is part of the application version
(:func:`bot.core.durable.engine.release`), and the runs an earlier layout left are handled at
start instead of replayed (bot.slack.upgrades).

A unit test fingerprints what DBOS knows after the workflows' modules are imported (the names
it registered, each workflow's parameters) against a recorded fingerprint, so a change to the
layout that forgets the bump fails there. It sees names and inputs, not the order in which a
workflow calls its steps: moving a step call within a workflow needs a bump too.
"""

from __future__ import annotations

import inspect

from dbos import _dbos as dbos_registry

STEP_LAYOUT = 3
"""Bump it (and record the new fingerprint) with every change to the steps a run records."""

_STEP_PREFIX = "<temp>."
"""How DBOS registers a step under its name (as a one-step workflow of its own)."""


def fingerprint(prefix: str = "teammate.") -> list[str]:
    """The registered workflows (``workflow NAME(PARAMS)``) and steps (``step NAME``) whose
    names start with ``prefix``, sorted: what a recorded run depends on, not docstrings."""
    registry = dbos_registry._get_or_create_dbos_registry()
    lines = []
    for name, function in registry.workflow_info_map.items():
        if name.startswith(_STEP_PREFIX + prefix):
            lines.append(f"step {name[len(_STEP_PREFIX) :]}")
        elif name.startswith(prefix):
            params = ", ".join(inspect.signature(function).parameters)
            lines.append(f"workflow {name}({params})")
    return sorted(lines)
