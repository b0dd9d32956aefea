"""Online standardisation with exponential forgetting.

Customer features mix units (money, counts, days), so k-means needs them on one scale. A fixed
scaler fitted once would go stale as the business changes; a plain running scaler would weigh
last year's customers as much as today's. This one forgets at the same half-life as the model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Below this variance a feature is treated as constant: dividing by a near-zero spread would turn
# rounding noise into huge standardized values and let one dead feature dominate every distance.
_MIN_VARIANCE = 1e-12


class DecayedScaler:
    """Per-feature mean and variance, decayed by half every `halflife` points.

    Before a batch of `n` points is merged, the weight of everything seen so far is multiplied
    by ``0.5 ** (n / halflife)``; the batch is then merged exactly (Chan et al.'s pairwise
    update), so the result does not depend on how points are split into batches except
    through the decay itself.

    Parameters
    ----------
    halflife
        Number of points after which an old point counts half as much. ``math.inf`` never
        forgets.
    n_features
        Width of the points; ``None`` takes it from the first batch.

    Examples
    --------
    >>> import numpy as np
    >>> scaler = DecayedScaler(halflife=float("inf"))
    >>> scaler.update(np.array([[1.0, 10.0], [3.0, 10.0]]))
    >>> scaler.mean.tolist(), scaler.variance.tolist()
    ([2.0, 10.0], [1.0, 0.0])
    >>> scaler.transform(np.array([[3.0, 12.0]])).tolist()
    [[1.0, 2.0]]
    """

    def __init__(self, halflife: float = 50_000.0, n_features: int | None = None) -> None:
        if not halflife > 0:
            raise ValueError(f"halflife must be positive, got {halflife!r}")
        self.halflife = float(halflife)
        self.weight = 0.0
        self._mean: FloatArray | None = None
        self._m2: FloatArray | None = None  # decayed sum of squared deviations from the mean
        if n_features is not None:
            self._mean = np.zeros(n_features)
            self._m2 = np.zeros(n_features)

    @property
    def n_features(self) -> int | None:
        """Width of the points, or ``None`` before the first batch."""
        return None if self._mean is None else int(self._mean.shape[0])

    @property
    def mean(self) -> FloatArray:
        """Decayed mean per feature (zeros before any data)."""
        return np.zeros(0) if self._mean is None else self._mean.copy()

    @property
    def variance(self) -> FloatArray:
        """Decayed population variance per feature (zeros before any data)."""
        if self._m2 is None or self.weight <= 0:
            return np.zeros(0 if self._m2 is None else self._m2.shape[0])
        return self._m2 / self.weight

    @property
    def scale(self) -> FloatArray:
        """Standard deviation per feature, with 1.0 standing in for constant features."""
        variance = self.variance
        return np.where(variance > _MIN_VARIANCE, np.sqrt(variance), 1.0)

    def update(self, points: FloatArray) -> None:
        """Decay the running statistics by the batch size, then merge the batch.

        >>> scaler = DecayedScaler(halflife=1.0)
        >>> scaler.update(np.array([[0.0], [0.0]]))
        >>> scaler.update(np.array([[4.0]]))  # the two zeros now weigh 0.5 each
        >>> scaler.weight, scaler.mean.tolist(), scaler.variance.tolist()
        (2.0, [2.0], [4.0])
        """
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2:
            raise ValueError(f"expected a 2-D array of points, got shape {points.shape}")
        if self._mean is not None and points.shape[1] != self._mean.shape[0]:
            raise ValueError(f"expected {self._mean.shape[0]} features, got {points.shape[1]}")
        n, batch_mean, batch_m2 = batch_moments(points)
        self.merge(n, batch_mean, batch_m2, 0.5 ** (n / self.halflife))

    def merge(self, n: int, batch_mean: FloatArray, batch_m2: FloatArray, decay: float) -> None:
        """Fade the statistics by `decay`, then merge a batch given by its `batch_moments`.

        This is the whole update rule, split out so that a shared copy of the statistics (the
        Redis script mirrors it operation for operation) merges batches the same way.

        >>> scaler = DecayedScaler(n_features=1)
        >>> scaler.merge(2, np.array([1.0]), np.array([2.0]), decay=1.0)
        >>> scaler.weight, scaler.mean.tolist(), scaler.variance.tolist()
        (2.0, [1.0], [1.0])
        """
        width = int(np.shape(batch_mean)[0])
        if self._mean is None or self._m2 is None:
            self._mean = np.zeros(width)
            self._m2 = np.zeros(width)
        if width != self._mean.shape[0]:
            raise ValueError(f"expected {self._mean.shape[0]} features, got {width}")
        if n == 0:
            return
        old_weight = self.weight * decay
        total = old_weight + n
        delta = batch_mean - self._mean
        self._mean = self._mean + delta * (n / total)
        self._m2 = self._m2 * decay + batch_m2 + delta * delta * (old_weight * n / total)
        self.weight = total

    def transform(self, points: FloatArray) -> FloatArray:
        """Standardize points (rows) with the current statistics.

        >>> DecayedScaler(n_features=2).transform(np.array([[1.0, 2.0]])).tolist()
        [[1.0, 2.0]]
        """
        points = np.asarray(points, dtype=np.float64)
        if self._mean is None:
            return points.copy()
        return (points - self._mean) / self.scale

    def inverse_transform(self, standardized: FloatArray) -> FloatArray:
        """Map standardized rows back to original units.

        >>> scaler = DecayedScaler(halflife=float("inf"))
        >>> scaler.update(np.array([[0.0], [2.0]]))
        >>> scaler.inverse_transform(np.array([[1.0]])).tolist()
        [[2.0]]
        """
        standardized = np.asarray(standardized, dtype=np.float64)
        if self._mean is None:
            return standardized.copy()
        return standardized * self.scale + self._mean

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state; `from_state_dict` restores it exactly.

        >>> DecayedScaler(halflife=10.0, n_features=1).state_dict()
        {'halflife': 10.0, 'weight': 0.0, 'mean': [0.0], 'm2': [0.0]}
        """
        return {
            # JSON has no infinity; None stands for "never forget".
            "halflife": None if math.isinf(self.halflife) else self.halflife,
            "weight": self.weight,
            "mean": None if self._mean is None else self._mean.tolist(),
            "m2": None if self._m2 is None else self._m2.tolist(),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> DecayedScaler:
        """Rebuild a scaler saved with `state_dict`.

        >>> scaler = DecayedScaler(halflife=4.0)
        >>> scaler.update(np.array([[1.0], [5.0]]))
        >>> DecayedScaler.from_state_dict(scaler.state_dict()).state_dict() == scaler.state_dict()
        True
        """
        halflife = state["halflife"]
        scaler = cls(halflife=math.inf if halflife is None else float(halflife))
        scaler.weight = float(state["weight"])
        if state["mean"] is not None:
            scaler._mean = np.asarray(state["mean"], dtype=np.float64)
            scaler._m2 = np.asarray(state["m2"], dtype=np.float64)
        return scaler


def batch_moments(points: FloatArray) -> tuple[int, FloatArray, FloatArray]:
    """Number of points, mean and sum of squared deviations per feature (zeros when empty).

    >>> n, mean, m2 = batch_moments(np.array([[1.0], [3.0]]))
    >>> n, mean.tolist(), m2.tolist()
    (2, [2.0], [2.0])
    """
    n = int(points.shape[0])
    if n == 0:
        return 0, np.zeros(points.shape[1]), np.zeros(points.shape[1])
    mean = points.mean(axis=0)
    return n, mean, ((points - mean) ** 2).sum(axis=0)
