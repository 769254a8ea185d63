"""Tasks: goals handed over with ``/task``, worked on in a thread within a budget, with a
checklist the agent keeps (``update_plan``)."""
