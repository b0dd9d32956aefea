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
    ) -> None:
        self.model = model
        self.margin = margin
        self.name_overrides = dict(name_overrides or {})
        self._names: tuple[int, tuple[str, ...], dict[str, str]] = (-1, (), {})

    @property
    def version(self) -> int:
        return int(self.model.version)

    def learn_and_assign(
        self, matrix: np.ndarray, current: Sequence[str | None]
    ) -> list[str | None]:
        """Learn from ``matrix`` (one row per customer), then return each customer's segment.

        Until the model has seen enough points to place its centres, customers keep the segment
        they have (none at first), so a cold start emits no burst of meaningless changes.
        """
        self.model.learn_batch(matrix)
        if not self.model.is_initialised:
            return list(current)
        distances = self.model.distances(matrix)
        return list(assign_with_hysteresis(distances, self.model.centre_ids, current, self.margin))

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
