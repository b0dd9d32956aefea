"""Any River clusterer behind the segmenter's `ClusterModel` interface.

River's clusterers learn one dict at a time and expose centres as ``{cluster: {feature: value}}``
(``KMeans.centers``; ``DBSTREAM.centers`` once it has clustered). They do not standardise, so
this adapter standardises with a `DecayedScaler` first, and reports centres back in original
units. Ids are ``seg-<cluster number + 1>``: River gives no guarantee that a cluster number keeps
its meaning, which is one reason `MiniBatchKMeans` is the default. These models learn on one
worker only and are not saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from river import base

from streamapp.core.kmeans_steps import FloatArray, squared_distances
from streamapp.core.scaler import DecayedScaler
from streamapp.core.segment_ids import format_segment_id


class RiverClusterModel:
    """Wrap a ``river.base.Clusterer`` so the segmenter can use it.

    Examples
    --------
    >>> import numpy as np
    >>> from river import cluster
    >>> model = RiverClusterModel(cluster.KMeans(n_clusters=2, seed=1), ["a", "b"])
    >>> model.learn_batch(np.array([[0.0, 0.0], [10.0, 10.0]] * 20))
    >>> model.is_initialised, model.version, model.centre_ids
    (True, 1, ['seg-1', 'seg-2'])
    >>> model.distances(np.array([[0.0, 0.0]])).shape
    (1, 2)
    """

    def __init__(self, clusterer: base.Clusterer, features: Sequence[str],
                 halflife: float = 50_000.0) -> None:
        self.clusterer = clusterer
        self.features = tuple(features)
        self.scaler = DecayedScaler(halflife=halflife, n_features=len(self.features))
        self.version = 0
        self.is_initialised = False
        self.centre_ids: list[str] = []
        self._centres = np.zeros((0, len(self.features)))

    def learn_batch(self, points: FloatArray) -> None:
        """Standardise with the running scaler, then learn row by row."""
        points = np.asarray(points, dtype=np.float64)
        if points.shape[0] == 0:
            return
        self.scaler.update(points)
        for row in self.scaler.transform(points):
            self.clusterer.learn_one(dict(zip(self.features, row.tolist(), strict=True)))
        self._read_centres()
        self.version += 1

    def distances(self, points: FloatArray) -> FloatArray:
        """Squared distances in standardized space to each centre (``n × 0`` before any)."""
        points = np.asarray(points, dtype=np.float64)
        if not self.is_initialised:
            return np.zeros((points.shape[0], 0))
        return squared_distances(self.scaler.transform(points), self._centres)

    def centres_original(self) -> FloatArray:
        """Centres in the features' own units."""
        return self.scaler.inverse_transform(self._centres)

    @property
    def weights(self) -> FloatArray:
        """River's clusterers do not expose weights: every centre counts as one."""
        return np.ones(len(self.centre_ids))

    def state_dict(self) -> dict[str, Any]:
        """What can be shown of this model (it is not saved: it learns on one worker only)."""
        return {"kind": type(self.clusterer).__name__, "version": self.version,
                "centre_ids": list(self.centre_ids),
                "centres": self.centres_original().tolist()}

    def _read_centres(self) -> None:
        centers: dict[Any, dict[str, float]] = dict(getattr(self.clusterer, "centers", {}) or {})
        keys = sorted(centers)
        self._centres = np.array(
            [[float(centers[key].get(name, 0.0)) for name in self.features] for key in keys]
        ).reshape(len(keys), len(self.features))
        self.centre_ids = [format_segment_id(int(key) + 1) for key in keys]
        self.is_initialised = bool(keys)
