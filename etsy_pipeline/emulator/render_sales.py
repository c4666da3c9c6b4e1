"""Etsy's JSON shapes for what a sale leaves: receipts, transactions, payments, ledger entries and reviews.

Complete like `render.py`: every property the OpenAPI schema lists, null where Etsy sends null. Payment
adjustment and ledger amounts are plain ints in minor units, as Etsy sends them; Money elsewhere.
"""

from __future__ import annotations

from etsy_pipeline.emulator.models import Adjustment, Currency, LedgerEntry, Receipt, Review, Shop, Transaction
from etsy_pipeline.emulator.payments import fee
from etsy_pipeline.emulator.render import Json, money, property_value


def transaction(t: Transaction, r: Receipt, seller_user_id: int, currency: Currency) -> Json:
    return {
        "transaction_id": t.transaction_id,
        "title": t.title,
        "description": None,
        "seller_user_id": seller_user_id,
        "buyer_user_id": r.buyer_user_id,
        "create_timestamp": t.created,
        "created_timestamp": t.created,
        "paid_timestamp": t.paid if r.is_paid else None,
        "shipped_timestamp": t.shipped,
        "quantity": t.quantity,
        "listing_image_id": t.image_id,
        "receipt_id": r.receipt_id,
        "is_digital": False,
        "file_data": "",
        "listing_id": t.listing_id,
        "transaction_type": "listing",
        "product_id": t.product_id,
        "sku": t.sku,
        "price": money(t.price, currency),
        "shipping_cost": money(t.shipping_cost, currency),
        "variations": [
            {
                "property_id": v.property_id,
                "value_id": v.value_id,
                "formatted_name": v.property_name,
                "formatted_value": v.value,
                "question_id": None,
            }
            for v in t.property_values
        ],
        "product_data": [property_value(v) for v in t.property_values],
        "shipping_profile_id": r.shop_id + 7,
        "min_processing_days": 1,
        "max_processing_days": 3,
        "shipping_method": None,
        "shipping_upgrade": None,
        "expected_ship_date": t.created + 3 * 86_400,
        "buyer_coupon": 0.0,
        "shop_coupon": t.shop_coupon,
    }


def receipt(r: Receipt, s: Shop, seller_email: str) -> Json:
    c = s.currency
    a = r.address
    lines = [a.name, a.first_line, a.second_line, f"{a.city} {a.state or ''} {a.zip}".replace("  ", " "), a.country_iso]
    return {
        "receipt_id": r.receipt_id,
        "receipt_type": 0,
        "seller_user_id": s.user_id,
        "seller_email": seller_email,
        "buyer_user_id": r.buyer_user_id,
        "buyer_email": None,  # Etsy withholds buyer e-mail unless granted access
        "name": a.name,
        "first_line": a.first_line,
        "second_line": a.second_line,
        "city": a.city,
        "state": a.state,
        "zip": a.zip,
        "status": r.status,
        "formatted_address": "\n".join(line for line in lines if line),
        "country_iso": a.country_iso,
        "payment_method": r.payment_method,
        "payment_email": None,
        "message_from_seller": None,
        "message_from_buyer": r.message_from_buyer,
        "message_from_payment": None,
        "is_paid": r.is_paid,
        "is_shipped": r.is_shipped,
        "create_timestamp": r.created,
        "created_timestamp": r.created,
        "update_timestamp": r.updated,
        "updated_timestamp": r.updated,
        "is_gift": r.is_gift,
        "gift_message": r.gift_message,
        "gift_sender": a.name.split(" ")[0] if r.is_gift else "",
        "grandtotal": money(r.grandtotal, c),
        "subtotal": money(r.subtotal, c),
        "total_price": money(r.total_price, c),
        "total_shipping_cost": money(r.shipping, c),
        "total_tax_cost": money(r.tax, c),
        "total_vat_cost": money(0, c),
        "discount_amt": money(r.discount, c),
        "gift_wrap_price": money(r.gift_wrap, c),
        "shipments": [
            {
                "receipt_shipping_id": sh.receipt_shipping_id,
                "shipment_notification_timestamp": sh.created,
                "carrier_name": sh.carrier_name,
                "tracking_code": sh.tracking_code,
            }
            for sh in r.shipments
        ],
        "transactions": [transaction(t, r, s.user_id, c) for t in r.transactions],
        "refunds": [
            {
                "amount": money(f.amount, c),
                "created_timestamp": f.created,
                "reason": f.reason,
                "note_from_issuer": f.note,
                "status": "complete",
            }
            for f in r.refunds
        ],
    }


