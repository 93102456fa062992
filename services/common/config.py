"""Typed, frozen configuration from `IBKR_*` environment variables.

Every service subclasses `CommonSettings` with its own fields and loads it once, in `__main__`, through
`load_settings`, which turns a validation failure into a one-line startup error naming the variable.
Secrets are `SecretStr`, so neither `repr` nor `log_safe_dump` ever shows them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "IBKR_"
MASK = "**********"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Port = Annotated[int, Field(ge=0, le=65535)]
"""A TCP port; 0 asks the OS for an ephemeral one (tests)."""

S = TypeVar("S", bound="CommonSettings")


class CommonSettings(BaseSettings):
    """The variables every service reads. Subclass it and add `<svc>_grpc_port` and friends.

    Field `foo_bar` is read from `IBKR_FOO_BAR`. Example::

        class EdgeSettings(CommonSettings):
            edge_grpc_port: Port = 50051
            edge_metrics_port: Port = 9101
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        frozen=True,
        extra="ignore",
        case_sensitive=False,
        # An exported-but-empty variable means "not set" (compose files often write `FOO=`).
        env_ignore_empty=True,
    )

    log_level: LogLevel = "INFO"
    """Log threshold: DEBUG, INFO, WARNING, ERROR or CRITICAL (JSON lines on stdout)."""
    bind_host: str = "127.0.0.1"
    """Interface every gRPC and metrics server binds; loopback by default so nothing is exposed by accident."""
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("IBKR_OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    )
    """OTLP/gRPC endpoint for traces (e.g. http://127.0.0.1:4317); tracing export is off when unset.
    `OTEL_EXPORTER_OTLP_ENDPOINT` is accepted too."""
    otel_traces_sampler_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    """Fraction of new traces sampled (parent-based: a sampled caller's trace is always continued)."""
    shutdown_grace_seconds: float = Field(default=5.0, ge=0.0)
    """On SIGTERM, how long in-flight calls may finish before the server stops."""
    internal_token: SecretStr | None = None
    """Shared credential between the suite's services (`x-ibkr-internal-token`); internal servers refuse
    calls without it when it is set. Never logged."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def log_safe_dump(self) -> dict[str, Any]:
        """All settings as a JSON-friendly dict, every secret replaced by a mask."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = MASK
            out[name] = value
        return out

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.log_safe_dump().items())
        return f"{type(self).__name__}({body})"

    __str__ = __repr__


class ConfigError(SystemExit):
    """Startup configuration is invalid; the message names each offending variable.

    A `SystemExit`, so an uncaught one prints the message to stderr and exits with status 1.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))


def env_var_name(cls: type[BaseSettings], field_name: str) -> str:
    """The environment variable a settings field is read from (its first alias, else prefix + name)."""
    field = cls.model_fields.get(field_name)
    if field is not None and isinstance(field.validation_alias, AliasChoices):
        first = field.validation_alias.choices[0]
        if isinstance(first, str):
            return first
    if field is not None and isinstance(field.validation_alias, str):
        return field.validation_alias
    prefix = cls.model_config.get("env_prefix", "") or ""
    return f"{prefix}{field_name}".upper()


def load_settings(cls: type[S]) -> S:
    """Read `cls` from the environment, or raise `ConfigError` (exit status 1) naming each bad variable.

    The offending values are never echoed: they may be secrets.
    """
    try:
        return cls()
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            loc = error.get("loc") or ("?",)
            problems.append(f"{_loc_to_env(cls, loc)}: {error['msg']}")
        raise ConfigError(problems) from None


def _loc_to_env(cls: type[BaseSettings], loc: tuple[Any, ...]) -> str:
    head = str(loc[0])
    # pydantic reports aliased fields by the alias it tried; map plain field names to their variable.
    name = head if head.upper() == head and head.startswith(ENV_PREFIX) else env_var_name(cls, head)
    rest = "".join(f".{part}" for part in loc[1:])
    return f"{name}{rest}"
