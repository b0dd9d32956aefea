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

import math
import uuid
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from river import base

from streamapp.core.drift import InertiaDrift
from streamapp.core.kmeans_steps import (
    FloatArray,
    IntArray,
    cluster_sums,
    merge_cluster_sums,
    squared_distances,
)
from streamapp.core.model_delta import ModelDelta, Reseed, decay_factor
from streamapp.core.model_placement import initial_centres, plan_reseeds
from streamapp.core.model_state import dump_state, load_params, load_state
from streamapp.core.scaler import DecayedScaler, batch_moments
from streamapp.core.segment_ids import format_segment_id

# Salt of the initialisation's random stream (kept apart from any other use of the seed).
_INIT_STREAM = 0


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
        drift_speedup: float = 4.0,
        drift_dead_ratio: float = 0.1,
        n_init: int = 10,
    ) -> None:
        if n_clusters < 1:
            raise ValueError(f"n_clusters must be at least 1, got {n_clusters}")
        if reservoir_size < n_clusters:
            raise ValueError(f"reservoir_size ({reservoir_size}) must be >= n_clusters")
        if not 0 <= dead_ratio < 1:
            raise ValueError(f"dead_ratio must be in [0, 1), got {dead_ratio!r}")
        if recent_size < 1 or seed < 0:
            raise ValueError("recent_size must be positive and seed non-negative")
        if drift_speedup < 1 or n_init < 1:
            raise ValueError("drift_speedup and n_init must be at least 1")
        self.n_clusters = n_clusters
        self.halflife = float(halflife)
        self.seed = seed
        self.reservoir_size = reservoir_size
        self.dead_ratio = dead_ratio
        self.recent_size = recent_size
        self.features = None if features is None else tuple(features)
        self.drift_speedup = float(drift_speedup)
        self.drift_dead_ratio = drift_dead_ratio
        self.n_init = n_init
        self.feature_names: tuple[str, ...] | None = self.features
        self.scaler = DecayedScaler(halflife=self.halflife)
        self.version = 0
        self.is_initialised = False
        self.centre_ids = [format_segment_id(i) for i in range(1, n_clusters + 1)]
        self._next_number = n_clusters + 1
        self._weights = np.zeros(n_clusters)
        self._set_width(0 if self.features is None else len(self.features))
        # Drift: the detector is this process's own; what it concluded is part of the state.
        self.drift_watch = InertiaDrift()
        self.seen = 0  # points learned, all batches
        self.fast_until = 0  # while seen < fast_until, forget drift_speedup times faster
        self.drifts = 0
        self.last_drift_version: int | None = None
        self.last_drift_seen: int | None = None
        self.inertia = 0.0  # mean squared standardized distance of the last batch's points
        # Deltas not yet merged into a shared copy; recorded only when a store shares the model.
        self.record_deltas = False
        self.pending: list[ModelDelta] = []

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
        delta = self.delta_for(points)
        self.apply_delta(delta)
        if self.record_deltas:
            self.pending.append(delta)

    @property
    def halflife_now(self) -> float:
        """The half-life in force: shorter for a while after a drift.

        >>> model = MiniBatchKMeans(halflife=100.0)
        >>> model.halflife_now, model.halflife_now == model.halflife
        (100.0, True)
        """
        if self.seen < self.fast_until:
            return self.halflife / self.drift_speedup
        return self.halflife

    def delta_for(self, points: FloatArray) -> ModelDelta:
        """What learning `points` would change, without changing the model (only the drift
        detector, which is this process's own, takes the batch in).

        >>> model = MiniBatchKMeans(n_clusters=1, reservoir_size=1, halflife=4.0)
        >>> model.learn_batch(np.array([[0.0]]))
        >>> delta = model.delta_for(np.array([[1.0], [3.0]]))
        >>> delta.counts.tolist(), delta.sums.tolist(), delta.learned
        ([2.0], [[4.0]], 2)
        """
        halflife = self.halflife_now
        n, batch_mean, batch_m2 = batch_moments(points)
        scaler = DecayedScaler.from_state_dict(self.scaler.state_dict())
        scaler.merge(n, batch_mean, batch_m2, decay_factor(n, halflife))
        scale = scaler.scale
        k, width = self.n_clusters, points.shape[1]
        rest, reservoir = points, np.zeros((0, width))
        centres, weights = self._centres, self._weights
        initial: tuple[FloatArray, FloatArray] | None = None
        if not self.is_initialised:
            needed = self.reservoir_size - self._reservoir.shape[0]
            reservoir, rest = points[:needed], points[needed:]
            full = np.vstack([self._reservoir, reservoir])
            if full.shape[0] == self.reservoir_size:
                initial = centres, weights = initial_centres(
                    full, scale, self.n_clusters, self.n_init,
                    [self.seed, self.version, _INIT_STREAM])
        sums, counts = np.zeros((k, width)), np.zeros(k)
        drift, reseeds, inertia = False, tuple[Reseed, ...](), self.inertia
        if initial is not None or self.is_initialised:
            if rest.shape[0]:
                distances = squared_distances(rest / scale, centres / scale)
                labels: IntArray = np.argmin(distances, axis=1).astype(np.intp)
                sums, counts = cluster_sums(rest, labels, k)
                nearest = distances[np.arange(rest.shape[0]), labels]
                inertia = float(nearest.mean())
                # A fresh warm start is not a drift, whatever the distances did before it.
                drift = self.drift_watch.update(nearest.tolist()) and initial is None
                centres, weights = merge_cluster_sums(
                    centres, weights, sums, counts, decay_factor(rest.shape[0], halflife))
            recent = np.vstack([self._recent, points])[-self.recent_size :]
            # While adapting to a drift the bar is higher: a persona that moved leaves its
            # centre a trickle of boundary points, enough to stay above the usual bar for ever.
            adapting = self.seen < self.fast_until
            ratio = max(self.dead_ratio, self.drift_dead_ratio) if adapting else self.dead_ratio
            reseeds = plan_reseeds(centres, weights, self.centre_ids, recent, scale, ratio)
        return ModelDelta(
            delta_id=uuid.uuid4().hex, points=n, learned=int(rest.shape[0]),
            recent=points[-self.recent_size :],
            halflife=self.halflife, fast_halflife=self.halflife / self.drift_speedup,
            fast_points=0.0 if math.isinf(self.halflife) else 2 * self.halflife,
            centre_ids=tuple(self.centre_ids),
            counts=counts, sums=sums, mean=batch_mean, m2=batch_m2, reservoir=reservoir,
            initial_centres=None if initial is None else initial[0],
            initial_weights=None if initial is None else initial[1],
            reseeds=reseeds, drift=drift, inertia=inertia,
        )

    def apply_delta(self, delta: ModelDelta) -> None:
        """Merge a delta: the rule the shared Redis copy applies too (``model_merge.lua``).

        >>> model = MiniBatchKMeans(n_clusters=1, reservoir_size=1, halflife=float("inf"))
        >>> model.learn_batch(np.array([[0.0]]))
        >>> model.apply_delta(model.delta_for(np.array([[3.0]])))
        >>> model.centres_original().tolist(), model.weights.tolist(), model.version
        ([[1.5]], [2.0], 2)
        """
        if self.n_features == 0 and self.version == 0:  # a fresh copy learns its width here
            self._set_width(int(delta.mean.shape[0]))
        halflife = delta.fast_halflife if self.seen < self.fast_until else delta.halflife
        self.scaler.merge(delta.points, delta.mean, delta.m2, decay_factor(delta.points, halflife))
        if not self.is_initialised:
            rows = np.vstack([self._reservoir, delta.reservoir])
            self._reservoir = rows[: self.reservoir_size]
            if delta.initial_centres is not None and delta.initial_weights is not None:
                self._centres = delta.initial_centres.copy()
                self._weights = delta.initial_weights.copy()
                self._reservoir = np.zeros((0, self.n_features))
                self.is_initialised = True
        if self.is_initialised and delta.learned:
            same = np.array([a == b for a, b in zip(self.centre_ids, delta.centre_ids,
                                                    strict=True)])
            self._centres, self._weights = merge_cluster_sums(
                self._centres, self._weights, delta.sums * same[:, np.newaxis],
                delta.counts * same, decay_factor(delta.learned, halflife))
        for reseed in delta.reseeds if self.is_initialised else ():
            if self.centre_ids[reseed.slot] == reseed.old_id:
                self._centres[reseed.slot] = reseed.centre
                self._weights[reseed.slot] = reseed.weight
                self.centre_ids[reseed.slot] = format_segment_id(self._next_number)
                self._next_number += 1
        self._recent = np.vstack([self._recent, delta.recent])[-self.recent_size :]
        self.inertia = delta.inertia
        if delta.drift:
            self.fast_until = self.seen + delta.points + int(delta.fast_points)
            self.drifts += 1
            self.last_drift_version = self.version + 1
            self.last_drift_seen = self.seen + delta.points
        self.seen += delta.points
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
