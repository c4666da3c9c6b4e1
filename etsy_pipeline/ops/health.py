"""Database health: the figures an operator watches and a warning for each one out of bounds.

Each check returns its figures and zero or more warnings; `etsy-pipeline health` prints them and the hourly
`ops/db_health` asset records them (one Dagster asset check per check, severity WARN). Table sizes are also
kept in `monitoring.table_sizes`, one sample per table per run, so growth is measured against a day ago.
Query texts are shown with their literals masked: a statement may carry a buyer's data or a token.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.database import Database

SLOW_MS = 100  # a query slower than this is worth a look (the seed's monitoring figure)
CONNECTIONS_WARN = 0.8  # share of max_connections in use
LARGE_TABLE_ROWS = 10_000  # sequential scans of smaller tables are cheap
UNUSED_INDEX_BYTES = 1 << 20  # an unused index smaller than 1 MiB costs little
PG_HIT_WARN, REDIS_HIT_WARN, MIN_LOOKUPS = 0.99, 0.8, 1_000
GROWTH_WARN_BYTES = 1 << 30  # a table that grew 1 GiB in a day
QUOTA_WARN = 0.9
SYNC_LAG_WARN_HOURS = 12  # two missed 6-hour pulls
BACKLOG_WARN_MINUTES = 60
SAMPLE_KEEP_DAYS = 90
CHECKS: tuple[str, ...] = ("slow_queries", "connections", "table_growth", "index_usage", "cache_hit_ratio")
CHECKS += ("etsy_quota", "sync_lag", "push_backlog")

_STATEMENTS = """
SELECT calls, round(mean_exec_time::numeric, 1)::float AS ms, query FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND mean_exec_time > :slow
ORDER BY mean_exec_time DESC LIMIT 10
"""
_RUNNING = """
SELECT pid, state, round((extract(epoch FROM clock_timestamp() - query_start) * 1000)::numeric, 1)::float AS ms, query
FROM pg_stat_activity
WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()
  AND clock_timestamp() - query_start > make_interval(secs => :slow / 1000.0)
ORDER BY query_start LIMIT 10
"""
_SERVER_CONNECTIONS = """
SELECT count(*), current_setting('max_connections')::int FROM pg_stat_activity WHERE backend_type = 'client backend'
"""
_DATABASE_CONNECTIONS = """
SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' GROUP BY 1
"""
_TABLE_SIZES = """
SELECT n.nspname || '.' || c.relname AS table, pg_total_relation_size(c.oid) AS total_bytes,
       pg_indexes_size(c.oid) AS index_bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'monitoring')
  AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 2 DESC, 1
"""
# Per table, the newest sample at least a day old; a younger history compares with its oldest sample.
_SAMPLE_BEFORE = """
SELECT DISTINCT ON (table_name) table_name AS table, total_bytes, sampled_at FROM monitoring.table_sizes
ORDER BY table_name, sampled_at <= now() - interval '24 hours' DESC,
         CASE WHEN sampled_at <= now() - interval '24 hours' THEN sampled_at END DESC NULLS LAST, sampled_at
"""
_INDEX_SIZES = """
SELECT schemaname || '.' || indexrelname AS index, pg_relation_size(indexrelid) AS bytes
FROM pg_stat_user_indexes ORDER BY 2 DESC, 1 LIMIT 10
"""
_RECORD = """
INSERT INTO monitoring.table_sizes (table_name, total_bytes, index_bytes) VALUES (:table, :total_bytes, :index_bytes)
"""
_PRUNE = "DELETE FROM monitoring.table_sizes WHERE sampled_at < now() - make_interval(days => :days)"
_UNUSED_INDEXES = """
SELECT s.schemaname || '.' || s.indexrelname AS index, pg_relation_size(s.indexrelid) AS bytes
FROM pg_stat_user_indexes s JOIN pg_index i USING (indexrelid)
WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary ORDER BY 2 DESC, 1
"""
_SEQUENTIAL_SCANS = """
SELECT schemaname || '.' || relname AS table, n_live_tup AS rows, seq_scan, coalesce(idx_scan, 0) AS idx_scan
FROM pg_stat_user_tables WHERE n_live_tup >= :large AND seq_scan > coalesce(idx_scan, 0)
ORDER BY seq_tup_read DESC, 1
"""
_SYNC_LAG = """
SELECT s.etsy_shop_id, s.shop_name, ok.finished_at AS last_success,
       round((extract(epoch FROM now() - ok.finished_at) / 3600)::numeric, 2)::float AS lag_hours,
       latest.status AS last_status
FROM core.shops s
LEFT JOIN LATERAL (SELECT max(finished_at) AS finished_at FROM core.sync_runs
                   WHERE shop_id = s.id AND status = 'succeeded') ok ON true
