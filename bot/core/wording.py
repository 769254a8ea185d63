"""The words a person reads when something goes wrong, in one place.

Every message is short, says what happened and what to do, and never carries a stack trace, a
status body, a token or a key. The reference id is added by whoever draws the message. Failure
texts are templates filled from :class:`FailureWords`: the model's label, the provider's name,
its host, the setting that holds its key, the model id, an HTTP status note and a duration.
"""

from __future__ import annotations

from dataclasses import dataclass

AGAIN = "Try again shortly."

# kind -> (what the person reads, how "The answer was cut off: …" ends once text was shown)
FAILURES: dict[str, tuple[str, str]] = {
    "config": ("{detail}", "the model is not configured"),
    "auth": (
        "{vendor} refused the API key. Check {key_env} and that the key may use {model}.",
        "the provider refused the API key",
    ),
    "not_found": (
        "{vendor} does not know the model `{model}`. Check TEAMMATE_MODEL "
        "(or this channel's model choice).",
        "the model name is unknown",
    ),
    "too_long": (
        "This conversation is too long for {label}. Start a new thread, or choose a model "
        "with a larger context window.",
        "the conversation is too long for the model",
    ),
    "quota": (
        "{vendor} refused the request: the account's spend limit or credit balance is "
        "reached. An admin needs to raise it.",
        "the account's spend limit is reached",
    ),
    "rejected": (
        "{label} rejected the request{status}. Try rephrasing or shortening it.",
        "the model rejected the request",
    ),
    "rate_limited": (
        "{label} is rate-limited right now. Try again in a minute.",
        "the model is rate-limited",
    ),
    "overloaded": (f"{{label}} is overloaded right now. {AGAIN}", "the model is overloaded"),
    "unavailable": (f"{{label}} is unavailable right now. {AGAIN}", "the model is unavailable"),
    "stalled": (
        f"{{label}} stopped sending for {{seconds}} seconds. {AGAIN}",
        "the model stopped sending for {seconds} seconds",
    ),
    "timeout": (
        f"{{label}} at {{host}} did not answer in time. {AGAIN}",
        "the model did not answer in time",
    ),
    "server": (f"{{label}} had a server error{{status}}. {AGAIN}", "the model had a server error"),
    "connection": (
        "Could not reach the model at {host}. Check that it is running and reachable.",
        "the connection to {host} was lost",
    ),
    "provider": (f"{{label}} failed{{status}}. {AGAIN}", "the model reported an error"),
    "unexpected": (
        f"{{label}} sent an answer Teammate could not use. {AGAIN}",
        "the model's reply could not be read",
    ),
    "unknown": (
        "Something went wrong while answering. Try again; if it keeps happening, an admin can "
        "look up the reference in the logs.",
        "something went wrong",
    ),
}

# kind -> how the fallback notice says what happened to the first model
FALLBACK_STATES: dict[str, str] = {
    "rate_limited": "was rate-limited",
    "overloaded": "was overloaded",
    "server": "had a server error",
    "timeout": "did not answer in time",
    "stalled": "stopped answering",
    "connection": "could not be reached",
}


@dataclass(frozen=True, slots=True)
class FailureWords:
    """What a failure message may name."""

    label: str
    vendor: str
    host: str
    key_env: str
    model: str
    status: int | None = None
    seconds: float | None = None
    detail: str = ""

    def fill(self, template: str) -> str:
        return template.format(
            label=self.label,
            vendor=self.vendor,
            host=self.host,
            key_env=self.key_env,
            model=self.model,
            status=f" (HTTP {self.status})" if self.status else "",
            seconds=f"{self.seconds:g}" if self.seconds is not None else "",
            detail=self.detail,
        )


def cut_off(reason: str) -> str:
    return f"The answer was cut off: {reason}. Ask again to get a complete answer."


def fallback_notice(primary: str, kind: str, fallback: str) -> str:
    state = FALLBACK_STATES.get(kind, "was unavailable")
    return f"{primary} {state}; answered by {fallback}."


def no_deep_mode(label: str) -> str:
    return f"{label} has no deep mode; this is a normal answer."


def bad_model_setting(detail: object) -> str:
    return f"The model setting is not valid: {detail}."


# Said by the Slack side, when the failure is not the model's.
SOMETHING_WENT_WRONG = "Something went wrong on my side; please ask again."
ANSWER_STREAM_BROKE = "Something went wrong while answering."
THREAD_UNREADABLE = "I couldn't read this thread from Slack."
EMPTY_ANSWER = "_The model returned an empty answer._"
NO_ANSWER = "_No answer._"
THINKING_STEP = "Thinking…"
SHOW_REASONING = "Show reasoning"
REASONING_TITLE = "Reasoning"


def reasoning_gone(days: float) -> str:
    """What "Show reasoning" opens once the reasoning was cleared (or is not this channel's)."""
    kept = f"{days:g} day" + ("" if days == 1 else "s")
    return (
        f"This answer's reasoning is no longer available: reasoning is kept for {kept}, then "
        "cleared. The answer itself stays in the thread."
    )


REASONING_CUT = "The reasoning goes on, but this is as much as one window can show."


def reasoning_intro(model: str) -> str:
    who = model or "the model"
    return f"How {who} reasoned before answering, in its own summary. Only you see this."


AWAITING_APPROVAL = "This needs an approval before I can go on."
