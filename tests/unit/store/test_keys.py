"""Profile field names: each allowlisted trait has a short field no other field is taken for."""

from __future__ import annotations

from streamapp.events import TRAIT_ALLOWLIST
from streamapp.store.keys import FIELDS, TRAIT_FIELDS, trait_field, trait_name


def test_every_allowlisted_trait_has_its_own_short_field() -> None:
    assert set(TRAIT_ALLOWLIST) <= set(TRAIT_FIELDS)
    assert len(set(TRAIT_FIELDS.values())) == len(TRAIT_FIELDS)
    assert all(len(field) == 2 for field in TRAIT_FIELDS.values())


def test_trait_fields_are_the_fields_starting_with_t() -> None:
    # The scripts copy a merged customer's traits by this first letter.
    assert all(field.startswith("t") for field in TRAIT_FIELDS.values())
    assert [f for f in FIELDS if f.startswith("t")] == ["t<letter>"]
    assert trait_field("not-allowlisted").startswith("t")


def test_trait_names_round_trip() -> None:
    assert all(trait_name(trait_field(name)) == name for name in TRAIT_ALLOWLIST)
    assert trait_name("e") is None
