"""People who connect shops, and their Etsy OAuth tokens (encrypted at rest)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etsy_pipeline.storage.base import CORE, Base, Timestamps, id_column


class User(Timestamps, Base):
    """An account of this installation; one user manages many shops."""

    __tablename__ = "users"
    __table_args__ = {"schema": CORE}

    id: Mapped[int] = id_column()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    etsy_user_id: Mapped[int | None] = mapped_column(unique=True)


class OAuthToken(Timestamps, Base):
    """The current Etsy token pair of a user. Both values are Fernet ciphertext; refresh rotates both."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'needs_reauth')", name="status"),
        {"schema": CORE},
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.users.id", ondelete="CASCADE"), unique=True)
    access_token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    refresh_token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    status: Mapped[str] = mapped_column(String(20), server_default="active")
    last_error: Mapped[str | None] = mapped_column(Text)
