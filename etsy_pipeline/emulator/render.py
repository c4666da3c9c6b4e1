"""Etsy's JSON shapes, complete: every property the OpenAPI schema lists, null where Etsy sends null.

Shops, users, sections, listings, images and inventory here; receipts, payments, the ledger and reviews in
`render_sales.py`. Both timestamp spellings Etsy sends (`create_timestamp`/`created_timestamp`, …) carry the
same value. Money is `{amount, divisor, currency_code}`. The conformance tests validate these against Etsy's
document with every listed property required and no other allowed.
"""

from __future__ import annotations

from typing import Any

from etsy_pipeline.emulator.models import (
    Currency,
    Image,
    Inventory,
    Listing,
    Product,
    PropertyValue,
    Section,
    Shop,
    User,
    Video,
)

Json = dict[str, Any]
IMAGE_HOST = "https://i.etsystatic.com"


def money(amount: int, currency: Currency) -> Json:
    return {"amount": amount, "divisor": currency.divisor, "currency_code": currency.code}


def user(u: User) -> Json:
    return {
        "user_id": u.user_id,
        "primary_email": None,  # Etsy grants e-mail access case by case; null by default
        "first_name": u.first_name,
        "last_name": u.last_name,
        "image_url_75x75": None,
    }


def shop(s: Shop, active_listings: int, sold: int, reviews: tuple[int, float | None]) -> Json:
    return {
        "shop_id": s.shop_id,
        "user_id": s.user_id,
        "shop_name": s.shop_name,
        "create_date": s.created,
        "created_timestamp": s.created,
        "title": s.title,
        "announcement": s.announcement,
        "currency_code": s.currency.code,
        "is_vacation": False,
        "vacation_message": None,
        "sale_message": "Thank you for your order!",
        "digital_sale_message": None,
        "update_date": s.updated,
        "updated_timestamp": s.updated,
        "listing_active_count": active_listings,
        "digital_listing_count": 0,
        "login_name": s.shop_name.lower(),
        "accepts_custom_requests": True,
        "policy_welcome": None,
        "policy_payment": None,
        "policy_shipping": None,
        "policy_refunds": None,
        "policy_additional": None,
        "policy_seller_info": None,
        "policy_update_date": s.created,
        "policy_has_private_receipt_info": False,
        "has_unstructured_policies": False,
        "policy_privacy": None,
        "vacation_autoreply": None,
        "url": f"https://www.etsy.com/shop/{s.shop_name}",
        "image_url_760x100": None,
        "num_favorers": s.num_favorers,
        "languages": ["en-US"],
        "icon_url_fullxfull": None,
        "is_using_structured_policies": True,
        "has_onboarded_structured_policies": True,
        "include_dispute_form_link": False,
        "is_direct_checkout_onboarded": True,
        "is_etsy_payments_onboarded": True,
        "is_calculated_eligible": True,
        "is_opted_in_to_buyer_promise": True,
        "is_shop_us_based": s.country_iso == "US",
        "transaction_sold_count": sold,
        "shipping_from_country_iso": s.country_iso,
        "shop_location_country_iso": s.country_iso,
        "review_count": reviews[0],
        "review_average": reviews[1],
    }


def section(s: Section, user_id: int, active_listing_count: int) -> Json:
    return {
        "shop_section_id": s.shop_section_id,
        "title": s.title,
        "rank": s.rank,
        "user_id": user_id,
        "active_listing_count": active_listing_count,
    }


def image(listing_id: int, i: Image) -> Json:
    base = f"{IMAGE_HOST}/{listing_id}/r/il/{i.hex_code.lower()}/{i.listing_image_id}"
    red, green, blue = (int(i.hex_code[k : k + 2], 16) for k in (0, 2, 4))
    return {
        "listing_id": listing_id,
        "listing_image_id": i.listing_image_id,
        "hex_code": i.hex_code,
        "red": red,
        "green": green,
        "blue": blue,
        "hue": (red * 360) // 256,
        "saturation": 40,
        "brightness": max(red, green, blue) * 100 // 255,
        "is_black_and_white": False,
        "creation_tsz": i.created,
        "created_timestamp": i.created,
        "rank": i.rank,
        "url_75x75": f"{base}/il_75x75.jpg",
        "url_170x135": f"{base}/il_170x135.jpg",
        "url_570xN": f"{base}/il_570xN.jpg",
        "url_fullxfull": f"{base}/il_fullxfull.jpg",
        "full_height": i.height,
        "full_width": i.width,
        "alt_text": i.alt_text,
    }