LEFT JOIN LATERAL (SELECT status FROM core.sync_runs WHERE shop_id = s.id
                   ORDER BY started_at DESC, id DESC LIMIT 1) latest ON true
ORDER BY s.etsy_shop_id
"""
_OLDEST_OPEN = """
SELECT round((extract(epoch FROM now() - min(created_at)) / 60)::numeric, 1)::float
FROM core.pending_changes WHERE status IN ('pending', 'in_flight')
"""


@dataclass
class Check:
    figures: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Report:
    checked_at: datetime
    checks: dict[str, Check]

    @property
    def warnings(self) -> list[str]:
        return [f"{name}: {w}" for name, check in self.checks.items() for w in check.warnings]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "warn" if self.warnings else "ok",
            "checked_at": self.checked_at.isoformat(),
            "checks": {
                name: {"status": "warn" if c.warnings else "ok", "warnings": c.warnings, **c.figures}
                for name, c in self.checks.items()
            },
        }


def mask(query: str) -> str:
    """A statement without its literals (strings and numbers), shortened: what ran, never with what data."""
    masked = re.sub(r"'(?:[^']|'')*'", "'?'", query)
    masked = re.sub(r"(?<![\w$])\d+(?:\.\d+)?\b", "?", masked)
    return " ".join(masked.split())[:200]


def _rows(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(text(sql), params)]


def slow_queries(conn: Connection) -> Check:
    """pg_stat_statements (mean time per statement) when the extension is installed and loaded; otherwise the
    statements running right now for longer than SLOW_MS."""
    if conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")).scalar():
        try:
            with conn.begin_nested():
                rows = _rows(conn, _STATEMENTS, slow=SLOW_MS)
            source = "pg_stat_statements"
        except DBAPIError:  # installed but not in shared_preload_libraries
            rows, source = _rows(conn, _RUNNING, slow=SLOW_MS), "pg_stat_activity"
    else:
        rows, source = _rows(conn, _RUNNING, slow=SLOW_MS), "pg_stat_activity"
    for row in rows:
        row["query"] = mask(row["query"] or "")
    found = [f"{r['ms']:.0f} ms: {r['query'][:80]}" for r in rows]
    return Check({"source": source, "threshold_ms": SLOW_MS, "queries": rows}, found[:5])


def connections(conn: Connection, db: Database) -> Check:
    """Server connections against max_connections, this database's by state, and this process's pool."""
    used, limit = conn.execute(text(_SERVER_CONNECTIONS)).one()
    states = {str(state): int(n) for state, n in conn.execute(text(_DATABASE_CONNECTIONS))}
    pool = db.engine.pool
    sizes = (
        {"size": pool.size(), "checked_out": pool.checkedout(), "overflow": pool.overflow()}
        if isinstance(pool, QueuePool)
        else {}
    )
    figures = {
        "server_used": used,
        "server_max": limit,
        "server_ratio": round(used / limit, 3),
        "database": sum(states.values()),
        "by_state": states,
        "pool": sizes,
    }
    warn = [f"{used} of {limit} server connections in use"] if used >= CONNECTIONS_WARN * limit else []
    return Check(figures, warn)


def table_growth(conn: Connection, record: bool) -> Check:
    """Sizes of the largest tables and indexes, and each table's growth since the sample nearest a day ago."""
    sizes = _rows(conn, _TABLE_SIZES)
    before = {r["table"]: r for r in _rows(conn, _SAMPLE_BEFORE)}
    growth = []
    for row in sizes:
        if row["table"] in before:
            then = before[row["table"]]
            growth.append(
                {
                    "table": row["table"],
                    "bytes": row["total_bytes"] - then["total_bytes"],
                    "since": then["sampled_at"].isoformat(),
                }
            )
    indexes = _rows(conn, _INDEX_SIZES)
    if record and sizes:
        conn.execute(text(_RECORD), sizes)
        conn.execute(text(_PRUNE), {"days": SAMPLE_KEEP_DAYS})
    database = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    warn = [
        f"{g['table']} grew {g['bytes'] / 2**30:.1f} GiB since {g['since']}"
        for g in growth
        if g["bytes"] >= GROWTH_WARN_BYTES
    ]
    return Check({"database_bytes": database, "tables": sizes[:10], "indexes": indexes, "growth": growth}, warn)


def index_usage(conn: Connection) -> Check:
    """Indexes never scanned since the statistics were reset, and large tables read mostly by sequential scans."""
    unused = _rows(conn, _UNUSED_INDEXES)
    scanned = _rows(conn, _SEQUENTIAL_SCANS, large=LARGE_TABLE_ROWS)
    warn = [
        f"index {u['index']} ({u['bytes'] / 2**20:.1f} MiB) is never used"
        for u in unused
        if u["bytes"] >= UNUSED_INDEX_BYTES
    ]
    warn += [
        f"{s['table']} ({s['rows']} rows): {s['seq_scan']} sequential scans, {s['idx_scan']} index scans"
        for s in scanned
    ]
    return Check({"unused_indexes": unused, "sequential_scans": scanned}, warn)


