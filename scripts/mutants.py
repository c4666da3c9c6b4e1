"""The mutation check: each rule that matters is broken on purpose, and a test must notice.

A test suite can pass without exercising the behaviour in its name. This script keeps ours honest: for each
mutation below it copies the repository to a scratch directory, applies one small semantic change to one rule
(a look-back of zero, canceled orders counted, a cursor that never moves page by page, …), runs only the tests
that guard that rule, and expects them to fail. A mutation the tests do not notice ("survived") fails the check.

The snippet to replace must occur exactly once in its file, so the list cannot silently go stale when the code
changes: an edit that moves a rule makes the check fail with "snippet not found" until the mutation is updated.

Run: `make mutants` (or `python scripts/mutants.py [--only NAME ...] [--list]`). To add a mutation, append a
`Mutation` to MUTATIONS with the file, the exact code, its broken variant, and the tests that must kill it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    rule: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


SYNC = "etsy_pipeline_tests/sync"
PUSH = "etsy_pipeline_tests/push"
SHAPE = "etsy_pipeline_tests/transform"
MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "second-look-skipped",
        "every change is read a second time once it is `lookback` old, for changes Etsy does not stamp",
        "etsy_pipeline/sources/etsy/context.py",
        "        if cursor is None or self.lookback <= 0:",
        "        if True:",
        (
            f"{SYNC}/test_sync.py::test_an_unstamped_change_inside_the_look_back_window_is_read_again",
            f"{SYNC}/test_sync.py::test_incremental_fetches_only_what_changed_and_converges",
        ),
    ),
    Mutation(
        "cursor-only-at-window-end",
        "a cursor moves page by page, so a run stopped by the quota resumes where it stopped",
        "etsy_pipeline/sources/etsy/helpers.py",
        "            if self._ordered:\n                self._raise(stamps[-1])",
        "            if False:\n                self._raise(stamps[-1])",
        (
            f"{SYNC}/test_resilience.py::test_a_spent_daily_quota_stops_inside_the_receipts_and_each_run_resumes_from_there",
        ),
    ),
    Mutation(
        "no-killed-package-recovery",
        "a package left by a killed run is loaded and shaped by the next run, with its cursors",
        "etsy_pipeline/sync/runner.py",
        "        if pipeline.has_pending_data:\n            pipeline.normalize()",
        "        if False:\n            pipeline.normalize()",
        (f"{SYNC}/test_floor.py::test_a_sync_killed_after_its_package_exists_is_loaded_by_the_next_run",),
    ),
    Mutation(
        "no-shop-lock",
        "one pull per shop at a time; a second run ends skipped",
        "etsy_pipeline/sync/runner.py",
        "    if not held.enter_context(shop_lock(",
        "    if False and not held.enter_context(shop_lock(",
        (f"{SYNC}/test_floor.py::test_two_syncs_of_one_shop_at_once_run_one_after_the_other_never_together",),
    ),
    Mutation(
        "no-reconciliation",
        "core fewer than Etsy's count ends incomplete, never succeeded",
        "etsy_pipeline/sync/runner.py",
        "    if shortfall:\n",
        "    if False:\n",
        (f"{SYNC}/test_floor.py::test_a_cursor_forced_ahead_is_caught_by_reconciliation",),
    ),
    Mutation(
        "unchanged-by-id-alone",
        "a record is left behind only when its content equals what is stored, not because its id is known",
        "etsy_pipeline/sources/etsy/context.py",
        "r for r in good if stored.get(r.get(key)) != r[DIGEST]",
        "r for r in good if r.get(key) not in stored",
        (f"{SYNC}/test_unchanged.py::test_a_listing_edited_among_unchanged_ones_arrives_alone",),
    ),
    Mutation(
        "removals-need-a-load",
        "a listing deleted on Etsy is removed even by a run that loads nothing",
        "etsy_pipeline/transform/core/__init__.py",
        "        if not loaded and name not in SCAN_STEPS:",
        "        if not loaded:",
        (f"{SYNC}/test_unchanged.py::test_a_listing_deleted_on_etsy_is_removed_in_a_run_that_loads_nothing",),
    ),
    Mutation(
        "unchanged-ledger-entry-skips-its-payment",
        "a ledger entry whose payment did not come is read and followed again, even though it is unchanged",
        "etsy_pipeline/sources/etsy/ledger.py",
        "            return not refers_to_payment(entry) or (",
        "            return True or (",
        (
            f"{SYNC}/test_unchanged.py::"
            "test_ledger_entries_whose_payments_did_not_come_are_followed_again_though_unchanged",
        ),
    ),
    Mutation(
        "receipts-cursor-second-read-again",
        "a run where Etsy's newest receipt change was already read in full reads no receipt page",
        "etsy_pipeline/sources/etsy/receipts.py",
        "                if span.low > high:",
        "                if False:",
        (
            f"{SYNC}/test_unchanged.py::"
            "test_a_run_where_nothing_changed_loads_nothing_and_costs_the_listing_scan_and_a_few_calls",
        ),
    ),
    Mutation(
        "local-edit-outlives-etsy",
        "a listing edited locally since it was loaded is read again from Etsy, even when Etsy returns it unchanged",
        "etsy_pipeline/sync/digests.py",
        """        "AND c.state <> 'removed' " + _local_change("'listing', 'inventory'", "listing_id"),""",
        """        "AND c.state <> 'removed' ",""",
        (f"{SYNC}/test_unchanged.py::test_a_local_edit_etsy_never_took_is_put_back_by_the_next_pull",),
    ),
    Mutation(
        "ledger-ignores-refunds",
        "refunds and cancellations Etsy does not stamp are found through the ledger",
        "etsy_pipeline/sources/etsy/ledger.py",
        "    return any(isinstance(t, int) and t >= since for t in stamps)",
        "    return False",
        (
            f"{SYNC}/test_floor.py::"
            "test_a_refund_weeks_after_delivery_and_an_unstamped_cancellation_reach_core_and_analytics",
        ),
    ),
    Mutation(
        "cursors-not-saved-with-rows",
        "cursors are stored in the database, with the rows they cover",
        "etsy_pipeline/sync/runner.py",
        "        save_cursors(conn, shop_id, cursors)\n",
        "        pass\n",
        (f"{SYNC}/test_sync.py::test_incremental_fetches_only_what_changed_and_converges",),
    ),
    Mutation(
        "metrics-count-canceled",
        "the daily metrics leave canceled orders out",
        "etsy_pipeline/transform/analytics.py",
        '{in_range("o.etsy_created_at")}\n          AND {counted_order("o")}\n',
        '{in_range("o.etsy_created_at")}\n',
        (
            f"{SYNC}/test_floor.py::test_a_refund_weeks_after_delivery_and_an_unstamped_cancellation_reach_core_and_analytics",
        ),
    ),
    Mutation(
        "customers-count-canceled",
        "customers' lifetime figures leave canceled orders out",
        "etsy_pipeline/transform/core/customers.py",
        '            WHERE {counted_order("o")}\n            GROUP BY o.etsy_buyer_user_id',
        "            GROUP BY o.etsy_buyer_user_id",
        (f"{SYNC}/test_sync.py::test_an_unstamped_change_inside_the_look_back_window_is_read_again",),
    ),
    Mutation(
        "sync-leaves-cache-stale",
        "a sync (and any write) makes the cached reads of its shop stale",
        "etsy_pipeline/storage/cache.py",
        "        self._call(bump)\n\n    def invalidate_user",
        "        pass\n\n    def invalidate_user",
        (
            f"{SYNC}/test_cache_after_sync.py::test_reads_through_the_repositories_after_a_sync_serve_what_the_sync_wrote",
        ),
    ),
    Mutation(
        "buyer-name-dropped",
        "buyer personal data is kept, encrypted",
        "etsy_pipeline/sources/etsy/pii.py",
        'record["buyer_name_encrypted"] = encrypt(name) if isinstance(name, str) and name else None',
        'record["buyer_name_encrypted"] = None',
        (f"{SYNC}/test_pii.py::test_buyer_data_in_core_decrypts_to_the_emulators_buyers",),
    ),
    Mutation(
        "buyer-data-in-clear-text",
        "buyer personal data never reaches the database in clear text",
        "etsy_pipeline/sources/etsy/pii.py",
        "    address = {k: record.pop(k, None) for k in ADDRESS_FIELDS}",
        "    address = {k: record.get(k) for k in ADDRESS_FIELDS}",
        (f"{SYNC}/test_pii.py::test_no_buyer_data_is_stored_in_clear_text",),
    ),
    Mutation(
        "low-stock-strict",
        "an offering exactly at the low-stock threshold is an alert",
        "etsy_pipeline/transform/analytics.py",
        "          AND i.quantity <= coalesce(s.low_stock_threshold, :default)",
        "          AND i.quantity < coalesce(s.low_stock_threshold, :default)",
        (f"{SHAPE}/test_inventory_alerts.py::test_an_offering_exactly_at_the_threshold_is_a_low_stock_alert",),
    ),
    Mutation(
        "spend-ignores-refunds",
        "a customer's lifetime spend takes refunds off (core and analytics share the rule)",
        "etsy_pipeline/transform/rules.py",
        'return f"({alias}.grandtotal - {alias}.refunded_amount)"',
        'return f"({alias}.grandtotal)"',
        (
            f"{SHAPE}/test_customers.py::test_core_customers_leave_out_canceled_orders_and_take_refunds_off_the_spend",
            f"{SHAPE}/test_customers.py::test_analytics_customers_as_of_a_day_per_customer",
        ),
    ),
    Mutation(
        "analytics-customers-count-canceled",
        "the analytics customer snapshots leave canceled orders out",
        "etsy_pipeline/transform/analytics.py",
        'AT TIME ZONE :tz\n          AND {counted_order("o")}\n    ),\n    units',
        "AT TIME ZONE :tz\n    ),\n    units",
        (f"{SHAPE}/test_customers.py::test_analytics_customers_as_of_a_day_per_customer",),
    ),
    Mutation(
        "backfill-leaves-cache-stale",
        "a backfill of every shop refreshes their cached analytics reads",
        "etsy_pipeline/transform/backfill.py",
        "    for shop_id in shop_ids:\n        runtime.cache.invalidate_shop(shop_id)",
        "    for shop_id in shop_ids:\n        pass",
        (f"{SHAPE}/test_backfill.py::test_a_backfill_of_every_shop_refreshes_cached_daily_metrics",),
    ),
    Mutation(
        "rotation-skips-raw",
        "key rotation reaches every copy of a ciphertext, etsy_raw and its quarantine included",
        "etsy_pipeline/storage/keys.py",
        "    for table, columns in _raw_columns(db, RAW_SCHEMA).items():",
        "    for table, columns in {}.items():",
        (f"{SYNC}/test_pii.py::test_key_rotation_reencrypts_the_buyer_data_kept_in_etsy_raw",),
    ),
    Mutation(
        "rotation-skips-customers",
        "key rotation reaches the buyer data kept per customer",
        "etsy_pipeline/storage/keys.py",
        '    Customer: ("name_encrypted", "email_encrypted"),\n',
        "",
        ("etsy_pipeline_tests/storage/test_keys.py::test_rotation_puts_every_buyer_value_under_the_new_key",),
    ),
    Mutation(
        "account-by-typed-email",
        "a user is Etsy's account, never the e-mail typed: another account's e-mail is refused",
        "etsy_pipeline/storage/repositories/users.py",
        "                if by_email.etsy_user_id is not None or by_etsy is not None:",
        "                if False:",
        (
            "etsy_pipeline_tests/sync/test_connect.py::test_another_accounts_email_is_refused_and_nothing_is_overwritten",
        ),
    ),
    Mutation(
        "analyst-scope-ignored",
        "an analyst scoped to a user sees only that user's shops",
        "migrations/versions/0006_analyst_roles.py",
        "                       WHERE a.role_name = who AND (a.user_id IS NULL OR a.user_id = s.user_id))",
        "                       WHERE a.role_name = who)",
        (
            "etsy_pipeline_tests/ops/test_roles.py::"
            "test_analysts_read_analytics_only_and_scoped_ones_only_their_users_shops",
        ),
    ),
    Mutation(
        "push-conflict-ignored",
        "a field Etsy changed since the user saw it is a conflict: Etsy wins, nothing is written",
        "etsy_pipeline/push/listings.py",
        "            if name in change.base_values and not same(name, now, change.base_values[name]):",
        "            if False:",
        (f"{PUSH}/test_conflicts.py::test_seller_edit_of_the_same_title_wins",),
    ),
    Mutation(
        "push-conflict-on-any-field",
        "conflicts are decided field by field: Etsy changing another field is no conflict",
        "etsy_pipeline/push/listings.py",
        "            if name in change.base_values and not same(name, now, change.base_values[name]):",
        "            if etsy.get('updated_timestamp') != change.base_updated_timestamp:",
        (f"{PUSH}/test_conflicts.py::test_seller_edit_of_another_field_is_not_a_conflict",),
    ),
    Mutation(
        "shipment-resent-blindly",
        "a shipment whose outcome is unknown is read back, and sent again only if Etsy shows none",
        "etsy_pipeline/push/receipts.py",
        "            receipt = ctx.client.get(path, tokens=ctx.tokens)  # read back at once: did Etsy add it?\n"
        '            if has_tracking(receipt, p["tracking_code"]):',
        "            receipt = ctx.client.get(path, tokens=ctx.tokens)  # read back at once: did Etsy add it?\n"
        "            if False:",
        (f"{PUSH}/test_outcomes.py::test_shipment_answered_503_after_it_was_applied_is_sent_once",),
    ),
    Mutation(
        "client-retries-writes",
        "the client never repeats a write that may have reached Etsy",
        "etsy_pipeline/etsy/client.py",
        "                    if write and status != 429:\n",
        "                    if False:\n",
        (f"{PUSH}/test_outcomes.py::test_shipment_answered_503_after_it_was_applied_is_sent_once",),
    ),
    Mutation(
        "claims-ignore-live-leases",
        "an object another runner holds under a live lease is not claimed",
        "etsy_pipeline/push/claims.py",
        "        .where(_due(started), ~in_flight_elsewhere, token_ok)",
        "        .where(_due(started), token_ok)",
        (f"{PUSH}/test_claims.py::test_an_object_with_a_live_lease_is_not_claimed_by_another_runner",),
    ),
    Mutation(
        "no-coalescing",
        "all due inventory edits of one listing go out as one read and one write",
        "etsy_pipeline/push/claims.py",
        "PendingChange.entity_id, PendingChange.id)\n        .limit(CLAIM_ROWS)",
        "PendingChange.entity_id, PendingChange.id)\n        .limit(1)",
        (f"{PUSH}/test_push.py::test_twenty_edits_of_one_listing_cost_one_read_and_one_write",),
    ),
    Mutation(
        "batch-without-overlap",
        "a batch extracts the next shop while the previous one loads and shapes",
        "etsy_pipeline/sync/runner.py",
        "                waiting.append(finisher.submit(_finish, runtime, begun))",
        "                waiting.append(_now(partial(_finish, runtime, begun)))",
        (
            f"{SYNC}/test_batch.py::test_a_batch_pulls_the_next_shop_while_the_last_one_loads_and_counts_each_shops_calls",
        ),
    ),
    Mutation(
        "batch-stops-at-a-raising-shop",
        "one shop's unexpected error in a batch is that shop's outcome; the other shops are still pulled",
        "etsy_pipeline/sync/runner.py",
        "        result: SyncResult = future.result()\n    except Exception as exc:\n        return exc",
        "        result: SyncResult = future.result()\n    except Exception:\n        raise",
        (f"{SYNC}/test_batch.py::test_a_shop_that_raises_is_yielded_in_its_turn_and_the_others_are_still_pulled",),
    ),
    Mutation(
        "prefetch-past-the-count",
        "a page is fetched ahead only while Etsy counts records beyond it: a caller stopping at the count pays nothing",
        "etsy_pipeline/etsy/client.py",
        "not last and offset > limit and offset < count and offset <= MAX_OFFSET",
        "not last and offset > limit and offset <= MAX_OFFSET",
        ("etsy_pipeline_tests/etsy/test_paging.py::test_a_caller_that_stops_at_the_count_pays_no_page_past_it",),
    ),
    Mutation(
        "prefetch-left-in-flight",
        "a page fetched ahead that the caller no longer wants is waited for, so every call is counted in its pull",
        "etsy_pipeline/etsy/client.py",
        "            if ahead is not None and not ahead.cancel():\n                ahead.exception()",
        "            pass",
        ("etsy_pipeline_tests/etsy/test_paging.py::test_a_caller_that_stops_early_waits_for_the_page_fetched_ahead",),
    ),
    Mutation(
        "payments-last-answers-dropped",
        "the payments asked for ahead are all handed on: the last batch's answers come with the ledger's end",
        "etsy_pipeline/sources/etsy/ledger.py",
        "            yield from fast.feed(_answered())\n",
        "            pass\n",
        (
            f"{SYNC}/test_payments.py::test_payments_ledger_sections_and_reviews_equal_the_emulator_full_then_incremental",
        ),
    ),
    Mutation(
        "payments-answered-on-a-file-item",
        "payments go on with a batch of entries only, never with a ledger file item (its hints would be theirs)",
        "etsy_pipeline/sources/etsy/ledger.py",
        "        elif records_of(batch) is not None:",
        "        else:",
        (
            f"{SYNC}/test_payments.py::test_payments_ledger_sections_and_reviews_equal_the_emulator_full_then_incremental",
        ),
    ),
    Mutation(
        "nested-plan-ignores-value-types",
        "a nested dict reuses its last plan only with its keys and value types: a value that does not fit goes to dlt",
        "etsy_pipeline/sources/etsy/flatten.py",
        " and tuple(map(type, value.values())) == nested.types",
        "",
        (
            "etsy_pipeline_tests/sources/test_flatten.py::"
            "test_a_nested_dict_that_no_longer_fits_its_columns_is_left_to_dlt_after_records_that_did",
        ),
    ),
    Mutation(
        "settle-leaves-calls-in-flight",
        "calls made ahead that a failed extraction left are waited for before its run counts its calls",
        "etsy_pipeline/etsy/client.py",
        "        for future in started:\n            future.exception()",
        "        pass",
        (
            "etsy_pipeline_tests/etsy/test_paging.py::test_settle_waits_for_calls_made_ahead_and_cancels_those_not_started",
        ),
    ),
    Mutation(
        "big-int-in-a-double-column-fails-the-file",
        "an int past 2**53 in a double column is written as its nearest double, not refused by Arrow",
        "etsy_pipeline/sources/etsy/fastpath.py",
        "            if type(value) is int:\n                row[name] = float(value)",
        "            pass",
        (
            "etsy_pipeline_tests/sources/test_flatten.py::"
            "test_an_int_past_two_to_the_53_in_a_double_column_is_written_as_its_nearest_double",
        ),
    ),
    Mutation(
        "payments-end-before-earlier-batches",
        "the payments generator handed End waits for the earlier batches' generators dlt runs beside it",
        "etsy_pipeline/sources/etsy/ledger.py",
        "            while finished[0] < batch.pages:",
        "            while False:",
        (
            "etsy_pipeline_tests/etsy/test_payments_interleaved.py::"
            "test_every_payment_is_loaded_though_dlt_runs_the_batches_generators_interleaved",
        ),
    ),
    Mutation(
        "dropped-write-sent-again",
        "a write whose connection dropped after sending may have reached Etsy: it is never sent again by the client",
        "etsy_pipeline/etsy/transport.py",
        "            raise TransportFailure(type(exc).__name__, sent=True) from None",
        "            raise TransportFailure(type(exc).__name__, sent=False) from None",
        (
            "etsy_pipeline_tests/etsy/test_transport.py::test_a_connection_dropped_after_sending_leaves_the_write_unknown",
        ),
    ),
    Mutation(
        "proxy-ignored",
        "the API client goes through the proxy the environment names, except for the hosts NO_PROXY excludes",
        "etsy_pipeline/etsy/transport.py",
        'if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):',
        "if False:",
        (
            "etsy_pipeline_tests/etsy/test_transport.py::test_the_environments_proxy_is_used_unless_the_host_is_excluded",
        ),
    ),
    Mutation(
        "refused-write-given-up",
        "a write whose connection never opened certainly did not arrive: the client sends it again",
        "etsy_pipeline/etsy/transport.py",
        "            raise TransportFailure(type(exc).__name__, sent=False) from None",
        "            raise TransportFailure(type(exc).__name__, sent=True) from None",
        ("etsy_pipeline_tests/etsy/test_transport.py::test_a_connection_never_opened_is_a_write_that_was_not_sent",),
    ),
    Mutation(
        "appended-copies-kept",
        "a first load appends, so the rows it holds twice (a file loaded again after a kill) go before shaping",
        "etsy_pipeline/transform/dedupe.py",
        "                    WHERE ranked.n > 1 AND d.ctid = ranked.at\n                    RETURNING d._dlt_id",
        "                    WHERE false AND d.ctid = ranked.at\n                    RETURNING d._dlt_id",
        (
            f"{SYNC}/test_first_load.py::test_a_first_load_killed_after_a_file_was_copied_loads_it_again_and_keeps_one_copy[receipts]",
            f"{SYNC}/test_first_load.py::test_a_first_load_killed_after_a_file_was_copied_loads_it_again_and_keeps_one_copy[ledger_entries]",
        ),
    ),
    Mutation(
        "appended-child-copies-kept",
        "a child file loaded again after a kill leaves one copy of each child row",
        "etsy_pipeline/transform/dedupe.py",
        '                WHERE ranked.n > 1 AND d.ctid = ranked.at\n                """,',
        '                WHERE false AND d.ctid = ranked.at\n                """,',
        (
            f"{SYNC}/test_first_load.py::test_a_first_load_killed_after_a_file_was_copied_loads_it_again_and_keeps_one_copy[receipts__transactions]",
        ),
    ),
    Mutation(
        "merged-copies-kept",
        "a merged file loaded twice after a kill (dlt inserts both copies of a picked `_dlt_id`) keeps one copy",
        "etsy_pipeline/transform/dedupe.py",
        "        if not reloaded and (root not in FIRST_LOAD_APPENDS",
        '        if root == "listings" or not reloaded and (root not in FIRST_LOAD_APPENDS',
        (
            f"{SYNC}/test_first_load.py::test_a_first_load_killed_after_a_file_was_copied_loads_it_again_and_keeps_one_copy[listings]",
        ),
    ),
    Mutation(
        "etsy-repeats-kept",
        "a first load appends, so what Etsy sent twice in it (a payment two ledger batches refer to) stays once",
        "etsy_pipeline/transform/dedupe.py",
        "    return bool(conn.execute(text(sql), p).scalar())",
        "    return False",
        (f"{SYNC}/test_first_load.py::test_the_first_load_of_a_shop_appends_and_the_next_ones_merge",),
    ),
    Mutation(
        "reload-not-told",
        "the shaping of a killed run's package, loaded again, looks for files the package holds twice",
        "etsy_pipeline/sync/runner.py",
        "progress.cursors if progress else {}, True)",
        "progress.cursors if progress else {}, False)",
        (
            f"{SYNC}/test_first_load.py::test_a_first_load_killed_after_a_file_was_copied_loads_it_again_and_keeps_one_copy[receipts__transactions]",
        ),
    ),
    Mutation(
        "unfinished-load-shaped",
        "rows of a load that never finished (its package lost with its process) are never shaped",
        "etsy_pipeline/transform/dedupe.py",
        "              AND NOT EXISTS (SELECT 1 FROM {loads} l WHERE l.load_id = r._dlt_load_id AND l.status = 0)",
        "              AND false",
        (f"{SYNC}/test_first_load.py::test_rows_of_a_load_that_never_finished_are_never_shaped",),
    ),
    Mutation(
        "lanes-without-a-shared-budget",
        "a batch is split into processes only where Etsy's budget is shared (Redis) or unlimited",
        "etsy_pipeline/sync/runner.py",
        "    return bool(s.redis_url) or (s.etsy_qps == 0 and s.etsy_qpd == 0)",
        "    return True",
        (f"{SYNC}/test_lanes.py::test_without_a_shared_budget_a_batch_stays_in_one_process",),
    ),
    Mutation(
        "append-after-the-first-load",
        "only a table holding no row of the shop is appended to: later loads merge, so raw keeps one row per key",
        "etsy_pipeline/transform/raw.py",
        '        if not conn.execute(held, {"s": etsy_shop_id}).scalar():',
        "        if True:",
        (f"{SYNC}/test_first_load.py::test_the_first_load_of_a_shop_appends_and_the_next_ones_merge",),
    ),
    Mutation(
        "owners-split-across-lanes",
        "an owner's shops share one lane, so one process alone refreshes the owner's OAuth token",
        "etsy_pipeline/sync/lanes.py",
        "        groups.setdefault(owner, []).append(shop_id)",
        "        groups.setdefault(shop_id, []).append(shop_id)",
        (f"{SYNC}/test_lanes.py::test_shops_are_dealt_by_owner_to_the_emptiest_lane_in_the_batchs_order",),
    ),
)


