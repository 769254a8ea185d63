"""The core service: the agent, the model catalog, providers, retries and storage.

It knows nothing of Slack: nothing here imports slack_bolt, slack_sdk, handlers or bot.slack.
"""
