"""The business rules every figure shares, written once as SQL fragments.

The daily metrics, the customer snapshots, the checks that reconcile them with `core.orders` and the lifetime
figures of `core.customers` must agree on which orders count, what net sales are and how a buyer's lifetime is
summed: when each query spelled its own copy, one could drift from the others unnoticed. Each fragment takes the
alias of the orders table it applies to, so it fits any query (docs/analytics.md says the same in prose).
"""

from __future__ import annotations


def counted_order(alias: str = "o") -> str:
    """An order counts unless it was canceled; refunded orders still count (their refunds are subtracted)."""
    return f"{alias}.status <> 'canceled'"


def net_sales(alias: str = "o") -> str:
    """One order's net sales: items at their price, less discounts and refunds (no shipping, tax or fees)."""
    return f"({alias}.total_price - {alias}.discount_amt - {alias}.refunded_amount)"


# The same rule over a day's summed columns, as analytics.shop_daily_metrics names them.
NET_SALES = "gross_sales - discounts - refunds"


def spent(alias: str = "o") -> str:
    """What a buyer spent on one order: everything paid (grand total) less what was refunded."""
    return f"({alias}.grandtotal - {alias}.refunded_amount)"


def average(total: str, count: str) -> str:
    """A mean per order rounded to 4 places, null without orders (never a division by zero)."""
    return f"CASE WHEN {count} > 0 THEN round(({total}) / {count}, 4) END"


def customer_lifetime(alias: str = "o", units: str = "u.units") -> dict[str, str]:
    """A buyer's lifetime figures over their counted orders, column -> aggregate (the query groups by shop and
    buyer and keeps only counted orders). `units` is an order's units (its items' quantities summed, null
    without items). analytics.customers and core.customers both read a buyer this way, so they agree."""
    return {
        "first_order_at": f"min({alias}.etsy_created_at)",
        "last_order_at": f"max({alias}.etsy_created_at)",
        "order_count": "count(*)",
        "units": f"coalesce(sum({units}), 0)",
        "total_spent": f"sum{spent(alias)}",
        "average_order_value": average(f"sum{spent(alias)}", "count(*)"),
    }
