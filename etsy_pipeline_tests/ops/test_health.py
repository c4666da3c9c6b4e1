"""Database health figures against independent queries (or rows made by hand), and the warnings each one gives."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from pydantic import SecretStr
from sqlalchemy import create_engine, pool, text

from etsy_pipeline import cli
from etsy_pipeline.ops import health
from etsy_pipeline.settings import Settings, get_settings
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.sync.clients import build_limiter
from etsy_pipeline_tests.factories import user_with_shop


def one(db: Database, sql: str, **params: Any) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_a_query_running_over_100_ms_is_reported_with_its_literals_masked(db: Database, settings: Settings) -> None:
    engine = create_engine(db.url, poolclass=pool.NullPool)
    slow = engine.connect()
    pid = slow.execute(text("SELECT pg_backend_pid()")).scalar()
    worker = threading.Thread(target=lambda: _run_cancelled(slow, "SELECT pg_sleep(60), 'secret-literal'"))
    worker.start()
    try:
        running = (
            "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid AND state = 'active' AND query LIKE '%pg_sleep%' "
            "AND clock_timestamp() - query_start > interval '150 ms'"
        )
        while not one(db, running, pid=pid):
            pass  # the statement has been running for more than 100 ms once this loop ends
        check = health.collect(db, settings, record=False).checks["slow_queries"]
    finally:
        one(db, "SELECT pg_cancel_backend(:pid)", pid=pid)
        worker.join()
        slow.close()
        engine.dispose()
    assert check.figures["source"] == "pg_stat_activity"  # the extension is not loaded on the test server
    [query] = [q for q in check.figures["queries"] if q["pid"] == pid]
    assert query["ms"] > 100 and "pg_sleep(?)" in query["query"] and "secret-literal" not in query["query"]
    assert check.warnings and "secret-literal" not in json.dumps(check.warnings)


def _run_cancelled(conn: Any, sql: str) -> None:
    with contextlib.suppress(Exception):  # cancelled on purpose
        conn.execute(text(sql))


def test_connections_count_this_databases_sessions(db: Database, settings: Settings) -> None:
    before = health.collect(db, settings, record=False).checks["connections"].figures
    engine = create_engine(db.url, poolclass=pool.NullPool)
    held = [engine.connect() for _ in range(3)]
    try:
        after = health.collect(db, settings, record=False).checks["connections"].figures
    finally:
        for conn in held:
            conn.close()
        engine.dispose()
    assert after["database"] - before["database"] == 3
    assert after["server_max"] == int(one(db, "SHOW max_connections"))
    assert after["pool"]["size"] == 5 and after["pool"]["checked_out"] >= 1


def test_growth_is_measured_against_the_sample_nearest_a_day_ago(db: Database, settings: Settings) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM monitoring.table_sizes"))
        conn.execute(text(
            "INSERT INTO monitoring.table_sizes (sampled_at, table_name, total_bytes, index_bytes) VALUES "
            "(now() - interval '30 hours', 'core.users', 1000, 0), "
            "(now() - interval '26 hours', 'core.users', 2000, 0), "
            "(now() - interval '2 hours', 'core.users', 3000, 0), "
            "(now() - interval '3 hours', 'core.shops', 500, 0)"
        ))  # fmt: skip
    check = health.collect(db, settings).checks["table_growth"]
    size = {t: one(db, f"SELECT pg_total_relation_size('{t}')") for t in ("core.users", "core.shops")}
    growth = {g["table"]: g["bytes"] for g in check.figures["growth"]}
    assert growth["core.users"] == size["core.users"] - 2000  # the newest sample at least a day old
    assert growth["core.shops"] == size["core.shops"] - 500  # a younger history: its oldest sample
    newest = "SELECT total_bytes FROM monitoring.table_sizes WHERE table_name = 'core.users' ORDER BY sampled_at DESC"
    recorded = one(db, newest + " LIMIT 1")
    assert recorded == size["core.users"]
    assert check.figures["database_bytes"] == one(db, "SELECT pg_database_size(current_database())")


@pytest.fixture
def probe(db: Database) -> Iterator[str]:
    """A table of 200,000 rows with a non-unique index, in a schema of its own (dropped afterwards)."""
    with db.engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA health_probe"))
        conn.execute(text("CREATE TABLE health_probe.t (id bigint PRIMARY KEY, k int NOT NULL)"))
        conn.execute(text("INSERT INTO health_probe.t SELECT g, g % 1000 FROM generate_series(1, 200000) g"))
        conn.execute(text("CREATE INDEX ix_probe_k ON health_probe.t (k)"))
        conn.execute(text("SELECT pg_stat_force_next_flush()"))  # statistics are flushed when the session idles
    yield "health_probe.t"
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA health_probe CASCADE"))


def _scan(db: Database, sql: str, *, seqscan: bool) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(f"SET LOCAL enable_seqscan = {'on' if seqscan else 'off'}"))
        conn.execute(text(sql))
        conn.execute(text("SELECT pg_stat_force_next_flush()"))


def test_unused_indexes_and_sequential_scans_of_large_tables(probe: str, db: Database, settings: Settings) -> None:
    _scan(db, f"SELECT sum(id + k) FROM {probe}", seqscan=True)  # no index holds both columns
    check = health.collect(db, settings, record=False).checks["index_usage"]
    size = one(db, "SELECT pg_relation_size('health_probe.ix_probe_k')")
    assert {"index": "health_probe.ix_probe_k", "bytes": size} in check.figures["unused_indexes"]
    assert size >= health.UNUSED_INDEX_BYTES
    assert any("health_probe.ix_probe_k" in w for w in check.warnings)
    [scans] = [s for s in check.figures["sequential_scans"] if s["table"] == probe]
    assert scans["rows"] == 200_000 and scans["seq_scan"] >= 1
    seq_scans = one(db, "SELECT seq_scan FROM pg_stat_user_tables WHERE relid = 'health_probe.t'::regclass")
    for _ in range(seq_scans + 1):  # now mostly read through the index
        _scan(db, f"SELECT count(*) FROM {probe} WHERE k = 7", seqscan=False)
    check = health.collect(db, settings, record=False).checks["index_usage"]
    assert "health_probe.ix_probe_k" not in {u["index"] for u in check.figures["unused_indexes"]}
    assert probe not in {s["table"] for s in check.figures["sequential_scans"]}


def test_cache_hit_ratios_lie_between_independent_readings(db: Database, settings: Settings) -> None:
    sql = "SELECT blks_hit FROM pg_stat_database WHERE datname = current_database()"
    client = redis.Redis.from_url(settings.redis_url or "")
    pg_before, redis_before = one(db, sql), int(client.info("stats")["keyspace_hits"])
    figures = health.collect(db, settings, record=False).checks["cache_hit_ratio"].figures
    pg_after, redis_after = one(db, sql), int(client.info("stats")["keyspace_hits"])
    client.close()
    assert pg_before <= figures["postgres"]["hits"] <= pg_after
    assert redis_before <= figures["redis"]["hits"] <= redis_after
    total = figures["postgres"]["hits"] + figures["postgres"]["reads"]
    assert figures["postgres"]["ratio"] == round(figures["postgres"]["hits"] / total, 4)


def test_etsy_quota_counts_the_calls_of_the_shared_limiter(db: Database, settings: Settings) -> None:
    local = settings.model_copy(update={
        "etsy_api_keystring": SecretStr(uuid.uuid4().hex), "etsy_shared_secret": SecretStr("s"),
        "etsy_qps": 0, "etsy_qpd": 10,
    })  # fmt: skip
    limiter = build_limiter(local)
    try:
        for _ in range(3):
            limiter.acquire()
        check = health.etsy_quota(local)
        assert (check.figures["used"], check.figures["left"], check.warnings) == (3, 7, [])
        for _ in range(6):
            limiter.acquire()
        check = health.etsy_quota(local)
        assert (check.figures["used"], check.figures["left"]) == (9, 1) and check.warnings
    finally:
        limiter.reset()
    assert health.etsy_quota(settings).figures == {"configured": False}  # no Etsy keys: nothing to count


def test_sync_lag_per_shop_and_the_push_backlog(repos: Repositories, db: Database, settings: Settings) -> None:
    _, fresh = user_with_shop(repos, "fresh@example.com", "Fresh")
    _, late = user_with_shop(repos, "late@example.com", "Late")
    _, never = user_with_shop(repos, "never@example.com", "Never")
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO core.sync_runs (shop_id, kind, status, started_at, finished_at) VALUES "
            "(:fresh, 'incremental', 'succeeded', now() - interval '3 hours', now() - interval '2 hours'), "
            "(:late, 'incremental', 'succeeded', now() - interval '21 hours', now() - interval '20 hours'), "
            "(:late, 'incremental', 'failed', now() - interval '1 hour', now() - interval '50 minutes')"
        ), {"fresh": fresh.id, "late": late.id})  # fmt: skip
        changes = [("pending", 90), ("pending", 5), ("in_flight", 10), ("failed", 200), ("confirmed", 300)]
        for i, (status, age) in enumerate(changes):
            conn.execute(text(
                "INSERT INTO core.pending_changes (shop_id, entity_type, entity_id, change_type, payload, status, "
                "idempotency_key, created_at) VALUES (:shop, 'listing', 1, 'listing_update', '{}', :status, :key, "
                "now() - make_interval(mins => :age))"
            ), {"shop": fresh.id, "status": status, "key": f"health-{i}", "age": age})  # fmt: skip
    checks = health.collect(db, settings, record=False).checks
    shops = {s["etsy_shop_id"]: s for s in checks["sync_lag"].figures["shops"]}
    assert abs(shops[fresh.etsy_shop_id]["lag_hours"] - 2) < 0.01
    assert abs(shops[late.etsy_shop_id]["lag_hours"] - 20) < 0.01
    assert shops[late.etsy_shop_id]["last_status"] == "failed"
    assert shops[never.etsy_shop_id]["lag_hours"] is None
    warned = " ".join(checks["sync_lag"].warnings)
    assert str(late.etsy_shop_id) in warned and str(never.etsy_shop_id) in warned
    assert str(fresh.etsy_shop_id) not in warned
    backlog = checks["push_backlog"]
    assert backlog.figures["open"] == 3 and backlog.figures["by_status"]["failed"] == 1
    assert 89.9 < backlog.figures["oldest_open_minutes"] < 90.1
    assert len(backlog.warnings) == 2  # one failed for good, the oldest waiting 90 minutes


def test_the_health_command_prints_json_and_exits_1_on_warnings(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Database
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    get_settings.cache_clear()
    try:
        code = cli.main(["health", "--json"])
    finally:
        get_settings.cache_clear()
    report = json.loads(capsys.readouterr().out)
    assert set(report["checks"]) == set(health.CHECKS)
    assert report["status"] == ("warn" if code == 1 else "ok") and code in (0, 1)
    warned = [name for name, check in report["checks"].items() if check["warnings"]]
    assert (report["status"] == "warn") == bool(warned)
