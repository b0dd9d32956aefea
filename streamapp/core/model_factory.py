"""The clustering model named by the ``model_kind`` setting.

``minibatch`` (the default) is `MiniBatchKMeans`, shared by all workers through the store.
``river-kmeans`` (River's `KMeans`, the simple baseline) and ``dbstream`` (River's `DBSTREAM`,
which finds the number of segments from the data) learn on each worker separately and start
afresh when the worker restarts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from river import cluster

from streamapp.core.model import MiniBatchKMeans
from streamapp.core.model_protocol import ClusterModel
from streamapp.core.model_river import RiverClusterModel

MODEL_KINDS = ("minibatch", "river-kmeans", "dbstream")


def make_model(
    kind: str,
    state: Mapping[str, Any] | None = None,
    *,
    n_clusters: int = 6,
    halflife: float = 50_000.0,
    seed: int = 42,
    features: Sequence[str] = (),
    shared: bool = False,
) -> ClusterModel:
    """A model of `kind`; a saved `state` is resumed for ``minibatch`` (the only kind saved).

    With `shared`, a ``minibatch`` model records what it learns so the store can merge it into
    the copy all workers share.

    >>> make_model("minibatch", n_clusters=3, features=["a"]).centre_ids
    ['seg-1', 'seg-2', 'seg-3']
    >>> type(make_model("dbstream", features=["a"]).clusterer).__name__
    'DBSTREAM'
    >>> make_model("kmedoids")
    Traceback (most recent call last):
    ...
    ValueError: unknown model kind 'kmedoids'; choose one of minibatch, river-kmeans, dbstream
    """
    if kind == "minibatch":
        model = (MiniBatchKMeans.from_state_dict(state) if state else MiniBatchKMeans(
            n_clusters=n_clusters, halflife=halflife, seed=seed, features=list(features)))
        model.record_deltas = shared
        return model
    if kind == "river-kmeans":
        return RiverClusterModel(cluster.KMeans(n_clusters=n_clusters, seed=seed), features,
                                 halflife)
    if kind == "dbstream":
        return RiverClusterModel(cluster.DBSTREAM(), features, halflife)
    raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(MODEL_KINDS)}")
