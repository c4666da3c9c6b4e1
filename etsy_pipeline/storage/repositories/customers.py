"""Customers (buyers per shop, derived from orders): the best ones first."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select

from etsy_pipeline.storage.models import Customer
from etsy_pipeline.storage.repositories.base import (
    InvalidArgumentError,
    Repository,
    check_limit,
    require_shop,
    to_view,
)
from etsy_pipeline.storage.repositories.views import CustomerView

RankBy = Literal["total_spent", "order_count", "last_order_at"]
_RANK_COLUMNS = {
    "total_spent": Customer.total_spent,
    "order_count": Customer.order_count,
    "last_order_at": Customer.last_order_at,
}


class CustomerRepository(Repository):
    def top_customers(
        self, user_id: int, shop_id: int, *, limit: int = 10, by: RankBy = "total_spent"
    ) -> list[CustomerView]:
        """The shop's customers ranked by lifetime spend, order count or recency."""
        if by not in _RANK_COLUMNS:
            raise InvalidArgumentError(f"by must be one of {list(_RANK_COLUMNS)}, got {by!r}")
        check_limit(limit)
        column = _RANK_COLUMNS[by]

        def load() -> list[CustomerView]:
            with self.db.session() as session:
                require_shop(session, user_id, shop_id)
                rows = session.scalars(
                    select(Customer)
                    .where(Customer.shop_id == shop_id)
                    .order_by(column.desc(), Customer.id)
                    .limit(limit)
                )
                return [to_view(CustomerView, r) for r in rows]

        return self.cache.get_or_load(
            user_id=user_id,
            shop_id=shop_id,
            name=f"top_customers:{by}:{limit}",
            ttl=self.ttls.analytics,
            loader=load,
        )
