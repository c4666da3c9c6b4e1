"""Constants of the Etsy source (configuration is the source function's signature)."""

from __future__ import annotations

LISTING_STATES = ("active", "inactive", "sold_out", "draft", "expired")
LISTING_INCLUDES = "Images,Inventory"
PAGE_LIMIT = 100
MAX_OFFSET = 12_000
EARLIEST = 946_684_800  # 2000-01-01: Etsy's minimum for every timestamp filter
DEFAULT_LOOKBACK_HOURS = 72
DEFAULT_PAYMENTS_DAYS = 7  # one call per receipt: a week of recent orders keeps fees and net current
LEDGER_WINDOW_DAYS = 365  # windows with more than 12,000 entries are split further
QUARANTINE_TABLE = "quarantine"
