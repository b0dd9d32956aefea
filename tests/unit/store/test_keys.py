"""Key and field names: one cluster slot per deployment, a short field per allowlisted trait."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from redis.crc import key_slot

from streamapp.events import TRAIT_ALLOWLIST
from streamapp.settings import Settings
from streamapp.store.keys import FIELDS, TRAIT_FIELDS, Keys, trait_field, trait_name


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


def _every_key(keys: Keys, customer_id: str) -> list[str]:
    names = [name for name, value in vars(Keys).items()
             if isinstance(value, property) and name not in ("root", "pattern",
                                                              "profile_pattern")]
    return [keys.profile(customer_id), *(getattr(keys, name) for name in names)]


@pytest.mark.parametrize("customer_id", ["u1", "anon-7", "{odd}", "a:b:p:*", "}{"])
def test_every_key_of_a_deployment_hashes_to_one_cluster_slot(customer_id: str) -> None:
    # One script call touches profiles and shared keys together; a cluster allows one slot.
    keys = Keys("shop-eu")
    assert len(_every_key(keys, customer_id)) > 10
    assert {key_slot(k.encode()) for k in _every_key(keys, customer_id)} == {
        key_slot(b"shop-eu")}
    assert keys.customer_id(keys.profile(customer_id).encode()) == customer_id


@pytest.mark.parametrize("prefix", ["", "a}b", "{a}"])
def test_a_prefix_that_would_break_the_hash_tag_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="STREAMAPP_REDIS_PREFIX"):
        Keys(prefix)
    with pytest.raises(ValidationError):
        Settings(_env_file=None, redis_prefix=prefix)