def cache_hit_ratio(conn: Connection, redis_url: str | None) -> Check:
    """PostgreSQL's buffer hits for this database, and Redis's keyspace hits (the whole server's)."""
    hit, read = conn.execute(
        text("SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()")
    ).one()
    figures: dict[str, Any] = {"postgres": {"hits": hit, "reads": read, "ratio": _ratio(hit, read)}}
    warn = (
        [f"PostgreSQL cache hit ratio {_ratio(hit, read)}"]
        if hit + read >= MIN_LOOKUPS and (_ratio(hit, read) or 0) < PG_HIT_WARN
        else []
    )
    if redis_url is None:
        figures["redis"] = {"configured": False}
        return Check(figures, warn)
    try:
        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        stats = client.info("stats")
        client.close()
    except redis.RedisError:
        figures["redis"] = {"configured": True, "reachable": False}
        return Check(figures, [*warn, "Redis is configured but unreachable"])
    hits, misses = int(stats["keyspace_hits"]), int(stats["keyspace_misses"])
    figures["redis"] = {
        "configured": True,
        "reachable": True,
        "hits": hits,
        "misses": misses,
        "ratio": _ratio(hits, misses),
    }
    if hits + misses >= MIN_LOOKUPS and (_ratio(hits, misses) or 0) < REDIS_HIT_WARN:
        warn.append(f"Redis cache hit ratio {_ratio(hits, misses)}")
    return Check(figures, warn)


def _ratio(hits: int, misses: int) -> float | None:
    return round(hits / (hits + misses), 4) if hits + misses else None


def etsy_quota(settings: Settings) -> Check:
    """Calls counted in the last 24 hours by the shared limiter, against ETSY_QPD."""
    from etsy_pipeline.settings import SettingsError
    from etsy_pipeline.sync.clients import build_limiter

    try:
        used = build_limiter(settings).used_today()
    except SettingsError:
        return Check({"configured": False})
    limit = settings.etsy_qpd
    figures = {
        "configured": True,
        "used": used,
        "limit": limit or None,
        "left": max(limit - used, 0) if limit else None,
    }
    return Check(figures, [f"{used} of {limit} daily Etsy calls used"] if limit and used >= QUOTA_WARN * limit else [])


def sync_lag(conn: Connection) -> Check:
    """Hours since each shop's last successful sync (never: no success yet) and its latest run's status."""
    shops = _rows(conn, _SYNC_LAG)
    warn = []
    for shop in shops:
        shop["last_success"] = shop["last_success"].isoformat() if shop["last_success"] else None
        if shop["lag_hours"] is None:
            warn.append(f"shop {shop['etsy_shop_id']} has never synced successfully")
        elif shop["lag_hours"] > SYNC_LAG_WARN_HOURS:
            warn.append(f"shop {shop['etsy_shop_id']} last synced {shop['lag_hours']:.1f} hours ago")
    return Check({"shops": shops, "warn_after_hours": SYNC_LAG_WARN_HOURS}, warn)


def push_backlog(conn: Connection) -> Check:
    """Local changes waiting for Etsy (pending or in flight), the oldest's age, and dead-lettered ones."""
    counts = conn.execute(text("SELECT status, count(*) FROM core.pending_changes GROUP BY 1"))
    by_status = {str(status): int(n) for status, n in counts}
    oldest = conn.execute(text(_OLDEST_OPEN)).scalar()
    open_ = by_status.get("pending", 0) + by_status.get("in_flight", 0)
    warn = [f"{by_status['failed']} change(s) failed for good"] if by_status.get("failed") else []
    if oldest is not None and oldest > BACKLOG_WARN_MINUTES:
        warn.append(f"{open_} change(s) waiting, the oldest for {oldest:.0f} minutes")
    return Check({"open": open_, "oldest_open_minutes": oldest, "by_status": by_status}, warn)


def collect(db: Database, settings: Settings, *, record: bool = True) -> Report:
    """Every check, in one transaction (the size sample is written only if all of them ran)."""
    with db.engine.begin() as conn:
        conn.execute(text("SET LOCAL statement_timeout = '30s'"))
        runs: dict[str, Callable[[], Check]] = {
            "slow_queries": lambda: slow_queries(conn),
            "connections": lambda: connections(conn, db),
            "table_growth": lambda: table_growth(conn, record),
            "index_usage": lambda: index_usage(conn),
            "cache_hit_ratio": lambda: cache_hit_ratio(conn, settings.redis_url),
            "etsy_quota": lambda: etsy_quota(settings),
            "sync_lag": lambda: sync_lag(conn),
            "push_backlog": lambda: push_backlog(conn),
        }
        return Report(datetime.now(UTC), {name: runs[name]() for name in CHECKS})
