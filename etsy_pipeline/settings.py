"""The one place configuration enters the application.

Every setting is an environment variable (or a line in `.env`); nothing else in the package reads
`os.environ`. `get_settings()` is cached so modules never read the environment at import time, and tests
build a `Settings(...)` of their own instead of reloading modules.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

_POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgresql+psycopg2", "postgres")


class SettingsError(ValueError):
    """A setting has a value the application cannot use; the message names the variable."""


class Settings(BaseSettings):
    """Application settings, one field per environment variable (the name is the field name upper-cased)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: an embedded PostgreSQL is started under DATA_DIR.",
    )
    analytics_database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of a read replica for analyst reads (the analytics repository). Unset: "
        "DATABASE_URL.",
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL for the cache and the shared rate limiter. Unset: no cache."
    )
    etsy_base_url: str = Field(default="https://openapi.etsy.com", description="Etsy API host; paths start with /v3/.")
    etsy_authorize_url: str = Field(
        default="https://www.etsy.com/oauth/connect", description="Etsy OAuth authorize page."
    )
    etsy_api_keystring: SecretStr | None = Field(default=None, description="The Etsy app's keystring.")
    etsy_shared_secret: SecretStr | None = Field(default=None, description="The Etsy app's shared secret.")
    token_encryption_key: SecretStr | None = Field(
        default=None,
        description=(
            "Comma-separated Fernet keys; the first encrypts, all decrypt (key rotation). "
            "Unset: a key is generated once under DATA_DIR."
        ),
    )
    data_dir: Path = Field(default=Path(".etsy-pipeline"), description="Embedded PostgreSQL, generated key, dlt state.")
    log_level: LogLevel = Field(default="INFO", description="Log level of the etsy_pipeline loggers.")
    cache_ttl_shop_seconds: int = Field(default=300, ge=1, description="Cache TTL of shop reads.")
    cache_ttl_listing_seconds: int = Field(default=300, ge=1, description="Cache TTL of listing reads.")
    cache_ttl_orders_seconds: int = Field(default=60, ge=1, description="Cache TTL of order reads.")
    cache_ttl_analytics_seconds: int = Field(
        default=3600, ge=1, description="Cache TTL of analytics and customer reads."
    )
    cache_retry_seconds: float = Field(
        default=5.0, gt=0, description="How long the cache waits before trying an unreachable Redis again."
    )
    low_stock_threshold: int = Field(
        default=5, ge=0, description="Default low-stock threshold (a shop's own setting wins)."
    )
    etsy_qps: int = Field(default=10, ge=0, description="Etsy calls per second for this app (0: no limit).")
    etsy_qpd: int = Field(default=10_000, ge=0, description="Etsy calls per rolling day for this app (0: no limit).")
    sync_lookback_hours: int = Field(
        default=72,
        ge=0,
        description="Each change to receipts, ledger entries and reviews is read again once it is this old.",
    )
    sync_deep_reread_days: int = Field(
        default=30, ge=0, description="Receipts created this recently are re-read in full now and then (0: never)."
    )
    sync_deep_reread_hours: int = Field(
        default=24, ge=1, description="How often the deep re-read of recent receipts runs, per shop."
    )
    sync_lock_wait_seconds: float = Field(
        default=5.0, ge=0, description="How long a sync waits for another run of the same shop before skipping."
    )
    sync_shops_per_run: int = Field(
        default=25,
        ge=1,
        description="Shops one scheduled pull run syncs in turn (a run is a process; 1: a run per shop).",
    )
    sync_processes: int = Field(
        default=2,
        ge=1,
        description="Processes that pull the shops of one batch side by side (a shop's extraction is Python work on "
        "one core): about the machine's cores. 1: every shop in the run's own process.",
    )
    automation_stopped: str = Field(
        default="",
        description="Schedules and sensors that start stopped in a fresh Dagster instance: comma-separated names, "
        "or all (default: every one starts running).",
    )
    etsy_push_reserve: int = Field(
        default=1_000,
        ge=0,
        description="Calls of the daily quota the pull leaves for push (at most a quarter of ETSY_QPD).",
    )
    analytics_start_date: date = Field(
        default=date(2024, 1, 1), description="First day of the daily analytics partitions (YYYY-MM-DD)."
    )
    analytics_timezone: str = Field(default="UTC", description="Time zone that decides which day an order is on.")
    etsy_openapi_spec: Path | None = Field(
        default=None,
        description="Etsy's full OpenAPI document: the conformance checks use it and check the committed skeleton "
        "against it (unset: the skeleton in etsy_pipeline/emulator/spec/).",
    )
    # Push (local edits to Etsy): retries, the runner's lease, the batched sensor and the automation switch.
    push_automation: bool = Field(default=True, description="Sensors push local changes to Etsy on their own.")
    push_backoff_base_seconds: float = Field(
        default=30.0, ge=0, description="First retry delay of a push; it doubles per attempt (full jitter)."
    )
    push_backoff_cap_seconds: float = Field(default=3600.0, ge=0, description="Longest delay between push retries.")
    push_max_attempts: int = Field(default=8, ge=1, description="Attempts before a change is dead-lettered (failed).")
    push_lease_seconds: int = Field(
        default=300, ge=1, description="How long a push runner owns a claimed change before another may take it."
    )
    push_batch_size: int = Field(default=50, ge=1, description="Listing edits due that make the batched push go.")
    push_batch_max_age_minutes: int = Field(
        default=15, ge=0, description="Age of the oldest due listing edit that makes the batched push go."
    )
    # Operations: backups (where, how long kept) and the time limits of the application's own connections.
    backup_dir: Path | None = Field(
        default=None,
        description="Where `etsy-pipeline backup` and the backup_daily schedule write (unset: DATA_DIR/backups).",
    )
    backup_keep_days: int = Field(
        default=14, ge=0, description="Backups older than this many days are deleted after a new one (0: keep all)."
    )
    db_connect_timeout_seconds: int = Field(
        default=10, ge=1, description="How long a new PostgreSQL connection may take before it fails."
    )
    db_statement_timeout_ms: int = Field(
        default=300_000, ge=0, description="Longest a single SQL statement of the application may run (0: no limit)."
    )

    @field_validator("database_url", "analytics_database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in _POSTGRES_SCHEMES:
            raise ValueError("expected a PostgreSQL URL such as postgresql://user:password@host:5432/db")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected a Redis URL such as redis://127.0.0.1:6379/0")
        return value

    @field_validator("etsy_base_url", "etsy_authorize_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL")
        return value.rstrip("/")

    @field_validator("analytics_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as UTC or Europe/Berlin") from None
        return value

    @field_validator("etsy_api_keystring", "etsy_shared_secret", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: Any) -> Any:
        """`ETSY_API_KEYSTRING=` (as .env.example ships it) means unset, not a key of zero characters."""
        if value is None or (isinstance(value, str | SecretStr) and not str(_plain(value)).strip()):
            return None
        return value

    @field_validator("token_encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from etsy_pipeline.storage.crypto import validate_keys

        validate_keys(value.get_secret_value())
        return value


def _plain(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


_SECRET_FIELDS = {"etsy_api_keystring", "etsy_shared_secret", "token_encryption_key"}


_URL_PASSWORD = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<password>\S*)@")


def redact_secrets(text: str) -> str:
    """`text` with the password of every URL in it masked (`mysql://root:***@db`): settings errors, and any
    message the command prints, may quote a URL exactly as the operator typed it. The password runs to the last
    `@` before a space, so one holding `@` or `/` is masked whole (at worst the host is masked too)."""
    return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)


def _describe(error: ErrorDetails) -> str:
    field = str(error["loc"][0]) if error.get("loc") else "?"
    message = str(error["msg"]).removeprefix("Value error, ")
    if field in _SECRET_FIELDS:
        return f"{field.upper()}: {message}"
    return redact_secrets(f"{field.upper()}={error.get('input')!r}: {message}")


def load_settings(**overrides: Any) -> Settings:
    """Build `Settings`, turning pydantic's error into one that names each bad variable (never a secret)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors(include_url=False))
        raise SettingsError(f"invalid configuration: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return load_settings()
