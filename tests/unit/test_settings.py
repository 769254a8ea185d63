import pytest

from bot.settings import Settings, SettingsProblem, load_settings


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_missing_bot_token_names_the_variable_and_the_fix() -> None:
    with pytest.raises(SettingsProblem) as problem:
        make().require_slack("http")
    assert str(problem.value).startswith("SLACK_BOT_TOKEN is missing")
    assert "\n" not in str(problem.value)


def test_wrong_kind_of_token_is_refused() -> None:
    with pytest.raises(SettingsProblem, match="should start with xoxb-"):
        make(slack_bot_token="xoxp-user-token").require_slack("http")


def test_http_mode_needs_the_signing_secret() -> None:
    with pytest.raises(SettingsProblem, match="SLACK_SIGNING_SECRET is missing"):
        make(slack_bot_token="xoxb-1").require_slack("http")


def test_socket_mode_needs_an_app_token() -> None:
    with pytest.raises(SettingsProblem, match="SLACK_APP_TOKEN is missing"):
        make(slack_bot_token="xoxb-1").require_slack("socket")


def test_malformed_value_is_one_line_naming_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("TEAMMATE_CLAIM_LEASE_SECONDS", "soon")
    with pytest.raises(SettingsProblem) as problem:
        load_settings(_env_file=None)
    assert str(problem.value).startswith("TEAMMATE_CLAIM_LEASE_SECONDS is malformed")


def test_bad_url_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "slack.com/api")
    with pytest.raises(SettingsProblem, match="SLACK_API_URL is malformed"):
        load_settings(_env_file=None)


def test_database_urls_get_async_drivers(tmp_path) -> None:
    assert make(database_url="postgresql://u@h/db").resolved_database_url == (
        "postgresql+asyncpg://u@h/db"
    )
    default = make(data_dir=tmp_path).resolved_database_url
    assert default.startswith("sqlite+aiosqlite:///") and default.endswith("teammate.db")
    with pytest.raises(SettingsProblem, match="TEAMMATE_DATABASE_URL"):
        _ = make(database_url="mysql://x").resolved_database_url


def test_environment_names_are_the_contract(monkeypatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-abc")
    monkeypatch.setenv("TEAMMATE_MODEL", "anthropic:claude-sonnet-4-6")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    settings = load_settings(_env_file=None)
    assert settings.slack_bot_token.get_secret_value() == "xoxb-abc"
    assert settings.model == "anthropic:claude-sonnet-4-6"
    assert settings.openai_base_url == "http://127.0.0.1:8000/v1"


def test_every_missing_slack_setting_is_named_at_once() -> None:
    with pytest.raises(SettingsProblem) as problem:
        make(slack_app_token="xoxb-not-an-app-token").require_slack("socket")
    line = str(problem.value)
    assert "\n" not in line
    assert (
        "SLACK_BOT_TOKEN is missing" in line and "SLACK_APP_TOKEN should start with xapp-" in line
    )


def test_every_malformed_setting_is_named_at_once(monkeypatch) -> None:
    monkeypatch.setenv("TEAMMATE_CLAIM_LEASE_SECONDS", "soon")
    monkeypatch.setenv("SLACK_API_URL", "slack.com/api")
    with pytest.raises(SettingsProblem) as problem:
        load_settings(_env_file=None)
    assert "TEAMMATE_CLAIM_LEASE_SECONDS is malformed" in str(problem.value)
    assert "SLACK_API_URL is malformed" in str(problem.value)


def test_admins_are_a_comma_separated_list_of_user_ids(monkeypatch) -> None:
    monkeypatch.setenv("TEAMMATE_ADMINS", " U0ALICE,U0BOB ,, ")
    assert Settings(_env_file=None).admins == {"U0ALICE", "U0BOB"}  # type: ignore[call-arg]
    monkeypatch.delenv("TEAMMATE_ADMINS")
    assert Settings(_env_file=None).admins == frozenset()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("", ""),
        ("off", ""),
        ("on", "search,fetch"),
        ("fetch, SEARCH", "search,fetch"),
        ("fetch", "fetch"),
    ],
)
def test_web_tools_are_off_by_default_and_named_by_their_words(monkeypatch, value, kept) -> None:
    monkeypatch.setenv("TEAMMATE_WEB_TOOLS", value)
    assert load_settings(_env_file=None).web_tools == kept


def test_an_unknown_web_tool_is_named(monkeypatch) -> None:
    monkeypatch.setenv("TEAMMATE_WEB_TOOLS", "search,maps")
    with pytest.raises(SettingsProblem, match="TEAMMATE_WEB_TOOLS is malformed: .*unknown web"):
        load_settings(_env_file=None)


def test_admins_are_comma_separated_ids_and_approvals_wait_ten_minutes(monkeypatch) -> None:
    monkeypatch.setenv("TEAMMATE_ADMINS", "U0BOB, U0CAROL,,")
    settings = load_settings(_env_file=None)
    assert settings.admins == {"U0BOB", "U0CAROL"}
    assert settings.approval_timeout == 600
    monkeypatch.setenv("TEAMMATE_APPROVAL_TIMEOUT", "0")
    with pytest.raises(SettingsProblem, match="TEAMMATE_APPROVAL_TIMEOUT is malformed"):
        load_settings(_env_file=None)


def test_reasoning_is_kept_thirty_days_unless_set(monkeypatch) -> None:
    assert load_settings(_env_file=None).reasoning_days == 30
    monkeypatch.setenv("TEAMMATE_REASONING_DAYS", "7")
    assert load_settings(_env_file=None).reasoning_days == 7
    monkeypatch.setenv("TEAMMATE_REASONING_DAYS", "0")
    with pytest.raises(SettingsProblem, match="TEAMMATE_REASONING_DAYS is malformed"):
        load_settings(_env_file=None)


def test_the_time_zone_of_schedules_is_checked_at_start(monkeypatch) -> None:
    monkeypatch.setenv("TEAMMATE_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(SettingsProblem) as problem:
        load_settings(_env_file=None)
    assert str(problem.value).startswith("TEAMMATE_TIMEZONE is malformed")
    assert "use an IANA name such as Europe/Berlin" in str(problem.value)
    monkeypatch.setenv("TEAMMATE_TIMEZONE", "Europe/Berlin")
    assert load_settings(_env_file=None).timezone == "Europe/Berlin"