def video(v: Video) -> Json:
    return {
        "video_id": v.video_id,
        "height": v.height,
        "width": v.width,
        "thumbnail_url": f"https://v.etsystatic.com/video/upload/{v.video_id}/thumb.jpg",
        "video_url": f"https://v.etsystatic.com/video/upload/{v.video_id}/video.mp4",
        "video_state": "active",
    }


def property_value(p: PropertyValue) -> Json:
    return {
        "property_id": p.property_id,
        "property_name": p.property_name,
        "scale_id": None,
        "scale_name": None,
        "value_ids": [p.value_id],
        "values": [p.value],
    }


def product(p: Product, currency: Currency) -> Json:
    o = p.offering
    return {
        "product_id": p.product_id,
        "sku": p.sku,
        "is_deleted": False,
        "offerings": [
            {
                "offering_id": o.offering_id,
                "quantity": o.quantity,
                "is_enabled": o.is_enabled,
                "is_deleted": False,
                "price": money(o.price, currency),
                "readiness_state_id": o.readiness_state_id,
            }
        ],
        "property_values": [property_value(v) for v in p.property_values],
    }


def inventory(inv: Inventory, currency: Currency) -> Json:
    return {
        "products": [product(p, currency) for p in inv.products],
        "price_on_property": list(inv.price_on_property),
        "quantity_on_property": list(inv.quantity_on_property),
        "sku_on_property": list(inv.sku_on_property),
        "readiness_state_on_property": list(inv.readiness_state_on_property),
    }


def listing(item: Listing, currency: Currency) -> Json:
    """A ShopListing (no associations)."""
    return {
        "listing_id": item.listing_id,
        "user_id": item.user_id,
        "shop_id": item.shop_id,
        "title": item.title,
        "description": item.description,
        "rich_description": None,
        "state": item.state,
        "creation_timestamp": item.created,
        "created_timestamp": item.created,
        "ending_timestamp": item.created + 120 * 86_400,
        "original_creation_timestamp": item.created,
        "last_modified_timestamp": item.updated,
        "updated_timestamp": item.updated,
        "state_timestamp": item.state_timestamp,
        "quantity": item.quantity,
        "shop_section_id": item.shop_section_id,
        "featured_rank": -1 if item.featured_rank is None else item.featured_rank,
        "url": f"https://www.etsy.com/listing/{item.listing_id}",
        "num_favorers": item.num_favorers,
        "non_taxable": False,
        "is_taxable": item.is_taxable,
        "is_customizable": False,
        "is_personalizable": item.is_personalizable,
        "listing_type": item.listing_type,
        "tags": list(item.tags),
        "materials": list(item.materials),
        "shipping_profile_id": item.shipping_profile_id,
        "return_policy_id": item.return_policy_id,
        "processing_min": item.processing_min,
        "processing_max": item.processing_max,
        "who_made": item.who_made,
        "when_made": item.when_made,
        "is_supply": item.is_supply,
        "item_weight": item.item_weight,
        "item_weight_unit": item.item_weight_unit,
        "item_length": item.item_length,
        "item_width": item.item_width,
        "item_height": item.item_height,
        "item_dimensions_unit": item.item_dimensions_unit,
        "is_private": False,
        "style": [],
        "file_data": None,
        "has_variations": item.has_variations,
        "should_auto_renew": item.should_auto_renew,
        "language": "en-US",
        "price": money(item.price, currency),
        "converted_price": None,
        "taxonomy_id": item.taxonomy_id,
        "readiness_state_id": item.readiness_state_id,
        "suggested_title": None,
    }


def listing_with_associations(
    item: Listing,
    currency: Currency,
    *,
    owner: bool,
    includes: set[str],
    shop_json: Json | None = None,
    user_json: Json | None = None,
    partners: dict[int, tuple[str, str]] | None = None,
) -> Json:
    body = listing(item, currency)
    known = partners or {}
    body.update(
        {
            "shipping_profile": None,
            "user": user_json if "User" in includes else None,
            "shop": shop_json if "Shop" in includes else None,
            "images": [image(item.listing_id, i) for i in item.images] if "Images" in includes else [],
            "videos": [video(v) for v in item.videos] if "Videos" in includes else [],
            "inventory": inventory(item.inventory, currency) if "Inventory" in includes else None,
            "production_partners": [
                {"production_partner_id": ident, "partner_name": known[ident][0], "location": known[ident][1]}
                for ident in item.production_partner_ids
                if ident in known
            ],
            "skus": [p.sku for p in item.inventory.products] if owner else [],
            "translations": None,
            "views": item.views,
            "personalization": None,
            "buyer_price": None,
        }
    )
    return body
