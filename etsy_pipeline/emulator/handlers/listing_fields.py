"""updateListing's form fields: every field Etsy documents, checked as Etsy documents it, into Listing attributes.

A field Etsy does not document is a 400 naming it rather than a silent 200, so a client sending a misspelt or
unsupported field finds out here. Array fields come as `name=a,b` or as repeated `name[]=` values; an empty
value clears a nullable field. Price, quantity and SKU only change through updateListingInventory.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable
from typing import Any

from etsy_pipeline.emulator import listing_rules, params
from etsy_pipeline.emulator.errors import BadRequest
from etsy_pipeline.emulator.models import Image, Listing, Shop
from etsy_pipeline.emulator.state import EmulatorState

WHO_MADE = ("i_did", "someone_else", "collective")
WHEN_MADE = (
    "made_to_order",
    "2020_2026",
    "2010_2019",
    "2007_2009",
    "before_2007",
    "2000_2006",
    "1990s",
    "1980s",
    "1970s",
    "1960s",
    "1950s",
    "1940s",
    "1930s",
    "1920s",
    "1910s",
    "1900s",
    "1800s",
    "1700s",
    "before_1700",
)
WEIGHT_UNITS = ("", "oz", "lb", "g", "kg")
DIMENSION_UNITS = ("", "in", "ft", "mm", "cm", "m", "yd", "inches")
INVENTORY_ONLY = ("price", "quantity", "sku")
TRADEMARKS = "™©®"


@dataclasses.dataclass(frozen=True)
class Field:
    raw: list[str]
    listing: Listing
    shop: Shop

    @property
    def value(self) -> str:
        return self.raw[-1]

    @property
    def items(self) -> list[str]:
        if len(self.raw) == 1:
            return [v.strip() for v in self.raw[0].split(",") if v.strip()]
        return [v.strip() for v in self.raw if v.strip()]


def _chars_ok(text: str, categories: tuple[str, ...], extra: str) -> bool:
    return all(ch in extra or unicodedata.category(ch).startswith(categories) for ch in text)


def _title(name: str, f: Field) -> str:
    if not f.value.strip():
        raise BadRequest(f"Invalid value for {name}: must not be empty")
    if not _chars_ok(f.value, ("L", "Nd", "P", "Sm", "Zs"), TRADEMARKS):
        raise BadRequest(f"Invalid value for {name}: only letters, numbers, punctuation, math symbols and spaces")
    if any(f.value.count(ch) > 1 for ch in "%:&+"):
        raise BadRequest(f"Invalid value for {name}: each of % : & + may appear only once")
    return f.value


def _text(name: str, f: Field) -> str:
    if not f.value.strip():
        raise BadRequest(f"Invalid value for {name}: must not be empty")
    return f.value


def _words(allowed: tuple[str, ...], extra: str, most: int | None) -> Callable[[str, Field], list[str]]:
    def parse(name: str, f: Field) -> list[str]:
        items = f.items
        bad = [item for item in items if not _chars_ok(item, allowed, extra)]
        if bad:
            raise BadRequest(f"Invalid value for {name}: '{bad[0]}' has characters Etsy does not allow")
        if most is not None and len(items) > most:
            raise BadRequest(f"Invalid value for {name}: at most {most} are allowed")
        return items

    return parse


def _boolean(name: str, f: Field) -> bool:
    value = params.boolean({name: f.value}, name)
    if value is None:
        raise BadRequest(f"Invalid value for {name}: expected a boolean")
    return value


def _integer(minimum: int | None, nullable: bool) -> Callable[[str, Field], int | None]:
    def parse(name: str, f: Field) -> int | None:
        if f.value.strip() == "" and nullable:
            return None
        return params.integer({name: f.value}, name, minimum=minimum, required=True)

    return parse


def _measure(name: str, f: Field) -> float | None:
    if f.value.strip() == "":
        return None
    try:
        value = float(f.value)
    except ValueError:
        raise BadRequest(f"Invalid value for {name}: expected a number, got '{f.value}'") from None
    if not value > 0:
        raise BadRequest(f"Invalid value for {name}: must be greater than 0")
    return value


def _choice(allowed: tuple[str, ...], nullable: bool) -> Callable[[str, Field], str | None]:
    def parse(name: str, f: Field) -> str | None:
        if nullable and f.value == "":
            return None
        if f.value not in allowed:
            raise BadRequest(f"Invalid value for {name}: '{f.value}' is not one of {', '.join(allowed)}")
        return f.value

    return parse


def _known(ids: Callable[[Field], Any]) -> Callable[[str, Field], int | None]:
    def parse(name: str, f: Field) -> int | None:
        value = _integer(1, True)(name, f)
        if value is not None and value not in ids(f):
            raise BadRequest(f"Invalid value for {name}: {value} is not one of this shop's")
        return value

    return parse


def _section(name: str, f: Field) -> int | None:
    value = _integer(None, True)(name, f)
    if value and value not in {s.shop_section_id for s in f.shop.sections}:
        raise BadRequest(f"Invalid value for {name}: {value} is not a section of this shop")
    return value or None  # empty or 0 takes the listing out of its section


def _id_list(name: str, f: Field) -> list[int]:
    ids = params.id_list({name: ",".join(f.items)}, name, maximum=20) if f.items else []
    if len(set(ids)) != len(ids):
        raise BadRequest(f"Invalid value for {name}: ids must be unique")
    return ids


def _partners(name: str, f: Field) -> list[int]:
    ids = _id_list(name, f)
    unknown = [i for i in ids if i not in f.shop.production_partners]
    if unknown:
        raise BadRequest(f"Invalid value for {name}: {unknown[0]} is not a production partner of this shop")
    return ids


def _images(name: str, f: Field) -> list[Image]:
    by_id = {i.listing_image_id: i for i in f.listing.images}
    ids = _id_list(name, f)
    if not ids or any(i not in by_id for i in ids):
        raise BadRequest(f"Invalid value for {name}: give 1 to 20 ids of this listing's images")
    return [dataclasses.replace(by_id[i], rank=rank) for rank, i in enumerate(ids, start=1)]


Parser = Callable[[str, Field], Any]
# form name -> (Listing attribute, parser); "state" is applied after the others (it checks the result).
FIELDS: dict[str, tuple[str, Parser]] = {
    "image_ids": ("images", _images),
    "title": ("title", _title),
    "description": ("description", _text),
    "materials": ("materials", _words(("L", "Nd", "Zs"), "", 13)),
    "should_auto_renew": ("should_auto_renew", _boolean),
    "shipping_profile_id": ("shipping_profile_id", _known(lambda f: f.shop.shipping_profiles)),
    "return_policy_id": ("return_policy_id", _known(lambda f: f.shop.return_policies)),
    "shop_section_id": ("shop_section_id", _section),
    "item_weight": ("item_weight", _measure),
    "item_length": ("item_length", _measure),
    "item_width": ("item_width", _measure),
    "item_height": ("item_height", _measure),
    "item_weight_unit": ("item_weight_unit", _choice(WEIGHT_UNITS, True)),
    "item_dimensions_unit": ("item_dimensions_unit", _choice(DIMENSION_UNITS, True)),
    "is_taxable": ("is_taxable", _boolean),
    "taxonomy_id": ("taxonomy_id", _integer(1, False)),
    "tags": ("tags", _words(("L", "Nd", "Zs"), "-'" + TRADEMARKS, 13)),
    "who_made": ("who_made", _choice(WHO_MADE, False)),
    "when_made": ("when_made", _choice(WHEN_MADE, False)),
    "featured_rank": ("featured_rank", _integer(None, True)),
    "is_personalizable": ("is_personalizable", _boolean),
    "personalization_is_required": ("", _boolean),  # deprecated by Etsy: checked, not kept
    "personalization_char_count_max": ("", _integer(None, False)),
    "personalization_instructions": ("", lambda name, f: f.value),
    "state": ("state", _choice(("active", "inactive"), False)),
    "is_supply": ("is_supply", _boolean),
    "production_partner_ids": ("production_partner_ids", _partners),
    "type": ("listing_type", _choice(("physical", "download", "both"), True)),
}


def parse(form: dict[str, list[str]], listing: Listing, shop: Shop) -> dict[str, Any]:
    """The edit as Listing attribute -> new value; a 400 naming the first field that is unknown or invalid."""
    changes: dict[str, Any] = {}
    for key, raw in form.items():
        name = key.removesuffix("[]")
        if name in INVENTORY_ONLY:
            raise BadRequest(f"Invalid parameter '{name}': {name} can only be changed with updateListingInventory")
        if name not in FIELDS:
            raise BadRequest(f"Unknown parameter '{name}': updateListing does not take it")
        attribute, parser = FIELDS[name]
        value = parser(name, Field(raw, listing, shop))
        if attribute and not (attribute == "listing_type" and value is None):
            changes[attribute] = value
    return changes


def apply(state: EmulatorState, listing: Listing, shop: Shop, form: dict[str, list[str]]) -> None:
    """Apply an edit all or nothing: a new state is checked on the listing as the other fields leave it."""
    changes = parse(form, listing, shop)
    new_state = changes.pop("state", None)
    if new_state is not None:
        listing_rules.check_state(dataclasses.replace(listing, **changes), shop, new_state)
    changed = any(getattr(listing, name) != value for name, value in changes.items())
    for name, value in changes.items():
        setattr(listing, name, value)
    now = state.clock.now()
    if new_state is not None:
        changed = listing_rules.set_state(listing, shop, new_state, now) or changed
    if changed:
        listing_rules.touch(listing, now)
        state.changed()
