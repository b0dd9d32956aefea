"""Streaming mini-batch k-means with forgetting, stable centre ids and a JSON state.

Design choice on units: centres are kept in ORIGINAL units and both points and centres are
divided by the current scaler's spread whenever a distance is needed. Centres kept in
standardized space would silently change meaning as the scaler drifts (a centre at "+1 sd of
spend" is a different customer once the spread doubles); in original units a centre always
means the same customer, and only the yardstick that compares features moves, which is the
point of rescaling. Means commute with per-feature scaling, so a mini-batch step taken in
original units is exactly the step taken in standardized space. For the same reason the ring
of recent points (where reseeded centres are placed) is kept in original units too.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from river import base

from streamapp.core.kmeans_steps import (
    FloatArray,
    IntArray,
    kmeans_plusplus,
    lloyd,
    minibatch_update,
    sample_weighted,
    squared_distances,
)
from streamapp.core.model_state import dump_state, load_params, load_state
from streamapp.core.scaler import DecayedScaler
from streamapp.core.segment_ids import format_segment_id

# Salts keep the random streams of initialisation and reseeding apart within one batch.
_INIT_STREAM, _RESEED_STREAM = 0, 1


class MiniBatchKMeans(base.Clusterer):
    """Mini-batch k-means (Sculley 2010) with exponential forgetting, River-compatible.

    The first `reservoir_size` points are only stored; then greedy k-means++ and a few Lloyd
    passes on them place the centres. After that every batch of ``n`` points first fades all
    centre weights by ``0.5 ** (n / halflife)`` (Spark's streaming k-means rule), then pulls
    each centre toward the mean of its assigned points at rate ``count / weight``. A centre
    whose weight drops below ``dead_ratio`` × the largest weight is moved onto a recent point
    chosen k-means++-style and gets a new id. Distances are squared Euclidean after online
    standardisation (`DecayedScaler`, same half-life), so raw money and counts can go in.

    Until initialised, `predict_one` returns 0 and `distances` are all zeros; callers should
    check `is_initialised` before acting on segments.

    Parameters
    ----------
    n_clusters
        Number of centres.
    halflife
        Points after which an old point weighs half as much (model and scaler).
    seed
        Seed of every random choice; same seed and same batches give identical state.
    reservoir_size
        Points collected before the centres are initialised.
    dead_ratio
        Weight, relative to the largest, below which a centre is reseeded.
    recent_size
        Recent points remembered as candidate positions for reseeded centres.
    features
        Ordered feature names for dict inputs; ``None`` takes the first dict's keys.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> blobs = np.vstack([rng.normal(m, 0.5, size=(50, 2)) for m in (0.0, 10.0)])
    >>> model = MiniBatchKMeans(n_clusters=2, reservoir_size=20, features=["spend", "visits"])
    >>> for batch in np.array_split(rng.permutation(blobs), 5):
    ...     model.learn_batch(batch)
    >>> model.is_initialised, model.version, model.centre_ids
    (True, 5, ['seg-1', 'seg-2'])
    >>> sorted(round(spend) for spend in model.centres_original()[:, 0])
    [0, 10]
    >>> near_ten = model.predict_many(np.array([[10.0, 9.0], [0.5, 0.0]])).tolist()
    >>> near_ten == [model.predict_one({"spend": 9.0, "visits": 11.0}), 1 - near_ten[0]]
    True
    """

    def __init__(
        self,
        n_clusters: int = 6,
        halflife: float = 50_000.0,
        seed: int = 42,
        reservoir_size: int = 256,
        dead_ratio: float = 0.02,
        recent_size: int = 256,
        features: Sequence[str] | None = None,
    ) -> None:
        if n_clusters < 1:
            raise ValueError(f"n_clusters must be at least 1, got {n_clusters}")
        if reservoir_size < n_clusters:
            raise ValueError(f"reservoir_size ({reservoir_size}) must be >= n_clusters")
        if not 0 <= dead_ratio < 1:
            raise ValueError(f"dead_ratio must be in [0, 1), got {dead_ratio!r}")
        if recent_size < 1 or seed < 0:
            raise ValueError("recent_size must be positive and seed non-negative")
        self.n_clusters = n_clusters
        self.halflife = float(halflife)
        self.seed = seed
        self.reservoir_size = reservoir_size
        self.dead_ratio = dead_ratio
        self.recent_size = recent_size
        self.features = None if features is None else tuple(features)
        self.feature_names: tuple[str, ...] | None = self.features
        self.scaler = DecayedScaler(halflife=self.halflife)
        self.version = 0
        self.is_initialised = False
        self.centre_ids = [format_segment_id(i) for i in range(1, n_clusters + 1)]
        self._next_number = n_clusters + 1
        self._weights = np.zeros(n_clusters)
        self._set_width(0 if self.features is None else len(self.features))

    def _set_width(self, width: int) -> None:
        self.n_features = width
        self._centres: FloatArray = np.zeros((self.n_clusters, width))
        self._reservoir: FloatArray = np.zeros((0, width))
        self._recent: FloatArray = np.zeros((0, width))

    # -- numpy API: what the pipeline calls on the hot path ----------------------------------

    def learn_batch(self, points: FloatArray) -> None:
        """Learn a batch of points (rows, original units); ``version`` goes up by one.

        An empty batch changes nothing, not even the version.

        >>> model = MiniBatchKMeans(n_clusters=2, reservoir_size=2)
        >>> model.learn_batch(np.array([[0.0, 0.0], [10.0, 10.0]]))
        >>> model.is_initialised, model.weights.tolist()
        (True, [1.0, 1.0])
        """
        points = self._check_width(np.asarray(points, dtype=np.float64), learning=True)
        if points.shape[0] == 0:
            return
        self.scaler.update(points)
        rest = points
        if not self.is_initialised:
            needed = self.reservoir_size - self._reservoir.shape[0]
            self._reservoir = np.vstack([self._reservoir, points[:needed]])
            rest = points[needed:]
            if self._reservoir.shape[0] == self.reservoir_size:
                self._initialise()
        if self.is_initialised and rest.shape[0]:
            labels: IntArray = np.argmin(self._scaled_distances(rest), axis=1).astype(np.intp)
            decay = 0.5 ** (rest.shape[0] / self.halflife)
            self._centres, self._weights = minibatch_update(
                self._centres, self._weights, rest, labels, decay
            )
        self._recent = np.vstack([self._recent, points])[-self.recent_size :]
        if self.is_initialised:
            self._reseed_starved()
        self.version += 1

    def distances(self, points: FloatArray) -> FloatArray:
        """Squared Euclidean distances in standardized space, ``n × n_clusters``.

        All zeros before the model is initialised.

        >>> MiniBatchKMeans(n_clusters=3).distances(np.ones((2, 4))).tolist()
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
        """
        points = np.asarray(points, dtype=np.float64)
        if not self.is_initialised:
            return np.zeros((points.shape[0], self.n_clusters))
        return self._scaled_distances(self._check_width(points, learning=False))

    def centres_original(self) -> FloatArray:
        """Centres in the original units of the features (zeros before initialisation).

        >>> MiniBatchKMeans(n_clusters=2, features=["a"]).centres_original().tolist()
        [[0.0], [0.0]]
        """
        return self._centres.copy()

    @property
    def weights(self) -> FloatArray:
        """Decayed number of points behind each centre."""
        return self._weights.copy()

    # -- River API ------------------------------------------------------------------------------

    def learn_one(self, x: dict[Hashable, Any]) -> None:
        """Learn one customer given as a dict of features (missing features count as 0).

        >>> model = MiniBatchKMeans(n_clusters=1, reservoir_size=1)
        >>> model.learn_one({"spend": 3.0, "visits": 1.0})
        >>> model.feature_names, model.centres_original().tolist()
        (('spend', 'visits'), [[3.0, 1.0]])
        """
        if self.feature_names is None and self.n_features == 0:
            self.feature_names = tuple(str(name) for name in x)
            self._set_width(len(self.feature_names))
        self.learn_batch(self._vector(x)[np.newaxis, :])

    def predict_one(self, x: dict[Hashable, Any]) -> int:
        """Index of the nearest centre (0 before initialisation).

        >>> MiniBatchKMeans().predict_one({"spend": 1.0})
        0
        """
        if not self.is_initialised:
            return 0
        return int(np.argmin(self._scaled_distances(self._vector(x)[np.newaxis, :])[0]))

    def learn_many(self, X: Any) -> None:
        """Learn a 2-D numpy array, or a pandas DataFrame (columns picked by feature name).

        >>> model = MiniBatchKMeans(n_clusters=1, reservoir_size=2)
        >>> model.learn_many(np.array([[1.0], [3.0]]))
        >>> model.centres_original().tolist()
        [[2.0]]
        """
        self.learn_batch(self._matrix(X, learning=True))

    def predict_many(self, X: Any) -> IntArray:
        """Index of the nearest centre for each row, as a numpy array (zeros before init).

        >>> MiniBatchKMeans(n_clusters=2).predict_many(np.ones((3, 2))).tolist()
        [0, 0, 0]
        """
        matrix = self._matrix(X, learning=False)
        if not self.is_initialised:
            return np.zeros(matrix.shape[0], dtype=np.intp)
        labels: IntArray = np.argmin(self.distances(matrix), axis=1).astype(np.intp)
        return labels

    # -- internals ---------------------------------------------------------------------------------

    def _scaled_distances(self, points: FloatArray) -> FloatArray:
        # Standardized distance needs only the spread: the mean shift cancels in a difference.
        scale = self.scaler.scale
        return squared_distances(points / scale, self._centres / scale)

    def _initialise(self) -> None:
        rng = np.random.default_rng([self.seed, self.version, _INIT_STREAM])
        scale = self.scaler.scale
        chosen = kmeans_plusplus(self._reservoir / scale, self.n_clusters, rng)
        self._centres, labels = lloyd(self._reservoir, self._reservoir[chosen], scale)
        self._weights = np.bincount(labels, minlength=self.n_clusters).astype(np.float64)
        self._reservoir = np.zeros((0, self.n_features))
        self.is_initialised = True

    def _reseed_starved(self) -> None:
        threshold = self.dead_ratio * float(self._weights.max())
        starved = np.flatnonzero(self._weights < threshold)
        if starved.size == 0:
            return
        rng = np.random.default_rng([self.seed, self.version, _RESEED_STREAM])
        scale = self.scaler.scale
        recent = self._recent / scale
        alive = np.ones(self.n_clusters, dtype=bool)
        alive[starved] = False
        for index in starved.tolist():
            nearest = squared_distances(recent, self._centres[alive] / scale).min(axis=1)
            pick = int(sample_weighted(nearest, 1, rng)[0])
            self._centres[index] = self._recent[pick]
            # Twice the starvation line: enough to survive a few batches while it attracts
            # points, small enough that its learning rate lets it move quickly.
            self._weights[index] = 2.0 * threshold
            self.centre_ids[index] = format_segment_id(self._next_number)
            self._next_number += 1
            alive[index] = True

    def _check_width(self, points: FloatArray, *, learning: bool) -> FloatArray:
        if points.ndim != 2:
            raise ValueError(f"expected a 2-D array (rows are points), got shape {points.shape}")
        if learning and self.n_features == 0 and self.version == 0:
            self._set_width(points.shape[1])
        if points.shape[1] != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got {points.shape[1]}")
        return points

    def _vector(self, x: Mapping[Hashable, Any]) -> FloatArray:
        if self.feature_names is None:
            raise ValueError("this model learned from arrays; pass features=[...] to use dicts")
        return np.array([float(x.get(name, 0.0)) for name in self.feature_names])

    def _matrix(self, X: Any, *, learning: bool) -> FloatArray:
        # Duck-typed so pandas stays optional: a DataFrame has columns and to_numpy.
        if hasattr(X, "columns") and hasattr(X, "to_numpy"):
            if learning and self.feature_names is None and self.n_features == 0:
                self.feature_names = tuple(str(c) for c in X.columns)
            names = list(self.feature_names) if self.feature_names else list(X.columns)
            return np.asarray(X[names].to_numpy(dtype=np.float64), dtype=np.float64)
        return np.asarray(X, dtype=np.float64)

    # -- persistence: the JSON form lives in model_state.py -------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue learning, as JSON-ready lists, floats, ints and strings.

        >>> import json
        >>> model = MiniBatchKMeans(n_clusters=2, reservoir_size=2, features=["a", "b"])
        >>> model.learn_batch(np.array([[0.0, 1.0], [4.0, 2.0], [5.0, 2.0]]))
        >>> state = json.loads(json.dumps(model.state_dict()))
        >>> MiniBatchKMeans.from_state_dict(state).state_dict() == model.state_dict()
        True
        """
        return dump_state(self)

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> MiniBatchKMeans:
        """Rebuild a model saved with `state_dict` (see its example)."""
        model = cls(**load_params(state))
        load_state(model, state)
        return model
