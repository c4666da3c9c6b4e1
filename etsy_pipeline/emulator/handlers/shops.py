"""Application, user, shop, section, review and carrier operations."""

from __future__ import annotations

from etsy_pipeline.emulator import carriers, params, render, render_sales
from etsy_pipeline.emulator.errors import BadRequest, NotFound
from etsy_pipeline.emulator.handlers.base import Call, Json, paged, shop


def ping(call: Call) -> Json:
    return {"application_id": call.state.auth.application_id}


def token_scopes(call: Call) -> Json:
    token = call.form_value("token")
    if not token:
        raise BadRequest("Missing Input Parameter: [token]")
    grant = call.state.auth.access.get(token)
    return {"scopes": list(grant.scopes) if grant else []}


def get_me(call: Call) -> Json:
    assert call.grant is not None
    shop_id = call.state.shop_of_user(call.grant.user_id)
    return {"user_id": call.grant.user_id, "shop_id": shop_id or 0}


def get_user(call: Call) -> Json:
    user = call.state.world.users.get(call.path["user_id"])
    if user is None:
        raise NotFound(f"Could not find a User with user_id = {call.path['user_id']}")
    return render.user(user)


def _shop_json(call: Call, shop_id: int) -> Json:
    state = call.state
    found = state.world.shops[shop_id]
    return render.shop(found, state.active_count(shop_id), state.sold_count(shop_id), state.review_summary(shop_id))


def get_shop(call: Call) -> Json:
    return _shop_json(call, shop(call).shop_id)


def get_shop_by_owner(call: Call) -> Json:
    shop_id = call.state.shop_of_user(call.path["user_id"])
    if shop_id is None:
        raise NotFound(f"Could not find a Shop for user_id = {call.path['user_id']}")
    return _shop_json(call, shop_id)


def get_sections(call: Call) -> Json:
    found = shop(call)
    active = [call.state.world.listings[i] for i in call.state.listings_of(found.shop_id, "active")]
    results = [
        render.section(s, found.user_id, sum(1 for x in active if x.shop_section_id == s.shop_section_id))
        for s in found.sections
    ]
    return paged(len(results), results)


def get_reviews(call: Call) -> Json:
    found = shop(call)
    limit, offset = params.page(call.query)
    low = params.integer(call.query, "min_created", minimum=params.MIN_TIMESTAMP)
    high = params.integer(call.query, "max_created", minimum=params.MIN_TIMESTAMP)
    matching = [
        r
        for r in reversed(call.state.world.reviews)  # newest first
        if r.shop_id == found.shop_id and (low is None or r.created >= low) and (high is None or r.created <= high)
    ]
    return paged(len(matching), [render_sales.review(r) for r in matching[offset : offset + limit]])


def _mail_classes(keys: tuple[str, ...]) -> list[Json]:
    return [{"mail_class_key": k, "name": k.replace("_", " ").title()} for k in keys]


def get_carriers(call: Call) -> Json:
    origin = call.query.get("origin_country_iso")
    if not origin:
        raise BadRequest("Missing Input Parameter: [origin_country_iso]")
    if len(origin) != 2 or not origin.isalpha():
        raise BadRequest(f"Invalid value for origin_country_iso: '{origin}' is not an ISO 3166-1 alpha-2 code")
    results = [
        {
            "shipping_carrier_id": c.shipping_carrier_id,
            "name": c.name,
            "domestic_classes": _mail_classes(c.domestic_classes),
            "international_classes": _mail_classes(c.international_classes),
        }
        for c in carriers.CARRIERS
    ]
    return paged(len(results), results)
