"""Segment ids: carried across refits by matching centres, and sticky for borderline customers."""

from __future__ import annotations

import numpy as np
import pytest

from streamapp.core.segment_ids import (
    assign_with_hysteresis,
    format_segment_id,
    match_centres,
    next_free_number,
    segment_number,
)

OLD = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]])
OLD_IDS = ["seg-1", "seg-2", "seg-3", "seg-4"]


def test_permuted_and_slightly_moved_centres_keep_their_ids() -> None:
    order = [2, 0, 3, 1]
    moved = OLD[order] + np.random.default_rng(0).normal(0.0, 0.1, size=OLD.shape)
    assert match_centres(OLD, OLD_IDS, moved, threshold=1.0) == [OLD_IDS[i] for i in order]


def test_a_far_centre_gets_the_next_free_id() -> None:
    new = OLD.copy()
    new[1] = [40.0, 40.0]
    assert match_centres(OLD, OLD_IDS, new, threshold=1.0) == ["seg-1", "seg-5", "seg-3", "seg-4"]


def test_matching_minimises_total_distance_not_greedy_nearest() -> None:
    old = np.array([[0.0], [2.0]])
    # Greedy would give the first new centre (at 1.9) to seg-2 and leave seg-1 far from 3.9.
    ids = match_centres(old, ["seg-1", "seg-2"], np.array([[1.9], [3.9]]), threshold=5.0)
    assert ids == ["seg-1", "seg-2"]


def test_more_or_fewer_centres_than_before() -> None:
    grown = np.vstack([OLD, [[2.5, 2.5]]])
    assert match_centres(OLD, OLD_IDS, grown, threshold=1.0) == [*OLD_IDS, "seg-5"]
    assert match_centres(OLD, OLD_IDS, OLD[[3, 0]], threshold=1.0) == ["seg-4", "seg-1"]
    assert match_centres(OLD[:0], [], OLD[:2], threshold=1.0) == ["seg-1", "seg-2"]


def test_retired_ids_are_not_handed_out_again() -> None:
    ids = match_centres(OLD, OLD_IDS, np.array([[99.0, 99.0]]), 1.0, reserved=["seg-9"])
    assert ids == ["seg-10"]
    with pytest.raises(ValueError):
        match_centres(OLD, OLD_IDS[:2], OLD, threshold=1.0)


def test_id_numbers() -> None:
    assert format_segment_id(7) == "seg-7"
    assert segment_number("seg-7") == 7
    assert segment_number("seg-x") is None and segment_number("my-seg-7") is None
    assert next_free_number([]) == 1
    assert next_free_number(["vip", "seg-2"]) == 3


def test_a_customer_on_a_boundary_does_not_flap() -> None:
    ids = ["seg-1", "seg-2"]
    current: list[str | None] = ["seg-1"]
    history = []
    # The customer wobbles around the midpoint: each centre is nearer in turn, never by 10%.
    for wobble in [0.02, -0.02, 0.03, -0.03, 0.01, -0.04] * 5:
        distances = np.array([[1.0 + wobble, 1.0 - wobble]])
        current = list(assign_with_hysteresis(distances, ids, current, margin=0.1))
        history.append(current[0])
    assert set(history) == {"seg-1"}
    without_margin = assign_with_hysteresis(np.array([[1.02, 0.98]]), ids, ["seg-1"], margin=0.0)
    assert without_margin == ["seg-2"]


def test_a_clear_move_happens() -> None:
    distances = np.array([[4.0, 1.0], [1.0, 0.95], [1.0, 0.89]])
    moved = assign_with_hysteresis(distances, ["seg-1", "seg-2"], ["seg-1"] * 3, margin=0.1)
    assert moved == ["seg-2", "seg-1", "seg-2"]


def test_new_customers_and_vanished_segments_take_the_nearest() -> None:
    distances = np.array([[3.0, 1.0, 2.0], [0.5, 1.0, 2.0], [3.0, 2.9, 0.1]])
    current = [None, "seg-7", "seg-1"]  # seg-7 was reseeded away
    assert assign_with_hysteresis(distances, ["seg-1", "seg-2", "seg-8"], current, 0.5) == [
        "seg-2",
        "seg-1",
        "seg-8",
    ]


def test_hysteresis_checks_its_inputs() -> None:
    with pytest.raises(ValueError, match="margin"):
        assign_with_hysteresis(np.zeros((1, 2)), ["a", "b"], [None], margin=1.0)
    with pytest.raises(ValueError, match="centre ids"):
        assign_with_hysteresis(np.zeros((1, 2)), ["a"], [None], margin=0.1)
