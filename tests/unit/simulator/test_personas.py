"""Persona shares and their deterministic assignment to customers."""

from __future__ import annotations

from collections import Counter

import pytest

from streamapp.simulator import PERSONAS, assign_personas, persona_counts


@pytest.mark.parametrize("customers", [0, 1, 5, 6, 7, 99, 1000, 12_345])
def test_counts_add_up(customers: int) -> None:
    counts = persona_counts(customers)
    assert sum(counts.values()) == customers
    assert all(n >= 0 for n in counts.values())
    if customers >= len(PERSONAS):
        assert all(n >= 1 for n in counts.values())


def test_counts_follow_the_shares() -> None:
    counts = persona_counts(10_000)
    for persona in PERSONAS:
        assert counts[persona.name] == pytest.approx(persona.share * 10_000, abs=1)


def test_assignment_is_deterministic_and_shuffled() -> None:
    first = [p.name for p in assign_personas(500, seed=1)]
    assert first == [p.name for p in assign_personas(500, seed=1)]
    assert first != [p.name for p in assign_personas(500, seed=2)]
    assert Counter(first) == Counter(persona_counts(500))
    assert first != sorted(first)


def test_negative_population_is_refused() -> None:
    with pytest.raises(ValueError):
        persona_counts(-1)
