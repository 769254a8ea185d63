"""All settings in one pydantic-settings model: the environment, `.env`, and a config file.

The environment names are a contract (other tools drive the product through them), so every
field carries its exact variable name as an alias. A missing or malformed setting raises
`SettingsProblem` with one line that names the variable and the fix; the CLI prints that line.

An optional YAML file sits beside the environment for what does not fit in a variable (MCP
servers, budgets): `TEAMMATE_CONFIG` names it, else `teammate.yml` in the working directory is
read when it exists. Its keys are the settings' names (`model: deep`, `retry_attempts: 3`) or
their variable names; the environment and `.env` win over the file.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bot.resources import SEEDS_DIR

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
CONFIG_VARIABLE = "TEAMMATE_CONFIG"
DEFAULT_CONFIG_FILE = Path("teammate.yml")

Mode = Literal["http", "socket", "worker", "doctor"]
Sessions = Literal["here", "workers"]
WEB_TOOLS = ("search", "fetch")
"""The provider server tools TEAMMATE_WEB_TOOLS can allow, beside on/off."""


class SettingsProblem(Exception):
    """A setting is missing or malformed; ``str()`` is one line naming it and the fix."""


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    config_file: Path | None = Field(None, validation_alias=_env(CONFIG_VARIABLE))
    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = Field(DEFAULT_SLACK_API_URL, validation_alias=_env("SLACK_API_URL"))

    anthropic_api_key: SecretStr | None = Field(None, validation_alias=_env("ANTHROPIC_API_KEY"))
    anthropic_base_url: str | None = Field(None, validation_alias=_env("ANTHROPIC_BASE_URL"))
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))

    # Unset, the commands choose by the keys that are set (bot.model_choice); "fast" is only
    # what code building Settings by hand gets.
    model: str = Field("fast", validation_alias=_env("TEAMMATE_MODEL"))
    local_model_url: str | None = Field(None, validation_alias=_env("TEAMMATE_LOCAL_MODEL_URL"))
    fallback_model: str | None = Field(None, validation_alias=_env("TEAMMATE_FALLBACK_MODEL"))
    data_dir: Path = Field(Path(".teammate"), validation_alias=_env("TEAMMATE_DATA_DIR"))
    database_url: str | None = Field(None, validation_alias=_env("TEAMMATE_DATABASE_URL"))
    seeds_dir: Path = Field(SEEDS_DIR, validation_alias=_env("TEAMMATE_SEEDS_DIR"))
    log_level: str = Field("INFO", validation_alias=_env("TEAMMATE_LOG_LEVEL"))
    claim_lease_seconds: float = Field(
        30.0, gt=0, validation_alias=_env("TEAMMATE_CLAIM_LEASE_SECONDS")
    )
    retry_attempts: int = Field(4, ge=1, le=10, validation_alias=_env("TEAMMATE_RETRY_ATTEMPTS"))
    retry_max_wait: float = Field(20.0, ge=0, validation_alias=_env("TEAMMATE_RETRY_MAX_WAIT"))
    retry_backoff: float = Field(0.5, ge=0, validation_alias=_env("TEAMMATE_RETRY_BACKOFF"))
    request_timeout: float = Field(60.0, gt=0, validation_alias=_env("TEAMMATE_REQUEST_TIMEOUT"))
    stream_idle_timeout: float = Field(
        30.0, gt=0, validation_alias=_env("TEAMMATE_STREAM_IDLE_TIMEOUT")
    )
    tool_timeout: float = Field(30.0, gt=0, validation_alias=_env("TEAMMATE_TOOL_TIMEOUT"))
    web_tools: str = Field("", validation_alias=_env("TEAMMATE_WEB_TOOLS"))
    stream_interval: float = Field(1.2, ge=0, validation_alias=_env("TEAMMATE_STREAM_INTERVAL"))
    max_answers: int = Field(100, ge=1, validation_alias=_env("TEAMMATE_MAX_ANSWERS"))
    # Slack user ids who count as workspace admins besides Slack's own admins and owners.
    admins: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), validation_alias=_env("TEAMMATE_ADMINS")
    )
    approval_timeout: float = Field(600.0, gt=0, validation_alias=_env("TEAMMATE_APPROVAL_TIMEOUT"))
    # Days an answer's reasoning summary is kept for its "Show reasoning" button.
    reasoning_days: float = Field(30.0, gt=0, validation_alias=_env("TEAMMATE_REASONING_DAYS"))
    mcp_config: Path | None = Field(None, validation_alias=_env("TEAMMATE_MCP_CONFIG"))
    # Each answer, task and resume a DBOS workflow that a restart resumes; an admin may turn it
    # off (answers then run in the process alone, and one cut by a crash waits for a retry).
    durable_answers: bool = Field(True, validation_alias=_env("TEAMMATE_DURABLE_ANSWERS"))
    # Tasks (`/task`): the budget a task gets unless it asks (--minutes, --tokens, --cost), the
    # most it may ask for, and how many run at once (the rest wait in the queue).
    task_minutes: float = Field(30.0, gt=0, validation_alias=_env("TEAMMATE_TASK_MINUTES"))
    task_tokens: int = Field(200_000, gt=0, validation_alias=_env("TEAMMATE_TASK_TOKENS"))
    task_cost: float | None = Field(None, gt=0, validation_alias=_env("TEAMMATE_TASK_COST"))
    task_max_minutes: float = Field(240.0, gt=0, validation_alias=_env("TEAMMATE_TASK_MAX_MINUTES"))
    task_max_tokens: int = Field(2_000_000, gt=0, validation_alias=_env("TEAMMATE_TASK_MAX_TOKENS"))
    task_max_cost: float = Field(20.0, gt=0, validation_alias=_env("TEAMMATE_TASK_MAX_COST"))
    max_tasks: int = Field(4, ge=1, validation_alias=_env("TEAMMATE_MAX_TASKS"))
    # Schedules (`/task every ...`): the time zone of their wall-clock times (an IANA name; unset,
    # each creator's own in Slack), and how often a process looks for slots that have come.
    timezone: str | None = Field(None, validation_alias=_env("TEAMMATE_TIMEZONE"))
    schedule_tick: float = Field(15.0, gt=0, validation_alias=_env("TEAMMATE_SCHEDULE_TICK"))
    # Who this process is to DBOS: a restart with the same id resumes what it left running.
    executor_id: str = Field("local", min_length=1, validation_alias=_env("TEAMMATE_EXECUTOR_ID"))
    # For tests only: the application version durable runs are recorded and recovered under,
    # in place of the build's own (its release and step layout), to play a deploy of a build
    # whose steps changed. Unset in every deployment.
    release: str | None = Field(None, min_length=1, validation_alias=_env("TEAMMATE_RELEASE"))
    # Who runs the sessions a `teammate serve` or `run` acknowledges: "here" (the process
    # itself) or "workers" (`teammate worker` processes on PostgreSQL; this one acknowledges
    # and enqueues only).
    sessions: Sessions = Field("here", validation_alias=_env("TEAMMATE_SESSIONS"))
    # Sessions of one workspace running at once across every worker (the rest wait queued).
    workspace_sessions: int = Field(8, ge=1, validation_alias=_env("TEAMMATE_WORKSPACE_SESSIONS"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources = [init_settings, env_settings, dotenv_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return (*sources, file_secret_settings)

    @field_validator("slack_api_url", "anthropic_base_url", "openai_base_url", "local_model_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("timezone")
    @classmethod
    def _time_zone(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a time zone: use an IANA name such as Europe/Berlin"
            ) from None
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("web_tools", mode="before")
    @classmethod
    def _web_tools(cls, value: object) -> str:
        """``search``, ``fetch``, both, ``on`` or ``off``, kept as ``search,fetch``."""
        words = {w.strip().lower() for w in str(value or "").split(",") if w.strip()}
        if not words or words <= {"off", "none", "false", "0", "no"}:
            return ""
        if words <= {"on", "all", "true", "1", "yes"}:
            return ",".join(WEB_TOOLS)
        unknown = words - set(WEB_TOOLS)
        if unknown:
            raise ValueError(
                f"unknown web tool {', '.join(sorted(unknown))}: use search, fetch, "
                "search,fetch, on or off"
            )
        return ",".join(w for w in WEB_TOOLS if w in words)

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL: the setting with its driver made explicit, or SQLite."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'teammate.db').resolve()}"
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        if url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            return url
        raise SettingsProblem(
            "TEAMMATE_DATABASE_URL is not a database URL this product knows: use "
            "sqlite:///path/to/file.db or postgresql://user@host:5432/dbname"
        )

    @property
    def on_postgres(self) -> bool:
        return self.resolved_database_url.startswith("postgresql")

    def require_workers_database(self, what: str) -> None:
        """Sessions run by workers need PostgreSQL: one line saying so, for ``what``."""
        if not self.on_postgres:
            raise SettingsProblem(
                f"{what} needs PostgreSQL: set TEAMMATE_DATABASE_URL=postgresql://user@host/db "
                "(on SQLite one `teammate serve` or `run` answers by itself)"
            )

    def require_slack(self, mode: Mode) -> None:
        """Fail with one line naming every Slack credential the mode needs that is missing or
        wrong (all of them at once, so one edit of the environment fixes the start)."""
        problems = self.slack_problems(mode)
        if problems:
            raise SettingsProblem("; ".join(problems))

    def slack_problems(self, mode: Mode) -> list[str]:
        """Each missing or wrong Slack credential for ``mode``, as a short fix."""
        problems = []
        token = _secret(self.slack_bot_token)
        if not token:
            problems.append(
                "SLACK_BOT_TOKEN is missing: set it to the app's Bot User OAuth Token (xoxb-...) "
                "from api.slack.com/apps > OAuth & Permissions"
            )
        elif not token.startswith("xoxb-"):
            problems.append(
                "SLACK_BOT_TOKEN does not look like a bot token: it should start with xoxb-"
            )
        if mode == "http" and not _secret(self.slack_signing_secret):
            problems.append(
                "SLACK_SIGNING_SECRET is missing: copy it from api.slack.com/apps > "
                "Basic Information > Signing Secret (without it every request is refused)"
            )
        if mode == "socket":
            app_token = _secret(self.slack_app_token)
            if not app_token:
                problems.append(
                    "SLACK_APP_TOKEN is missing: Socket Mode needs an app-level token (xapp-...) "
                    "with connections:write, from Basic Information > App-Level Tokens"
                )
            elif not app_token.startswith("xapp-"):
                problems.append("SLACK_APP_TOKEN should start with xapp-")
        return problems


def _config_file() -> Path | None:
    """The config file to read: the one TEAMMATE_CONFIG names (it must exist), or
    ``teammate.yml`` in the working directory when there is one."""
    named = os.environ.get(CONFIG_VARIABLE) or os.environ.get(CONFIG_VARIABLE.lower())
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise SettingsProblem(
                f"{CONFIG_VARIABLE} names {path}, which is not a file: fix the path or unset it"
            )
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def config_file_setting(field: str) -> Path | None:
    """The config file ``field`` was read from, or None when the environment (or nothing) set
    it: so a message can say where a value came from."""
    variable = f"TEAMMATE_{field.upper()}"
    if variable in os.environ or variable.lower() in os.environ:
        return None
    path = _config_file()
    if path is None:
        return None
    with contextlib.suppress(OSError, yaml.YAMLError):
        values = yaml.safe_load(path.read_text("utf-8"))
        if isinstance(values, dict) and ({field, variable} & set(values)):
            return path
    return None


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value().strip() if value else ""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per the contract above."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
        settings.resolved_database_url  # noqa: B018 - validates the URL early
        return settings
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise SettingsProblem(
            f"the config file {_config_file()} is not valid YAML{line}: fix it or set "
            f"{CONFIG_VARIABLE} to another file"
        ) from None
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "a setting"
            problems.append(f"{_env_name(field)} is malformed: {error['msg']}")
        raise SettingsProblem("; ".join(problems)) from None


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return field.upper()
