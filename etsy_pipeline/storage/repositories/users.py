"""Users of this installation and their Etsy OAuth tokens.

Token values are encrypted before they reach SQL and decrypted only when asked for; `TokenPair.__repr__`
hides them so a token never lands in a log line or a traceback by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from etsy_pipeline.storage.crypto import Cipher
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import OAuthToken, User
from etsy_pipeline.storage.repositories.base import InvalidArgumentError, NotFoundError


class AccountMismatchError(InvalidArgumentError):
    """The e-mail typed on the command line belongs to a user connected to a different Etsy account."""


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    display_name: str | None
    etsy_user_id: int | None


@dataclass(frozen=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    scopes: list[str]
    status: str


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, email: str, *, display_name: str | None = None, etsy_user_id: int | None = None) -> UserView:
        if "@" not in email:
            raise InvalidArgumentError(f"email must be an e-mail address, got {email!r}")
        with self.db.session() as session:
            user = User(email=email.strip().lower(), display_name=display_name, etsy_user_id=etsy_user_id)
            session.add(user)
            session.flush()
            return UserView(user.id, user.email, user.display_name, user.etsy_user_id)

    def get_or_create(
        self, email: str, *, display_name: str | None = None, etsy_user_id: int | None = None
    ) -> UserView:
        found = self.get_by_email(email)
        if found is not None:
            return found
        return self.create(email, display_name=display_name, etsy_user_id=etsy_user_id)

    def get_by_etsy_user_id(self, etsy_user_id: int) -> UserView | None:
        with self.db.session() as session:
            user = session.scalars(select(User).where(User.etsy_user_id == etsy_user_id)).one_or_none()
            return None if user is None else UserView(user.id, user.email, user.display_name, user.etsy_user_id)

    def for_etsy_account(self, etsy_user_id: int, email: str | None = None) -> UserView:
        """The user of an Etsy account, identified by Etsy's user id (from `getMe`), never by the e-mail alone.

        The account's existing user is returned whatever e-mail is typed; a new account gets a new user under
        `email` (or a placeholder). A typed e-mail already used by a user of another Etsy account is refused, so
        one account's token can never land on another account's user. A user created without an Etsy id (by
        hand, before any connect) is claimed by the first account connected under its e-mail.
        """
        with self.db.session() as session:
            by_etsy = session.scalars(
                select(User).where(User.etsy_user_id == etsy_user_id).with_for_update()
            ).one_or_none()
            typed = email.strip().lower() if email else None
            by_email = (
                session.scalars(select(User).where(User.email == typed).with_for_update()).one_or_none()
                if typed
                else None
            )
            if by_email is not None and by_email is not by_etsy:
                if by_email.etsy_user_id is not None or by_etsy is not None:
                    raise AccountMismatchError(
                        f"{typed} is the e-mail of another user of this installation (a different Etsy account "
                        f"than Etsy user {etsy_user_id}, who just authorized): nothing was changed; sign in to "
                        "Etsy as that user's account, or connect this account with its own e-mail"
                    )
                by_email.etsy_user_id = etsy_user_id  # an e-mail registered by hand, connected for the first time
            user = by_etsy or by_email
            if user is None:
                address = typed or f"etsy-user-{etsy_user_id}@users.invalid"
                if "@" not in address:
                    raise InvalidArgumentError(f"email must be an e-mail address, got {email!r}")
                user = User(email=address, etsy_user_id=etsy_user_id)
                session.add(user)
            session.flush()
            return UserView(user.id, user.email, user.display_name, user.etsy_user_id)

    def get_by_email(self, email: str) -> UserView | None:
        with self.db.session() as session:
            user = session.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()
            return None if user is None else UserView(user.id, user.email, user.display_name, user.etsy_user_id)


class TokenRepository:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self.db = db
        self.cipher = cipher

    def save(
        self,
        user_id: int,
        *,
        access_token: str,
        refresh_token: str,
        access_expires_at: datetime,
        refresh_expires_at: datetime | None,
        scopes: list[str],
    ) -> None:
        """Store (or replace) the user's token pair; called before a rotated refresh token is used."""
        values = {
            "user_id": user_id,
            "access_token_encrypted": self.cipher.encrypt(access_token),
            "refresh_token_encrypted": self.cipher.encrypt(refresh_token),
            "access_expires_at": access_expires_at,
            "refresh_expires_at": refresh_expires_at,
            "scopes": scopes,
            "status": "active",
            "last_error": None,
        }
        stmt = insert(OAuthToken).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[OAuthToken.user_id],
            set_={k: stmt.excluded[k] for k in values if k != "user_id"} | {"updated_at": func.now()},
        )
        with self.db.session() as session:
            session.execute(stmt)

    def get(self, user_id: int) -> TokenPair:
        with self.db.session() as session:
            row = session.scalars(select(OAuthToken).where(OAuthToken.user_id == user_id)).one_or_none()
            if row is None:
                raise NotFoundError(f"no Etsy token stored for user {user_id}: run `etsy-pipeline connect`")
            return TokenPair(
                access_token=self.cipher.decrypt(row.access_token_encrypted),
                refresh_token=self.cipher.decrypt(row.refresh_token_encrypted),
                access_expires_at=row.access_expires_at,
                refresh_expires_at=row.refresh_expires_at,
                scopes=list(row.scopes),
                status=row.status,
            )

    def mark_needs_reauth(self, user_id: int, reason: str) -> None:
        with self.db.session() as session:
            row = session.scalars(select(OAuthToken).where(OAuthToken.user_id == user_id)).one_or_none()
            if row is None:
                raise NotFoundError(f"no Etsy token stored for user {user_id}")
            row.status = "needs_reauth"
            row.last_error = reason