def _copy(dest: Path) -> None:
    """The files git knows (tracked and new, not ignored): what a clone of this working tree would hold."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    for raw in files:
        if not raw:
            continue
        source = ROOT / raw.decode()
        if source.is_file():
            target = dest / raw.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _run(scratch: Path, mutation: Mutation) -> tuple[str, list[str], float]:
    path = scratch / mutation.path
    original = path.read_text()
    if original.count(mutation.old) != 1:
        return "stale: snippet not found exactly once", [], 0.0
    path.write_text(original.replace(mutation.old, mutation.new))
    env = dict(os.environ, PYTHONPATH=str(scratch), PYTHONDONTWRITEBYTECODE="1")
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-rf", *mutation.tests],
            cwd=scratch, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    finally:
        path.write_text(original)
    seconds = time.perf_counter() - started
    killers = re.findall(r"^FAILED (\S+)", done.stdout, flags=re.MULTILINE)
    if done.returncode == 0:
        return "SURVIVED", [], seconds
    if done.returncode == 1 and killers:
        return "killed", killers, seconds
    tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
    return f"error (pytest exit {done.returncode})", tail, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run only these mutations (by name)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    if args.list or not chosen:
        for m in MUTATIONS:
            print(f"{m.name:32} {m.rule}")
        return 0 if args.list else 2
    failed = 0
    with tempfile.TemporaryDirectory(prefix="etsy-mutants-") as tmp:
        scratch = Path(tmp)
        _copy(scratch)
        for m in chosen:
            verdict, detail, seconds = _run(scratch, m)
            failed += verdict != "killed"
            print(f"{m.name:32} {verdict:10} {seconds:6.1f}s  {m.path}")
            for line in detail:
                print(f"{'':32}   {'killed by ' if verdict == 'killed' else ''}{line}")
            sys.stdout.flush()
    print(f"{len(chosen) - failed} of {len(chosen)} mutations killed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
