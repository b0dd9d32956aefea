"""What the segmenter needs from a clustering model, whichever one is configured.

`MiniBatchKMeans` is the default and the only one shared by all workers; River's clusterers
(`KMeans`, `DBSTREAM`) fit behind `RiverClusterModel` (``model_river.py``).
"""

from __future__ import annotations

from typing import Any, Protocol

from streamapp.core.kmeans_steps import FloatArray


class ClusterModel(Protocol):
    """A clusterer that learns batches of rows and measures distances to named centres."""

    version: int
    is_initialised: bool
    centre_ids: list[str]

    @property
    def features(self) -> tuple[str, ...] | None: ...
    def learn_batch(self, points: FloatArray) -> None: ...
    def distances(self, points: FloatArray) -> FloatArray: ...
    def centres_original(self) -> FloatArray: ...
    @property
    def weights(self) -> FloatArray: ...
    def state_dict(self) -> dict[str, Any]: ...
