"""Segment names: sensible words, right way round, always unique."""

from __future__ import annotations

import numpy as np
import pytest

from streamapp.core.segment_names import describe_centre, name_segments, relative_position

FEATURES = ["monetary", "frequency", "recency", "activity", "browsing"]


def _log(revenue: float, orders: float, days: float, events: float, views: float) -> list[float]:
    return [float(v) for v in np.log1p([revenue, orders, days, events, views])]


TOY = np.array(
    [
        _log(900.0, 12.0, 3.0, 200.0, 120.0),  # champions
        _log(60.0, 1.0, 200.0, 8.0, 5.0),  # bought once, long ago
        _log(0.0, 0.0, 2.0, 30.0, 25.0),  # new visitors, looking around
        _log(150.0, 3.0, 40.0, 40.0, 20.0),  # ordinary regulars
        _log(0.0, 0.0, 300.0, 1.0, 0.0),  # signed up once, never came back
    ]
)
WEIGHTS = np.array([5.0, 30.0, 25.0, 30.0, 10.0])


def test_toy_population_gets_sensible_names() -> None:
    names = name_segments(TOY, WEIGHTS, FEATURES)
    assert names[0] == "high spend · frequent · recent"
    assert names[1].startswith("low spend · one-time") and names[1].endswith("lapsed")
    assert names[2] == "heavy browsing · no orders · recent"
    assert names[3].startswith("mid spend · occasional")
    assert names[4] == "idle · no orders · lapsed"
    assert len(set(names)) == len(names)


def test_higher_recency_means_longer_ago() -> None:
    words = describe_centre({"recency": 5.0}, {"recency": 1.0})
    assert words == ["lapsed"]
    assert describe_centre({"recency": 0.1}, {"recency": -1.0}) == ["recent"]


def test_buyers_are_ranked_among_buyers_only() -> None:
    # Many non-buyers would drag the population mean to zero spend and make everyone "high".
    centres = np.array([_log(20.0, 2.0, 5.0, 9.0, 5.0), _log(500.0, 8.0, 5.0, 60.0, 30.0)])
    crowd = np.array([_log(0.0, 0.0, 5.0, 3.0, 2.0)] * 3)
    names = name_segments(np.vstack([centres, crowd]), np.array([1, 1, 50, 50, 50.0]), FEATURES)
    assert names[0].startswith("low spend") and names[1].startswith("high spend")


def test_identical_words_are_split_by_the_feature_that_differs_most() -> None:
    twins = [_log(0.0, 0.0, 2.0, 10.0, 8.0), _log(0.0, 0.0, 2.0, 14.0, 7.0)]
    buyer = _log(300.0, 4.0, 2.0, 80.0, 60.0)  # sets the spread the twins are measured by
    names = name_segments(np.array([*twins, buyer]), np.ones(3), FEATURES)
    assert names[:2] == [
        "idle · no orders · lapsing · less active",
        "idle · no orders · lapsing · more active",
    ]


def test_indistinguishable_centres_are_numbered_heaviest_first() -> None:
    same = np.array([_log(50.0, 2.0, 10.0, 10.0, 5.0)] * 3)
    names = name_segments(same, np.array([1.0, 9.0, 5.0]), FEATURES)
    base = names[1]
    assert names == [f"{base} #3", base, f"{base} #2"]


def test_missing_features_are_left_out_and_columns_may_be_reordered() -> None:
    centres = np.array([[1.0, 6.0], [4.0, 2.0]])  # recency, monetary
    names = name_segments(centres, np.array([1.0, 1.0]), ["recency", "monetary"])
    assert names == ["high spend · recent", "low spend · lapsed"]
    assert name_segments(np.array([[1.0]]), np.array([1.0]), ["other"]) == ["segment"]
    with pytest.raises(ValueError):
        name_segments(centres, np.array([1.0, 1.0]), ["recency"])


def test_a_single_centre_is_middling_on_everything() -> None:
    (name,) = name_segments(TOY[3:4], np.array([1.0]), FEATURES)
    assert name == "mid spend · occasional · lapsing"


def test_relative_position_uses_weights_and_tolerates_zero_weights() -> None:
    centres = np.array([[0.0], [1.0]])
    assert relative_position(centres, np.array([3.0, 1.0]))[1, 0] > 1.0
    assert relative_position(centres, np.zeros(2)).tolist() == [[-1.0], [1.0]]
