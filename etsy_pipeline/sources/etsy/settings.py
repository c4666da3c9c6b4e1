"""Constants of the Etsy source (configuration is the source function's signature)."""

from __future__ import annotations

LISTING_STATES = ("active", "inactive", "sold_out", "draft", "expired")
LISTING_INCLUDES = "Images,Inventory"
EARLIEST = 946_684_800  # 2000-01-01: Etsy's minimum for every timestamp filter
DEFAULT_LOOKBACK_HOURS = 72
LEDGER_WINDOW_DAYS = 365  # windows with more than 12,000 entries are split further
LEDGER_HISTORY_DAYS = 3 * 365  # how far back a first read of the ledger goes
MAX_IDS = 100  # ids per batch call (getPaymentAccountLedgerEntryPayments, getPayments)
NEWEST_FIRST_WINDOW = 2_000  # endpoints paging newest first: windows this small bound a stopped run's re-read
DEFAULT_DEEP_REREAD_DAYS = 30
DEFAULT_DEEP_REREAD_HOURS = 24
QUARANTINE_TABLE = "quarantine"
