"""Orders by shop and date range or status, newest first, keyset-paginated on (created time, id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from etsy_pipeline.storage.models import Order
from etsy_pipeline.storage.repositories.base import (
    InvalidArgumentError,
    Repository,
    check_limit,
    require_shop,
    to_view,
)
from etsy_pipeline.storage.repositories.views import OrderView, Page


def _encode_cursor(order: OrderView) -> str:
    return f"{order.etsy_created_at.isoformat()}|{order.id}"


def _decode_cursor(after: str) -> tuple[datetime, int]:
    try:
        created, ident = after.rsplit("|", 1)
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError
        return moment, int(ident)
    except ValueError:
        raise InvalidArgumentError(f"after must be a cursor returned by a previous page, got {after!r}") from None


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidArgumentError(f"{name} must be timezone-aware, got {value.isoformat()}")


class OrderRepository(Repository):
    def by_shop(
        self,
        user_id: int,
        shop_id: int,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        status: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[OrderView]:
        """Orders created in [start, end), optionally with one status, newest first."""
        _aware("start", start)
        _aware("end", end)
        if start is not None and end is not None and end < start:
            raise InvalidArgumentError(f"end {end.isoformat()} is before start {start.isoformat()}")
        check_limit(limit)
        cursor = _decode_cursor(after) if after else None

        def load() -> Page[OrderView]:
            query = select(Order).where(Order.shop_id == shop_id)
            if start is not None:
                query = query.where(Order.etsy_created_at >= start)
            if end is not None:
                query = query.where(Order.etsy_created_at < end)
            if status is not None:
                query = query.where(Order.status == status)
            if cursor is not None:
                moment, ident = cursor
                query = query.where(
                    or_(Order.etsy_created_at < moment, (Order.etsy_created_at == moment) & (Order.id < ident))
                )
            query = query.order_by(Order.etsy_created_at.desc(), Order.id.desc()).limit(limit + 1)
            with self.db.session() as session:
                require_shop(session, user_id, shop_id)
                rows = list(session.scalars(query))
            items = [to_view(OrderView, r) for r in rows[:limit]]
            return Page(items=items, next_cursor=_encode_cursor(items[-1]) if len(rows) > limit else None)

        key = ":".join(
            str(part) for part in ("orders", start and start.isoformat(), end and end.isoformat(), status, after, limit)
        )
        return self.cache.get_or_load(user_id=user_id, shop_id=shop_id, name=key, ttl=self.ttls.orders, loader=load)

    def by_status(
        self, user_id: int, shop_id: int, status: str, *, after: str | None = None, limit: int = 100
    ) -> Page[OrderView]:
        """Orders with one Etsy status (e.g. 'paid' waiting to ship), newest first."""
        if not status:
            raise InvalidArgumentError("status must not be empty")
        return self.by_shop(user_id, shop_id, status=status, after=after, limit=limit)
