"""Drawing an answer in Slack: what it looks like (view), how it gets there (writer), and the
pacing of Slack calls shared by every answer in the process (limiter)."""
