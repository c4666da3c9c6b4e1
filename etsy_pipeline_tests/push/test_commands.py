"""The push commands as a user types them: Etsy ids, one-line errors with exit 2, nothing applied on bad input."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from etsy_pipeline import cli
from etsy_pipeline.storage.models import Inventory, PendingChange
from etsy_pipeline_tests.push.conftest import Pushing


@pytest.fixture
def run(pushing: Pushing, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cli, "get_settings", lambda: pushing.runtime.settings)

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


def _pending(pushing: Pushing) -> int:
    with pushing.runtime.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(PendingChange)) or 0)


def test_stock_ship_and_push_from_the_command_line(pushing: Pushing, run) -> None:  # type: ignore[no-untyped-def]
    listing = pushing.listings(variations=True)[0]
    sku = listing.inventory.products[0].sku
    receipt = pushing.open_receipts()[0]
    assert run("stock", "set", "--listing", str(listing.listing_id), "--sku", sku, "--quantity", "31")[0] == 0
    code, _, _ = run("ship", "--receipt", str(receipt.receipt_id), "--carrier", "usps", "--tracking", "CLI123")
    assert code == 0

    code, out, _ = run("push")

    assert code == 0 and "confirmed" in out
    assert pushing.etsy_offerings(listing.listing_id)[sku]["quantity"] == 31
    shipments = pushing.etsy(f"/shops/{pushing.etsy_shop_id}/receipts/{receipt.receipt_id}")["shipments"]
    assert "CLI123" in [s["tracking_code"] for s in shipments]
    code, out, _ = run("push", "status", "--json")
    assert code == 0
    assert orjson.loads(out) == {
        "counts": {"pending": 0, "in_flight": 0, "confirmed": 2, "conflict": 0, "failed": 0},
        "changes": [],
    }


def test_status_json_names_etsy_ids_and_both_values_of_a_conflict(pushing: Pushing, run) -> None:  # type: ignore[no-untyped-def]
    listing = pushing.listings()[3]
    assert run("listing", "edit", "--listing", str(listing.listing_id), "--title", "Mine", "--tags", "a,b")[0] == 0
    pushing.inst.admin("seller/listing", listing_id=listing.listing_id, title="Theirs")
    assert run("push")[0] == 0

    body = orjson.loads(run("push", "status", "--json")[1])

    assert body["counts"]["conflict"] == 1
    (change,) = body["changes"]
    assert change["kind"] == "listing_update" and change["state"] == "conflict"
    assert (change["shop_id"], change["etsy_id"]) == (pushing.etsy_shop_id, listing.listing_id)
    assert change["local_value"] == {"title": "Mine", "tags": ["a", "b"]}
    assert change["etsy_value"] == {"title": "Theirs"}
    assert set(change) == {
        "id",
        "kind",
        "shop_id",
        "etsy_id",
        "state",
        "attempts",
        "error",
        "local_value",
        "etsy_value",
    }


def test_a_bad_stocktake_line_is_named_and_nothing_is_applied(pushing: Pushing, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good, other = pushing.listings(variations=False)[:2]
    sku, other_sku = good.inventory.products[0].sku, other.inventory.products[0].sku
    csv = tmp_path / "stocktake.csv"
    csv.write_text(
        f"listing_id,sku,quantity\n{good.listing_id},{sku},12\n{other.listing_id},{other_sku},lots\n"
        f"{good.listing_id},NO-SUCH-SKU,3\n"
    )
    with pushing.runtime.db.session() as session:
        before = sorted(session.scalars(select(Inventory.quantity).order_by(Inventory.id)))

    code, _, err = run("stock", "import", str(csv))

    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "line 3: quantity 'lots'" in err and "line 4:" in err and "NO-SUCH-SKU" in err
    assert _pending(pushing) == 0
    with pushing.runtime.db.session() as session:
        assert sorted(session.scalars(select(Inventory.quantity).order_by(Inventory.id))) == before


def test_a_good_stocktake_applies_every_row_in_one_go(pushing: Pushing, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    listing = pushing.listings(variations=True)[0]
    rows = [(p.sku, n + 2) for n, p in enumerate(listing.inventory.products)]
    csv = tmp_path / "stocktake.csv"
    csv.write_text("listing_id,sku,quantity\n" + "".join(f"{listing.listing_id},{s},{q}\n" for s, q in rows))
    assert run("stock", "import", str(csv))[0] == 0
    assert _pending(pushing) == len(rows)
    assert run("push")[0] == 0
    assert {s: v["quantity"] for s, v in pushing.etsy_offerings(listing.listing_id).items()} == dict(rows)


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["stock", "set", "--listing", "abc", "--sku", "X", "--quantity", "1"], "--listing"),
        (["stock", "set", "--listing", "1", "--sku", "X", "--quantity", "-4"], "--quantity"),
        (["stock", "set", "--listing", "1", "--sku", "X", "--price", "free"], "--price"),
        (["listing", "edit", "--listing", "1", "--state", "gone"], "--state"),
        (["receipt", "update", "--receipt", "1", "--was-paid", "maybe"], "--was-paid"),
        (["push", "--shop", "99"], "--shop 99"),
        (["push", "retry"], "--failed"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(pushing: Pushing, run, argv: list[str], named: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(*argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and named in err
    assert _pending(pushing) == 0


def test_push_retry_puts_dead_letters_back(pushing: Pushing, run) -> None:  # type: ignore[no-untyped-def]
    listing = pushing.listings()[4]
    assert run("listing", "edit", "--listing", str(listing.listing_id), "--title", "A % B % C")[0] == 0
    assert run("push")[0] == 0  # Etsy refuses the title: failed, and the run itself is fine
    (failed,) = orjson.loads(run("push", "status", "--json")[1])["changes"]
    assert failed["state"] == "failed" and "title" in failed["error"]

    code, _, err = run("push", "retry", str(failed["id"] + 1000))
    assert code == 2 and "does not exist" in err
    assert run("push", "retry", str(failed["id"]))[0] == 0

    body = orjson.loads(run("push", "status", "--json")[1])
    assert body["counts"]["pending"] == 1 and body["counts"]["failed"] == 0
    assert (body["changes"][0]["state"], body["changes"][0]["attempts"]) == ("pending", 0)
