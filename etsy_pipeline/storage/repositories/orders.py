"""Orders by shop and date range or status, newest first, keyset-paginated on (created time, id); local
shipments and receipt status changes queued for Etsy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from etsy_pipeline.storage.models import Order, PendingChange
from etsy_pipeline.storage.models.ops import PRIORITY_CRITICAL
from etsy_pipeline.storage.repositories.base import (
    InvalidArgumentError,
    Repository,
    check_limit,
    lock_owned,
    require_shop,
    to_view,
)
from etsy_pipeline.storage.repositories.changes import inherited_base, new_change, open_changes
from etsy_pipeline.storage.repositories.views import OrderView, Page, PendingChangeView


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

    def ship(
        self, user_id: int, etsy_receipt_id: int, *, carrier: str, tracking_code: str, note: str | None = None
    ) -> PendingChangeView:
        """Mark an order shipped locally and queue Etsy's createReceiptShipment (which e-mails the buyer).

        The same tracking code on the same receipt is queued once: a second `ship` would make Etsy add a second
        shipment and send a second e-mail.
        """
        carrier, tracking_code = carrier.strip(), tracking_code.strip()
        if not carrier:
            raise InvalidArgumentError("carrier must not be empty (use 'other' for a carrier Etsy does not list)")
        if not tracking_code:
            raise InvalidArgumentError("tracking code must not be empty")
        with self.db.session() as session:
            order = self._owned(session, user_id, etsy_receipt_id)
            key = f"shipment:{etsy_receipt_id}:{tracking_code.lower()}"
            if session.scalar(select(PendingChange.id).where(PendingChange.idempotency_key == key)) is not None:
                raise InvalidArgumentError(
                    f"tracking code {tracking_code!r} is already queued for receipt {etsy_receipt_id}"
                )
            order.is_shipped = True
            order.shipped_at = order.shipped_at or func.now()
            change = new_change(
                shop_id=order.shop_id,
                user_id=user_id,
                entity_type="receipt",
                entity_id=etsy_receipt_id,
                change_type="shipment",
                payload={"receipt_id": etsy_receipt_id, "carrier_name": carrier, "tracking_code": tracking_code,
                         "note_to_buyer": note or None},
                base_values={},
                base_updated_timestamp=order.etsy_updated_timestamp,
                priority=PRIORITY_CRITICAL,
                key=key,
            )  # fmt: skip
            view = self._queued(session, change)
        self.cache.invalidate_shop(view.shop_id, user_id)
        return view

    def set_status(
        self, user_id: int, etsy_receipt_id: int, *, was_shipped: bool | None = None, was_paid: bool | None = None
    ) -> PendingChangeView:
        """Mark an order shipped or paid (or not) locally and queue Etsy's updateShopReceipt."""
        fields = {k: v for k, v in (("was_shipped", was_shipped), ("was_paid", was_paid)) if v is not None}
        if not fields:
            raise InvalidArgumentError("nothing to change: give was_shipped and/or was_paid")
        with self.db.session() as session:
            order = self._owned(session, user_id, etsy_receipt_id)
            waiting = open_changes(session, "receipt", [etsy_receipt_id])
            waiting = [c for c in waiting if c.change_type == "order_status"]
            base, stamp = inherited_base(waiting, fields)
            base.setdefault("was_shipped", order.is_shipped)
            base.setdefault("was_paid", order.is_paid)
            if "was_shipped" in fields:
                order.is_shipped = fields["was_shipped"]
            if "was_paid" in fields:
                order.is_paid = fields["was_paid"]
            change = new_change(
                shop_id=order.shop_id,
                user_id=user_id,
                entity_type="receipt",
                entity_id=etsy_receipt_id,
                change_type="order_status",
                payload={"receipt_id": etsy_receipt_id, "fields": fields},
                base_values={k: v for k, v in base.items() if k in fields},
                base_updated_timestamp=stamp if stamp is not None else order.etsy_updated_timestamp,
                priority=PRIORITY_CRITICAL,
            )
            view = self._queued(session, change)
        self.cache.invalidate_shop(view.shop_id, user_id)
        return view

    def _owned(self, session: Session, user_id: int, etsy_receipt_id: int) -> Order:
        return lock_owned(session, Order, Order.etsy_receipt_id, etsy_receipt_id, "receipt", user_id)

    def _queued(self, session: Session, change: PendingChange) -> PendingChangeView:
        session.add(change)
        session.flush()
        return to_view(PendingChangeView, change)
