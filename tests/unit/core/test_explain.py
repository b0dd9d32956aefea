"""explain_assignment: distances to every segment and the features that decide."""

from __future__ import annotations

import numpy as np

from streamapp.core.explain import explain_assignment
from streamapp.core.model import MiniBatchKMeans

NAMES = ["spend", "orders", "recency"]


def _model() -> MiniBatchKMeans:
    model = MiniBatchKMeans(n_clusters=2, reservoir_size=4, halflife=float("inf"))
    # Two segments that differ in spend only; orders and recency are the same everywhere.
    model.learn_batch(np.array([[0.0, 1.0, 2.0], [0.2, 1.2, 2.2], [10.0, 1.0, 2.0],
                                [10.2, 1.2, 2.2]]))
    return model


def test_nothing_to_explain_before_the_model_has_centres() -> None:
    assert explain_assignment([1.0, 1.0, 1.0], MiniBatchKMeans(n_clusters=2), NAMES) is None


def test_the_nearest_segment_and_the_deciding_feature() -> None:
    model = _model()
    why = explain_assignment([9.0, 1.1, 2.1], model, NAMES)
    assert why is not None
    high = model.centre_ids[int(np.argmax(model.centres_original()[:, 0]))]
    assert why["segment"] == high
    assert next(iter(why["distances"])) == high  # nearest first
    assert why["distances"][high] < why["distances"][why["runner_up"]]
    assert why["deciding_features"][0]["feature"] == "spend"
    assert why["deciding_features"][0]["share"] > 0.9


def test_a_recorded_segment_is_explained_even_when_it_is_not_the_nearest() -> None:
    model = _model()
    low = model.centre_ids[int(np.argmin(model.centres_original()[:, 0]))]
    why = explain_assignment([5.5, 1.1, 2.1], model, NAMES, segment=low)
    assert why is not None and why["segment"] == low
    # Being closer to the other segment, nothing speaks for the recorded one.
    assert why["deciding_features"] == []
