"""make_model and the River adapter: every kind works behind the segmenter."""

from __future__ import annotations

import numpy as np
import pytest

from streamapp.core.model import MiniBatchKMeans
from streamapp.core.model_factory import MODEL_KINDS, make_model
from streamapp.core.segmenter import Segmenter

FEATURES = ["monetary", "frequency", "recency", "activity", "browsing"]


def _blobs() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.vstack([rng.normal(m, 0.2, (300, 5)) for m in (0.0, 4.0)])[rng.permutation(600)]


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_kind_segments_two_blobs_through_the_segmenter(kind: str) -> None:
    segmenter = Segmenter(make_model(kind, n_clusters=2, seed=1, features=FEATURES), margin=0.1)
    points = _blobs()
    ids: list[str | None] = [None] * 100
    for batch in np.array_split(points, 6):
        ids = segmenter.learn_and_assign(batch, [None] * batch.shape[0])
    assert segmenter.version == 6
    assert all(segment is not None for segment in ids)
    low = batch[:, 0] < 2.0
    assert len({ids[i] for i in np.flatnonzero(low)}) == 1
    assert len({ids[i] for i in np.flatnonzero(~low)}) == 1
    assert segmenter.model.centres_original().shape[1] == 5


def test_minibatch_resumes_a_saved_state_and_records_deltas_when_shared() -> None:
    model = make_model("minibatch", n_clusters=2, features=FEATURES, shared=True)
    assert isinstance(model, MiniBatchKMeans)
    model.learn_batch(_blobs())
    assert len(model.pending) == 1
    resumed = make_model("minibatch", model.state_dict())
    assert isinstance(resumed, MiniBatchKMeans) and not resumed.record_deltas
    assert resumed.state_dict() == model.state_dict()


def test_an_unknown_kind_says_which_exist() -> None:
    with pytest.raises(ValueError, match="minibatch, river-kmeans, dbstream"):
        make_model("gmm")
