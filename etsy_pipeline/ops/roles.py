"""Analyst roles: SQL access to `analytics` only, and with a scope, only to one user's shops.

An agency gives a client a PostgreSQL login that reads the analytics tables and views of the client's own
shops, and nothing else: no `core` (tokens, buyer ciphertext, seller e-mails), no `etsy_raw`, no writes. The
rows are limited by PostgreSQL itself (row-level security, migration 0006), so no query an analyst writes can
widen them. The scope lives in `analyst_access.scopes`, which analysts cannot read.

These functions run as the application's role, which owns the tables (it bypasses the policies) and needs
CREATEROLE to create a login. Passwords are sent as SCRAM verifiers computed here, so no clear-text password
is ever part of a SQL statement (which PostgreSQL may log).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories.base import InvalidArgumentError, NotFoundError

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
ANALYTICS = "analytics"
SCOPE_FUNCTION = "analytics.visible_shop_ids(name)"


class RoleError(InvalidArgumentError):
    """The role cannot be an analyst (a bad name, a privileged role) or the request cannot be met."""


@dataclass(frozen=True)
class AnalystGrant:
    role: str
    created: bool
    scope_email: str | None  # None: every shop


def _quoted(role: str) -> str:
    if not ROLE_NAME.fullmatch(role) or role.startswith("pg_"):
        raise RoleError(
            f"role name {role!r} is not allowed: use lower-case letters, digits and _ (63 at most, not pg_...)"
        )
    return f'"{role}"'


def _role_flags(conn: Connection, role: str) -> tuple[bool, bool] | None:
    """(exists as superuser or BYPASSRLS, owns the analytics schema) for an existing role, None when absent."""
    row = conn.execute(
        text(
            "SELECT r.rolsuper OR r.rolbypassrls, pg_has_role(r.rolname, n.nspowner, 'USAGE') "
            "FROM pg_roles r, pg_namespace n WHERE r.rolname = :r AND n.nspname = 'analytics'"
        ),
        {"r": role},
    ).first()
    return None if row is None else (bool(row[0]), bool(row[1]))


def _user_id(conn: Connection, email: str) -> int:
    found = conn.execute(
        text("SELECT id FROM core.users WHERE email = :e"), {"e": email.strip().lower()}
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"no user with e-mail {email.strip()!r} in this installation")
    return int(found)


def _verifier(conn: Connection, role: str, password: str) -> str:
    """The password as the SCRAM verifier libpq computes, so the clear text never reaches the server."""
    raw = conn.connection.dbapi_connection
    verifier: bytes = raw.pgconn.encrypt_password(password.encode(), role.encode(), None)  # type: ignore[union-attr]
    return verifier.decode("ascii").replace("'", "''")


def _protect_every_analytics_table(conn: Connection) -> None:
    """Row-level security on every analytics table, including any created since the migration."""
    conn.execute(
        text(
            "SELECT analyst_access.protect(c.oid::regclass) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'p')"
        )
    )


def _revoke_outside_analytics(conn: Connection, quoted: str) -> None:
    """A role that existed before keeps no direct right in the pipeline's other schemas."""
    schemas = conn.execute(
        text(
            "SELECT quote_ident(nspname) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
            "AND nspname NOT IN ('information_schema', 'analytics')"
        )
    ).scalars()
    for schema in schemas:
        conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {quoted}"))
        conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {quoted}"))
        conn.execute(text(f"REVOKE ALL ON SCHEMA {schema} FROM {quoted}"))


def grant_analyst(
    db: Database, role: str, *, user_email: str | None = None, password: str | None = None
) -> AnalystGrant:
    """Create the role if needed (LOGIN) and let it read `analytics`, scoped to `user_email`'s shops if given.

    Granting again replaces the scope (no `user_email`: every shop) and, with a password, sets the new one.
    """
    quoted = _quoted(role)
    with db.engine.begin() as conn:
        flags = _role_flags(conn, role)
        if flags is not None and any(flags):
            raise RoleError(f"role {role} owns the pipeline or bypasses row-level security: it cannot be an analyst")
        user_id = _user_id(conn, user_email) if user_email else None
        secret = f" PASSWORD '{_verifier(conn, role, password)}'" if password else ""
        # exec_driver_sql: a SCRAM verifier holds ':' and '$', which text() would read as bind parameters.
        if flags is None:
            conn.exec_driver_sql(f"CREATE ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS{secret}")
        elif secret:
            conn.exec_driver_sql(f"ALTER ROLE {quoted}{secret}")
        _revoke_outside_analytics(conn, quoted)
        conn.execute(
            text(
                "INSERT INTO analyst_access.scopes (role_name, user_id, created_role) VALUES (:r, :u, :c) "
                "ON CONFLICT (role_name) DO UPDATE SET user_id = excluded.user_id, granted_at = now()"
            ),
            {"r": role, "u": user_id, "c": flags is None},
        )
        database = conn.execute(text("SELECT quote_ident(current_database())")).scalar_one()
        conn.execute(text(f"GRANT CONNECT ON DATABASE {database} TO {quoted}"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {ANALYTICS} TO {quoted}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {ANALYTICS} TO {quoted}"))
        conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {ANALYTICS} GRANT SELECT ON TABLES TO {quoted}"))
        conn.execute(text(f"GRANT EXECUTE ON FUNCTION {SCOPE_FUNCTION} TO {quoted}"))
        _protect_every_analytics_table(conn)
    return AnalystGrant(role, flags is None, user_email.strip().lower() if user_email else None)


def revoke_analyst(db: Database, role: str) -> bool:
    """Take the role's analytics rights and scope away; drop the role if grant-analyst created it.

    Returns whether the role was dropped (a role created elsewhere, or one that still holds rights in another
    database, is kept as a login with no rights here).
    """
    quoted = _quoted(role)
    with db.engine.begin() as conn:
        created = conn.execute(
            text("DELETE FROM analyst_access.scopes WHERE role_name = :r RETURNING created_role"), {"r": role}
        ).scalar_one_or_none()
        if created is None:
            raise NotFoundError(f"{role} is not an analyst role of this installation")
        if _role_flags(conn, role) is None:
            return False  # dropped by hand already: the scope row was all that was left
        database = conn.execute(text("SELECT quote_ident(current_database())")).scalar_one()
        conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {ANALYTICS} REVOKE SELECT ON TABLES FROM {quoted}"))
        conn.execute(text(f"REVOKE SELECT ON ALL TABLES IN SCHEMA {ANALYTICS} FROM {quoted}"))
        conn.execute(text(f"REVOKE USAGE ON SCHEMA {ANALYTICS} FROM {quoted}"))
        conn.execute(text(f"REVOKE EXECUTE ON FUNCTION {SCOPE_FUNCTION} FROM {quoted}"))
        conn.execute(text(f"REVOKE CONNECT ON DATABASE {database} FROM {quoted}"))
        if not created:
            return False
        savepoint = conn.begin_nested()
        try:
            conn.execute(text(f"DROP ROLE {quoted}"))
        except DBAPIError:  # still holds rights or objects in another database: keep it, rights here are gone
            savepoint.rollback()
            return False
        savepoint.commit()
        return True
