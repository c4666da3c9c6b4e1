"""The push commands: `stock set|adjust|import`, `listing edit`, `ship`, `receipt update`, `push`,
`push status`, `push retry`.

Every id is Etsy's (what the seller sees). Values are read here rather than by argparse so a bad one is one line
naming the option and the value (exit 2), and nothing is applied. A change is made by the owner of the shop the
object belongs to.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from etsy_pipeline.etsy.writes import LISTING_FIELDS
from etsy_pipeline.push.stocktake import read_stocktake
from etsy_pipeline.runtime import Runtime, open_runtime
from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.models import Listing, Order, Shop
from etsy_pipeline.storage.repositories.base import InvalidArgumentError, NotFoundError
from etsy_pipeline.storage.repositories.changes import ChangeRepository
from etsy_pipeline.storage.repositories.offering_edits import OfferingEdit, parse_price
from etsy_pipeline.storage.repositories.views import PendingChangeView

console = Console()
err_console = Console(stderr=True, soft_wrap=True)
EXIT_BAD_INPUT, EXIT_QUOTA, EXIT_REAUTH = 2, 3, 6  # the same meanings as `sync`
Handler = Callable[[argparse.Namespace, Settings], int]


def one_line_errors(handler: Handler) -> Handler:
    """Bad input is one unwrapped line (a long stocktake report too) and exit 2; nothing was applied."""

    @functools.wraps(handler)
    def wrapped(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return handler(args, settings)
        except (InvalidArgumentError, NotFoundError) as exc:
            err_console.print(f"error: {exc}", markup=False, highlight=False)
            return EXIT_BAD_INPUT

    return wrapped


def number(option: str, raw: str | None, *, signed: bool = False) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    digits = text[1:] if signed and text[:1] in "+-" else text
    if not digits.isdigit():
        raise InvalidArgumentError(f"{option}: expected {'an integer' if signed else 'a whole number'}, got {raw!r}")
    return int(text)


def etsy_id(option: str, raw: str) -> int:
    value = number(option, raw)
    if not value:
        raise InvalidArgumentError(f"{option}: expected an Etsy id, got {raw!r}")
    return value


def owner(runtime: Runtime, *, listing: int | None = None, receipt: int | None = None) -> int:
    """The user who owns the shop of an Etsy listing or receipt (the user a change is made for)."""
    with runtime.db.session() as session:
        if listing is not None:
            found = session.scalar(select(Shop.user_id).join(Listing, Listing.shop_id == Shop.id)
                                   .where(Listing.etsy_listing_id == listing))  # fmt: skip
            what = f"listing {listing}"
        else:
            found = session.scalar(select(Shop.user_id).join(Order, Order.shop_id == Shop.id)
                                   .where(Order.etsy_receipt_id == receipt))  # fmt: skip
            what = f"receipt {receipt}"
    if found is None:
        raise NotFoundError(f"{what} not found (run `etsy-pipeline sync` if it is new on Etsy)")
    return int(found)


def queued(changes: list[PendingChangeView], what: str) -> None:
    ids = ", ".join(str(c.id) for c in changes[:10]) + (" …" if len(changes) > 10 else "")
    console.print(f"queued {len(changes)} change(s) for Etsy ({what}): {ids}; `etsy-pipeline push` sends them")


def _stock_set(args: argparse.Namespace, settings: Settings) -> int:
    listing = etsy_id("--listing", args.listing)
    if (args.sku is None) == (args.variation is None):
        raise InvalidArgumentError("give exactly one of --sku and --variation")
    quantity = number("--quantity", args.quantity)
    delta = number("--by", getattr(args, "by", None), signed=True)
    price: Decimal | None = None
    if getattr(args, "price", None) is not None:
        try:
            price = parse_price(args.price)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"--price: {exc}") from None
    edit = OfferingEdit(
        listing, sku=args.sku, variation_key=args.variation, quantity=quantity, delta=delta, price=price
    )
    with open_runtime(settings) as runtime:
        changes = runtime.repos.inventory.edit_offerings(owner(runtime, listing=listing), [edit])
    queued(changes, edit.describe())
    return 0


def _stock_import(args: argparse.Namespace, settings: Settings) -> int:
    edits, problems = read_stocktake(Path(args.file))
    if not edits:
        raise InvalidArgumentError("; ".join(problems))
    with open_runtime(settings) as runtime:
        user = owner(runtime, listing=edits[0].etsy_listing_id)
        changes = runtime.repos.inventory.edit_offerings(user, edits, errors=problems)
    queued(changes, f"stocktake {args.file}, {len(edits)} row(s)")
    return 0


def _listing_edit(args: argparse.Namespace, settings: Settings) -> int:
    listing = etsy_id("--listing", args.listing)
    fields: dict[str, Any] = {}
    for name, spec in LISTING_FIELDS.items():
        raw = getattr(args, name)
        if raw is None:
            continue
        try:
            fields[name] = spec.parse(raw)
        except ValueError as exc:
            raise InvalidArgumentError(f"--{name.replace('_', '-')}: {raw!r} {exc}".rstrip()) from None
    with open_runtime(settings) as runtime:
        change = runtime.repos.listings.edit(owner(runtime, listing=listing), listing, fields)
    queued([change], f"listing {listing}: {', '.join(fields)}")
    return 0


def _ship(args: argparse.Namespace, settings: Settings) -> int:
    receipt = etsy_id("--receipt", args.receipt)
    with open_runtime(settings) as runtime:
        change = runtime.repos.orders.ship(
            owner(runtime, receipt=receipt), receipt, carrier=args.carrier, tracking_code=args.tracking, note=args.note
        )
    queued([change], f"shipment of receipt {receipt}")
    return 0


def _receipt_update(args: argparse.Namespace, settings: Settings) -> int:
    receipt = etsy_id("--receipt", args.receipt)
    flags = {}
    for option, raw in (("--was-shipped", args.was_shipped), ("--was-paid", args.was_paid)):
        if raw is not None:
            if raw.lower() not in ("true", "false"):
                raise InvalidArgumentError(f"{option}: expected true or false, got {raw!r}")
            flags[option] = raw.lower() == "true"
    with open_runtime(settings) as runtime:
        change = runtime.repos.orders.set_status(
            owner(runtime, receipt=receipt), receipt,
            was_shipped=flags.get("--was-shipped"), was_paid=flags.get("--was-paid"),
        )  # fmt: skip
    queued([change], f"status of receipt {receipt}")
    return 0


def _push(args: argparse.Namespace, settings: Settings) -> int:
    if args.push_action == "status":
        return _status(args, settings)
    if args.push_action == "retry":
        return _retry(args, settings)
    from etsy_pipeline.push.engine import push_due
    from etsy_pipeline.sync.clients import build_access

    shops = [etsy_id("--shop", s) for s in args.shop] if args.shop else None
    with open_runtime(settings) as runtime:
        access = build_access(settings, runtime.repos.tokens)
        try:
            summary = push_due(runtime, access, shops)
        finally:
            access.close()
    table = Table("confirmed", "conflict", "retry later", "failed", "waiting", "Etsy calls", title="push")
    table.add_row(*(str(v) for v in summary.as_metadata().values()))
    console.print(table)
    for error in summary.errors[:20]:
        console.print(f"  {error}", markup=False, highlight=False)
    if summary.stopped is not None:
        console.print(f"stopped: {summary.stopped}; the next run resumes", markup=False)
        return EXIT_QUOTA
    return EXIT_REAUTH if summary.waiting else 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    with open_runtime(settings) as runtime:
        changes = ChangeRepository(runtime.db, runtime.cache)
        counts, rows = changes.counts(), changes.unconfirmed()
    if args.json:
        body = {"counts": counts, "changes": [vars(r) for r in rows]}
        sys.stdout.write(orjson.dumps(body).decode() + "\n")
        return 0
    console.print("  ".join(f"{k}: {v}" for k, v in counts.items()))
    table = Table("id", "kind", "shop", "Etsy id", "state", "attempts", "error")
    for r in rows:
        table.add_row(str(r.id), r.kind, str(r.shop_id), str(r.etsy_id), r.state, str(r.attempts), r.error or "")
    console.print(table)
    return 0


def _retry(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.ids) == bool(args.failed):
        raise InvalidArgumentError("give change ids or --failed (not both)")
    ids = [etsy_id("change id", raw) for raw in args.ids] if args.ids else None
    with open_runtime(settings) as runtime:
        done = ChangeRepository(runtime.db, runtime.cache).retry(ids)
    console.print(f"{len(done)} change(s) back to pending")
    return 0


def register(commands: Any) -> None:
    """Add the push commands to the `etsy-pipeline` parser's sub-commands."""
    stock = commands.add_parser("stock", help="change stock and prices (queued for Etsy)")
    actions = stock.add_subparsers(dest="stock_command", required=True, metavar="COMMAND")
    for name, text in (("set", "set an offering's quantity and/or price"), ("adjust", "add to or take from stock")):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("--listing", required=True, help="Etsy listing id")
        sub.add_argument("--sku", help="the offering's SKU")
        sub.add_argument("--variation", help="the offering's variation key (property_id:value_id|…) when it has no SKU")
        if name == "set":
            sub.add_argument("--quantity", help="new stock (0 to 999)")
            sub.add_argument("--price", help="new price in the shop's currency, e.g. 12.50")
        else:
            sub.add_argument("--by", required=True, help="stock change, e.g. 5 or -2")
            sub.set_defaults(quantity=None)
        sub.set_defaults(handler=one_line_errors(_stock_set))
    stock_import = actions.add_parser("import", help="apply a stocktake CSV (listing_id,sku,quantity) at once")
    stock_import.add_argument("file", help="CSV file")
    stock_import.set_defaults(handler=one_line_errors(_stock_import))

    listing = commands.add_parser("listing", help="edit listings (queued for Etsy)")
    listing_actions = listing.add_subparsers(dest="listing_command", required=True, metavar="COMMAND")
    edit = listing_actions.add_parser("edit", help="change fields Etsy's updateListing accepts")
    edit.add_argument("--listing", required=True, help="Etsy listing id")
    for name in LISTING_FIELDS:
        edit.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"new {name} (lists comma-separated)")
    edit.set_defaults(handler=one_line_errors(_listing_edit))

    ship = commands.add_parser("ship", help="mark an order shipped with tracking (queued for Etsy)")
    ship.add_argument("--receipt", required=True, help="Etsy receipt id")
    ship.add_argument("--carrier", required=True, help="carrier name as Etsy lists it, or 'other'")
    ship.add_argument("--tracking", required=True, help="tracking code")
    ship.add_argument("--note", help="note to the buyer")
    ship.set_defaults(handler=one_line_errors(_ship))

    receipt = commands.add_parser("receipt", help="change an order's status (queued for Etsy)")
    receipt_actions = receipt.add_subparsers(dest="receipt_command", required=True, metavar="COMMAND")
    update = receipt_actions.add_parser("update", help="mark an order shipped or paid (true/false)")
    update.add_argument("--receipt", required=True, help="Etsy receipt id")
    update.add_argument("--was-shipped", dest="was_shipped", help="true or false")
    update.add_argument("--was-paid", dest="was_paid", help="true or false")
    update.set_defaults(handler=one_line_errors(_receipt_update))

    push = commands.add_parser("push", help="send due local changes to Etsy; `push status`, `push retry`")
    push.add_argument("--shop", action="append", help="Etsy shop id (repeatable; default: all)")
    push.epilog = "exit status: 0 done, 2 bad input, 3 the daily quota ran out, 6 a shop needs `connect` again"
    push.set_defaults(handler=one_line_errors(_push), push_action=None)
    push_actions = push.add_subparsers(dest="push_action", metavar="ACTION")
    status = push_actions.add_parser("status", help="counts and every change not confirmed")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    retry = push_actions.add_parser("retry", help="put failed changes back to pending")
    retry.add_argument("ids", nargs="*", help="change ids")
    retry.add_argument("--failed", action="store_true", help="every failed change")
