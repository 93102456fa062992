"""Settings: env names, defaults, fallbacks, clear startup errors, masked secrets, frozen."""

from __future__ import annotations

import subprocess
import sys

import pydantic
import pytest

from services.common.config import CommonSettings, ConfigError, Port, load_settings


class EdgeSettings(CommonSettings):
    edge_grpc_port: Port = 50051
    edge_metrics_port: Port = 9101


def test_defaults_match_the_team_brief() -> None:
    settings = load_settings(EdgeSettings)
    assert settings.log_level == "INFO"
    assert settings.bind_host == "127.0.0.1"
    assert settings.otel_exporter_otlp_endpoint is None
    assert settings.otel_traces_sampler_ratio == 1.0
    assert settings.shutdown_grace_seconds == 5.0
    assert settings.internal_token is None
    assert (settings.edge_grpc_port, settings.edge_metrics_port) == (50051, 9101)


def test_variables_are_read_with_the_ibkr_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IBKR_EDGE_GRPC_PORT", "6000")
    monkeypatch.setenv("IBKR_LOG_LEVEL", "debug")
    monkeypatch.setenv("IBKR_SHUTDOWN_GRACE_SECONDS", "1.5")
    settings = load_settings(EdgeSettings)
    assert (settings.edge_grpc_port, settings.log_level, settings.shutdown_grace_seconds) == (
        6000,
        "DEBUG",
        1.5,
    )


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IBKR_EDGE_GRPC_PORT", "not-a-port")
    monkeypatch.setenv("IBKR_OTEL_TRACES_SAMPLER_RATIO", "2")

    with pytest.raises(ConfigError) as caught:
        load_settings(EdgeSettings)

    problems = caught.value.problems
    assert any(p.startswith("IBKR_EDGE_GRPC_PORT: Input should be a valid integer") for p in problems)
    assert any(p.startswith("IBKR_OTEL_TRACES_SAMPLER_RATIO: ") for p in problems)
    assert "not-a-port" not in str(caught.value.code)  # values are never echoed: they may be secrets


def test_missing_required_variable_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    class NeedsDatabase(CommonSettings):
        database_url: pydantic.SecretStr

    with pytest.raises(ConfigError) as caught:
        load_settings(NeedsDatabase)
    assert caught.value.problems == ["IBKR_DATABASE_URL: Field required"]


def test_config_error_exits_non_zero_with_the_message_on_stderr() -> None:
    script = (
        "from services.common.config import CommonSettings, Port, load_settings\n"
        "class S(CommonSettings):\n    risk_grpc_port: Port = 50052\n"
        "load_settings(S)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"IBKR_RISK_GRPC_PORT": "70000", "PYTHONPATH": "."},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "IBKR_RISK_GRPC_PORT: Input should be less than or equal to 65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_is_masked_in_repr_str_and_log_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IBKR_INTERNAL_TOKEN", "hunter2")
    settings = load_settings(EdgeSettings)

    assert settings.internal_token is not None
    assert settings.internal_token.get_secret_value() == "hunter2"
    for text in (repr(settings), str(settings), str(settings.log_safe_dump()), f"{settings}"):
        assert "hunter2" not in text
    assert settings.log_safe_dump()["internal_token"] == "**********"


def test_standard_otel_endpoint_is_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    assert load_settings(CommonSettings).otel_exporter_otlp_endpoint == "http://collector:4317"
    monkeypatch.setenv("IBKR_OTEL_EXPORTER_OTLP_ENDPOINT", "http://ours:4317")
    assert load_settings(CommonSettings).otel_exporter_otlp_endpoint == "http://ours:4317"


def test_empty_variable_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IBKR_OTEL_EXPORTER_OTLP_ENDPOINT", "")
    monkeypatch.setenv("IBKR_INTERNAL_TOKEN", "")
    settings = load_settings(CommonSettings)
    assert settings.otel_exporter_otlp_endpoint is None
    assert settings.internal_token is None


def test_settings_are_frozen() -> None:
    settings = load_settings(CommonSettings)
    with pytest.raises(pydantic.ValidationError):
        settings.bind_host = "0.0.0.0"  # type: ignore[misc]


def test_unknown_log_level_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IBKR_LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError) as caught:
        load_settings(CommonSettings)
    assert caught.value.problems[0].startswith("IBKR_LOG_LEVEL: ")
