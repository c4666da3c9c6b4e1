from __future__ import annotations

from pathlib import Path

import pytest

from etsy_pipeline import cli
from etsy_pipeline.settings import SettingsError, get_settings, load_settings
from etsy_pipeline.storage.crypto import generate_key


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("DATABASE_URL", "REDIS_URL", "TOKEN_ENCRYPTION_KEY", "LOG_LEVEL", "CACHE_TTL_SHOP_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_match_the_documented_ones() -> None:
    settings = load_settings()
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.etsy_base_url == "https://openapi.etsy.com"
    assert settings.etsy_authorize_url == "https://www.etsy.com/oauth/connect"
    assert (settings.cache_ttl_shop_seconds, settings.cache_ttl_listing_seconds) == (300, 300)
    assert (settings.cache_ttl_orders_seconds, settings.cache_ttl_analytics_seconds) == (60, 3600)
    assert settings.low_stock_threshold == 5


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/etsy")
    monkeypatch.setenv("CACHE_TTL_SHOP_SECONDS", "42")
    monkeypatch.setenv("ETSY_BASE_URL", "http://127.0.0.1:8787/")
    settings = load_settings()
    assert settings.database_url == "postgresql://u:p@db:5432/etsy"
    assert settings.cache_ttl_shop_seconds == 42
    assert settings.etsy_base_url == "http://127.0.0.1:8787"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CACHE_TTL_SHOP_SECONDS", "soon", "CACHE_TTL_SHOP_SECONDS='soon'"),
        ("CACHE_TTL_ORDERS_SECONDS", "0", "greater than or equal to 1"),
        ("DATABASE_URL", "mysql://root@db/etsy", "expected a PostgreSQL URL"),
        ("REDIS_URL", "http://cache:6379", "expected a Redis URL"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD'"),
        ("LOW_STOCK_THRESHOLD", "-1", "LOW_STOCK_THRESHOLD"),
        ("ETSY_BASE_URL", "openapi.etsy.com", "expected an http(s) URL"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as excinfo:
        load_settings()
    assert variable in str(excinfo.value)
    assert expected in str(excinfo.value)


def test_a_bad_encryption_key_is_named_but_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    good = generate_key()
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", f"{good},not-a-valid-key-0123456789")
    with pytest.raises(SettingsError) as excinfo:
        load_settings()
    message = str(excinfo.value)
    assert "TOKEN_ENCRYPTION_KEY" in message
    assert "key #2" in message
    assert "not-a-valid-key" not in message
    assert good not in message


def test_the_command_reports_bad_configuration_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CACHE_TTL_ANALYTICS_SECONDS", "an hour")
    get_settings.cache_clear()
    try:
        code = cli.main(["db", "current"])
    finally:
        get_settings.cache_clear()
    assert code == 2
    err = capsys.readouterr().err
    assert "CACHE_TTL_ANALYTICS_SECONDS='an hour'" in err
    assert "Traceback" not in err


def test_a_bad_time_zone_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALYTICS_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match=r"ANALYTICS_TIMEZONE='Mars/Olympus': expected an IANA time zone"):
        load_settings()