def adjustment(a: Adjustment) -> Json:
    """A PaymentAdjustment; amounts are plain ints in the shop currency's minor units, as Etsy sends them."""
    return {
        "payment_adjustment_id": a.payment_adjustment_id,
        "payment_id": a.payment_id,
        "status": "COMPLETED",
        "is_success": True,
        "user_id": a.user_id,
        "reason_code": a.reason_code,
        "total_adjustment_amount": a.amount,
        "shop_total_adjustment_amount": a.amount,
        "buyer_total_adjustment_amount": a.amount,
        "total_fee_adjustment_amount": 0,
        "create_timestamp": a.created,
        "created_timestamp": a.created,
        "update_timestamp": a.created,
        "updated_timestamp": a.created,
        "payment_adjustment_items": [],
    }


def payment(r: Receipt, s: Shop) -> Json:
    c = s.currency
    gross = r.grandtotal
    fees = fee(gross, c.divisor)
    adjusted = r.adjusted
    last_change = max([r.updated, *[a.created for a in r.adjustments]])
    return {
        "payment_id": r.payment_id,
        "buyer_user_id": r.buyer_user_id,
        "shop_id": r.shop_id,
        "receipt_id": r.receipt_id,
        "amount_gross": money(gross, c),
        "amount_fees": money(fees, c),
        "amount_net": money(gross - fees, c),
        "posted_gross": money(gross, c) if r.is_shipped else None,
        "posted_fees": money(fees, c) if r.is_shipped else None,
        "posted_net": money(gross - fees, c) if r.is_shipped else None,
        "adjusted_gross": money(gross - adjusted, c) if adjusted else None,
        "adjusted_fees": money(fees, c) if adjusted else None,
        "adjusted_net": money(gross - fees - adjusted, c) if adjusted else None,
        "currency": c.code,
        "shop_currency": c.code,
        "buyer_currency": r.buyer_currency or c.code,
        "shipping_user_id": r.buyer_user_id,
        "shipping_address_id": r.receipt_id + 7_000_000_000,
        "billing_address_id": r.receipt_id + 8_000_000_000,
        "status": "settled" if r.is_shipped else "authed",
        "shipped_timestamp": r.shipments[0].created if r.shipments else None,
        "create_timestamp": r.created,
        "created_timestamp": r.created,
        "update_timestamp": last_change,
        "updated_timestamp": last_change,
        "payment_adjustments": [adjustment(a) for a in r.adjustments],
    }


def ledger_entry(e: LedgerEntry) -> Json:
    return {
        "entry_id": e.entry_id,
        "ledger_id": e.ledger_id,
        "sequence_number": e.sequence_number,
        "amount": e.amount,
        "currency": e.currency,
        "description": e.description,
        "balance": e.balance,
        "create_date": e.created,
        "created_timestamp": e.created,
        "ledger_type": e.ledger_type,
        "reference_type": e.reference_type,
        "reference_id": e.reference_id,
        "parent_entry_id": 0,
        "payment_adjustments": [adjustment(e.adjustment)] if e.adjustment else [],
    }


def review(r: Review) -> Json:
    return {
        "shop_id": r.shop_id,
        "listing_id": r.listing_id,
        "transaction_id": r.transaction_id,
        "buyer_user_id": r.buyer_user_id,
        "rating": r.rating,
        "review": r.review,
        "language": r.language,
        "image_url_fullxfull": None,
        "create_timestamp": r.created,
        "created_timestamp": r.created,
        "update_timestamp": r.created,
        "updated_timestamp": r.created,
    }
