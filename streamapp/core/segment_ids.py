"""Stable segment ids: keep an id's meaning across model updates, and stop customers flapping.

Downstream tools key e-mail campaigns and CRM fields on ``seg-3``; if ``seg-3`` meant "big
spenders" yesterday and "lapsed" today, every consumer would act on a lie. Two tools here:
`match_centres` carries ids across a refit, and `assign_with_hysteresis` keeps a customer in
its segment until another one is clearly closer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

FloatArray = npt.NDArray[np.float64]

_ID_PATTERN = re.compile(r"seg-(\d+)")


def format_segment_id(number: int) -> str:
    """The id of segment `number`.

    >>> format_segment_id(3)
    'seg-3'
    """
    return f"seg-{number}"


def segment_number(segment_id: str) -> int | None:
    """The number in a ``seg-N`` id, or ``None`` for ids of another shape (e.g. overrides).

    >>> segment_number("seg-12"), segment_number("vip")
    (12, None)
    """
    match = _ID_PATTERN.fullmatch(segment_id)
    return int(match.group(1)) if match else None


def next_free_number(used: Iterable[str]) -> int:
    """One more than the largest ``seg-N`` number in `used` (1 if there is none).

    Numbers are never reused, even after a gap: a consumer that still remembers a retired
    ``seg-4`` must not see it come back with another meaning.

    >>> next_free_number(["seg-1", "seg-5", "vip"])
    6
    """
    numbers = [n for n in map(segment_number, used) if n is not None]
    return max(numbers, default=0) + 1


def match_centres(
    old: FloatArray,
    old_ids: Sequence[str],
    new: FloatArray,
    threshold: float,
    *,
    reserved: Iterable[str] = (),
) -> list[str]:
    """Ids for the `new` centres: the id of the old centre each one replaces, else a fresh one.

    Old and new centres are paired by the Hungarian method (minimum total Euclidean distance,
    `scipy.optimize.linear_sum_assignment`), so a refit that merely reorders centres keeps
    every id. A pair further apart than `threshold` (same units as the centres, plain not
    squared distance) is not a match: the new centre means something else and gets the next
    free ``seg-N`` number, counting `old_ids` and `reserved` (ids retired earlier) as used.

    Parameters
    ----------
    old, new
        Centres as ``k_old × d`` and ``k_new × d`` arrays; the counts may differ.
    old_ids
        Id of each old centre.
    threshold
        Largest distance at which a new centre still inherits an old id.
    reserved
        Ids that must not be handed out again.

    Examples
    --------
    >>> old = np.array([[0.0, 0.0], [5.0, 5.0]])
    >>> match_centres(old, ["seg-1", "seg-2"], np.array([[5.1, 5.0], [0.0, 0.2]]), 1.0)
    ['seg-2', 'seg-1']
    >>> match_centres(old, ["seg-1", "seg-2"], np.array([[0.1, 0.0], [40.0, 0.0]]), 1.0)
    ['seg-1', 'seg-3']
    """
    if len(old_ids) != old.shape[0]:
        raise ValueError(f"{old.shape[0]} old centres but {len(old_ids)} ids")
    ids: list[str | None] = [None] * new.shape[0]
    if old.shape[0] and new.shape[0]:
        diff = old[:, np.newaxis, :] - new[np.newaxis, :, :]
        cost = np.sqrt(np.einsum("okd,okd->ok", diff, diff))
        for old_index, new_index in zip(*linear_sum_assignment(cost), strict=True):
            if cost[old_index, new_index] <= threshold:
                ids[new_index] = old_ids[old_index]
    number = next_free_number([*old_ids, *reserved])
    result: list[str] = []
    for segment_id in ids:
        if segment_id is None:
            segment_id = format_segment_id(number)
            number += 1
        result.append(segment_id)
    return result


def assign_with_hysteresis(
    distances: FloatArray,
    centre_ids: Sequence[str],
    current: Sequence[str | None],
    margin: float,
) -> list[str]:
    """Each customer's segment id, keeping the current one unless another is clearly closer.

    The rule, on the squared distances the model returns: a customer moves from its current
    centre (squared distance ``d_cur``) to the nearest one (``d_best``) only if
    ``d_best < (1 - margin) * d_cur``. ``margin=0.1`` on squared distances asks for roughly 5%
    in plain distance. A customer without a segment, or whose segment no longer exists (its
    centre was reseeded), takes the nearest centre.

    Parameters
    ----------
    distances
        ``n × k`` squared distances from each customer to each centre.
    centre_ids
        Id of each of the ``k`` centres (column order of `distances`).
    current
        Each customer's current segment id, or ``None``.
    margin
        Relative improvement needed to move, in ``[0, 1)``; 0 always takes the nearest.

    Examples
    --------
    >>> d = np.array([[1.00, 0.95], [1.00, 0.50], [1.00, 0.95]])
    >>> assign_with_hysteresis(d, ["seg-1", "seg-2"], ["seg-1", "seg-1", None], margin=0.1)
    ['seg-1', 'seg-2', 'seg-2']
    """
    if not 0 <= margin < 1:
        raise ValueError(f"margin must be in [0, 1), got {margin!r}")
    distances = np.asarray(distances, dtype=np.float64)
    n, k = distances.shape
    if len(centre_ids) != k or len(current) != n:
        raise ValueError(
            f"distances are {n}×{k} but got {len(centre_ids)} centre ids "
            f"and {len(current)} current segments"
        )
    column_of = {segment_id: column for column, segment_id in enumerate(centre_ids)}
    current_column = np.fromiter(
        (column_of.get(s, -1) if s is not None else -1 for s in current), dtype=np.intp, count=n
    )
    nearest = np.argmin(distances, axis=1)
    has_current = current_column >= 0
    rows = np.arange(n)
    current_distance = distances[rows, np.where(has_current, current_column, 0)]
    best_distance = distances[rows, nearest]
    stay = has_current & ~(best_distance < (1.0 - margin) * current_distance)
    chosen = np.where(stay, current_column, nearest)
    return [centre_ids[column] for column in chosen.tolist()]
