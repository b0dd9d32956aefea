"""Segments from feature vectors: the model learns, customers are assigned with hysteresis.

This is the seam between the pipeline and the model: the pipeline hands it a matrix of feature
vectors and the customers' current segment ids and gets their new segment ids back.

>>> import numpy as np
>>> from streamapp.core.model import MiniBatchKMeans
>>> seg = Segmenter(MiniBatchKMeans(n_clusters=2, reservoir_size=4, seed=1), margin=0.1)
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(0, 0.1, (20, 5)), rng.normal(5, 0.1, (20, 5))])
>>> ids = seg.learn_and_assign(X, [None] * 40)
>>> len(set(ids[:20])), len(set(ids[20:])), ids[0] != ids[-1]
(1, 1, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from streamapp.core.features import FEATURE_NAMES
from streamapp.core.model_protocol import ClusterModel
from streamapp.core.segment_ids import assign_with_hysteresis
from streamapp.core.segment_names import name_segments

NAMES_EVERY = 32
# What the worker learns at a time once the centres exist: a learning step costs about as much for
# ten rows as for hundreds, and at moderate load the worker's batches hold a few dozen. Its
# customers are assigned at once, with the centres learned so far. The quality benchmark learns
# batches of 250 too (streamapp/bench/quality_cases.py).
LEARN_ROWS = 250


class Segmenter:
    """A model plus the rules that turn its distances into stable, named segment ids.

    Any `ClusterModel` works: `MiniBatchKMeans` (the default, shared by all workers) or a River
    clusterer behind `RiverClusterModel` (see ``model_factory.py``).
    """

    def __init__(
        self,
        model: ClusterModel,
        margin: float,
        name_overrides: Mapping[str, str] | None = None,
        learn_rows: int = 1,
    ) -> None:
        self.model = model
        self.margin = margin
        self.name_overrides = dict(name_overrides or {})
        # Once the centres exist, rows are learned ``learn_rows`` at a time (see ``LEARN_ROWS``).
        self.learn_rows = learn_rows
        self._held: list[np.ndarray] = []
        self._names: tuple[int, tuple[str, ...], dict[str, str]] = (-1, (), {})

    @property
    def version(self) -> int:
        return int(self.model.version)

    def learn_and_assign(
        self, matrix: np.ndarray, current: Sequence[str | None]
    ) -> list[str | None]:
        """Learn from ``matrix`` (one row per customer), then return each customer's segment.

        With ``learn_rows`` above 1, rows are held until that many are there (``learn_held``).
        Until the model has seen enough points to place its centres, customers keep the segment
        they have (none at first), so a cold start emits no burst of meaningless changes.
        """
        if self.model.is_initialised and self.learn_rows > 1:
            self._held.append(matrix)
            if sum(rows.shape[0] for rows in self._held) >= self.learn_rows:
                self.learn_held()
        else:
            self.model.learn_batch(matrix)
        if not self.model.is_initialised:
            return list(current)
        distances = self.model.distances(matrix)
        return list(assign_with_hysteresis(distances, self.model.centre_ids, current, self.margin))

    def learn_held(self) -> None:
        """Learn the rows held back so far, if any.

        >>> from streamapp.core.model import MiniBatchKMeans
        >>> seg = Segmenter(MiniBatchKMeans(n_clusters=1, reservoir_size=1), 0.1, learn_rows=3)
        >>> _ = seg.learn_and_assign(np.zeros((1, 2)), [None])  # places the centre
        >>> _ = seg.learn_and_assign(np.ones((2, 2)), [None] * 2)
        >>> seg.model.version
        1
        >>> seg.learn_held()
        >>> seg.model.version
        2
        """
        if self._held:
            rows, self._held = np.vstack(self._held), []
            self.model.learn_batch(rows)

    def names(self) -> dict[str, str]:
        """Readable name per segment id.

        Worked out again when the segments change or the model has moved ``NAMES_EVERY``
        versions since: names say where centres lie relative to each other, which one batch
        hardly moves, and working them out per batch was a tenth of a small batch's time.
        """
        version, ids, names = self._names
        current = tuple(self.model.centre_ids)
        if current != ids or not 0 <= self.model.version - version < NAMES_EVERY:
            computed = name_segments(
                self.model.centres_original(), self.model.weights, FEATURE_NAMES
            ) if self.model.is_initialised else []
            names = dict(zip(current, computed, strict=False))
            names.update({k: v for k, v in self.name_overrides.items() if k in names})
            self._names = (self.model.version, current, names)
        return names
