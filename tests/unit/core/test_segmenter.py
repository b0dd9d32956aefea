"""Segment names: derived from the centres, replaced where the operator says so."""

from __future__ import annotations

import numpy as np

from streamapp.core.model import MiniBatchKMeans
from streamapp.core.segmenter import NAMES_EVERY, Segmenter


def _trained(overrides: dict[str, str]) -> Segmenter:
    segmenter = Segmenter(MiniBatchKMeans(n_clusters=2, reservoir_size=4, seed=1), 0.1, overrides)
    rng = np.random.default_rng(0)
    segmenter.learn_and_assign(np.vstack([rng.normal(0, 0.1, (20, 5)),
                                          rng.normal(5, 0.1, (20, 5))]), [None] * 40)
    return segmenter


def test_overrides_replace_derived_names_of_known_segments_only() -> None:
    derived = _trained({}).names()
    named = _trained({"seg-1": "VIP", "seg-99": "ghost"}).names()
    assert named["seg-1"] == "VIP"
    assert "seg-99" not in named
    assert {k: v for k, v in named.items() if k != "seg-1"} == {
        k: v for k, v in derived.items() if k != "seg-1"}


def test_names_are_worked_out_again_once_the_model_has_moved_enough() -> None:
    segmenter = _trained({})
    first = segmenter.names()
    segmenter._names = (segmenter._names[0], segmenter._names[1], {"seg-1": "stale"})
    assert segmenter.names() == {"seg-1": "stale"}  # kept while the model has not moved
    rng = np.random.default_rng(1)
    for _ in range(NAMES_EVERY):
        segmenter.learn_and_assign(rng.normal(5, 0.1, (4, 5)), [None] * 4)
    assert segmenter.names() == first
