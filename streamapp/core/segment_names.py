"""Readable segment names from where each centre sits relative to the others.

Operators and marketers read "high spend · frequent · recent", not ``seg-3``. Words for spend,
order frequency and recency come from a centre's position against the weighted mean and spread
of all centres, so they stay meaningful whatever the currency or the shop's typical basket; only
"no spend", "no orders" and "one-time" use absolute cut-offs, because they are facts about counts.

Features are expected on the pipeline's scales: ``monetary = log1p(revenue)``,
``frequency = log1p(orders)``, ``recency = log1p(days since last order, or since first seen)``
(higher means longer ago), ``activity = log1p(events)``, ``browsing = log1p(page views)``.
Features missing from `feature_names` are simply left out of the name. Operators who want their
own wording map ids to names elsewhere (the segmenter applies such overrides on top of these).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

SEPARATOR = " · "
# Relative position, in units of the centres' weighted spread, beyond which a centre is called
# high or low; half a spread keeps most centres of a 6-centre model out of the middle band.
_BAND = 0.5
# Absolute cut-offs on the log1p scale. A centre is an average, so "no orders" means its
# customers average under half an order, "one-time" under one and a half.
_NO_ORDERS = math.log1p(0.5)
_ONE_TIME = math.log1p(1.5)
_NO_SPEND = math.log1p(1.0)

# Words that split two centres that would otherwise share a name: (lower value, higher value).
_QUALIFIERS = {
    "monetary": ("lower spend", "higher spend"),
    "frequency": ("fewer orders", "more orders"),
    "recency": ("more recent", "less recent"),
    "activity": ("less active", "more active"),
    "browsing": ("lighter browsing", "heavier browsing"),
}


def relative_position(centres: FloatArray, weights: FloatArray) -> FloatArray:
    """Each centre's offset from the weighted mean of centres, in weighted standard deviations.

    A feature on which all centres agree gets 0 everywhere (nothing to tell them apart by).

    >>> relative_position(np.array([[0.0, 1.0], [2.0, 1.0]]), np.array([1.0, 1.0])).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.sum() <= 0:
        weights = np.ones(centres.shape[0])
    mean = np.average(centres, axis=0, weights=weights)
    spread = np.sqrt(np.average((centres - mean) ** 2, axis=0, weights=weights))
    safe = np.where(spread > 1e-12, spread, 1.0)
    return np.where(spread > 1e-12, (centres - mean) / safe, 0.0)


def _band(z: float, low: str, middle: str, high: str) -> str:
    return high if z > _BAND else low if z < -_BAND else middle


def describe_centre(values: Mapping[str, float], position: Mapping[str, float]) -> list[str]:
    """The words for one centre, given its feature values and relative positions by name.

    >>> describe_centre({"monetary": 5.0, "frequency": 2.0, "recency": 0.5},
    ...                 {"monetary": 1.2, "frequency": 0.9, "recency": -1.0})
    ['high spend', 'frequent', 'recent']
    >>> describe_centre({"frequency": 0.0, "browsing": 2.0, "recency": 3.0},
    ...                 {"frequency": -1.0, "browsing": 0.0, "recency": 0.2})
    ['browsing', 'no orders', 'lapsing']
    """
    words: list[str] = []
    buyer = values.get("frequency", math.inf) >= _NO_ORDERS
    if buyer:
        if "monetary" in values:
            words.append(
                "no spend"
                if values["monetary"] < _NO_SPEND
                else _band(position["monetary"], "low spend", "mid spend", "high spend")
            )
        if "frequency" in values:
            words.append(
                "one-time"
                if values["frequency"] < _ONE_TIME
                else _band(position["frequency"], "occasional", "occasional", "frequent")
            )
    else:
        looking = "browsing" if "browsing" in position else "activity"
        if looking in position:
            words.append(_band(position[looking], "idle", "browsing", "heavy browsing"))
        words.append("no orders")
    if "recency" in position:
        # A higher recency value means the last order (or first visit) was LONGER ago.
        words.append(_band(position["recency"], "recent", "lapsing", "lapsed"))
    return words


def name_segments(
    centres: FloatArray, weights: FloatArray, feature_names: Sequence[str]
) -> list[str]:
    """A unique, readable name for each centre (rows of `centres`, original units).

    Two centres that earn the same words are told apart by the feature on which they differ
    most ("lower spend" / "higher spend", ...); any name still shared gets " #2", " #3" in
    order of decreasing weight, so the biggest segment keeps the plain name.

    Parameters
    ----------
    centres
        ``k × d`` centres in the pipeline's (log-scaled) feature units.
    weights
        Number of customers (or decayed points) behind each centre; weighs the population.
    feature_names
        Name of each of the ``d`` columns.

    Examples
    --------
    >>> names = ["monetary", "frequency", "recency", "activity", "browsing"]
    >>> centres = np.array([
    ...     [6.0, 2.5, 1.0, 4.0, 3.0],   # big baskets, many orders, bought last days
    ...     [3.0, 0.7, 4.5, 2.0, 1.5],   # one order, long ago
    ...     [0.0, 0.0, 1.0, 2.5, 2.5],   # looks around, never bought
    ...     [3.5, 1.4, 2.5, 3.0, 2.0],
    ... ])
    >>> for name in name_segments(centres, np.array([10.0, 30.0, 40.0, 20.0]), names):
    ...     print(name)
    high spend · frequent · recent
    low spend · one-time · lapsed
    heavy browsing · no orders · recent
    mid spend · occasional · lapsing
    """
    centres = np.asarray(centres, dtype=np.float64)
    if centres.shape[1] != len(feature_names):
        raise ValueError(f"{centres.shape[1]} centre columns but {len(feature_names)} names")
    weights = np.asarray(weights, dtype=np.float64)
    columns = {name: column for column, name in enumerate(feature_names)}
    z = relative_position(centres, weights)
    if "frequency" in columns:
        # Spend and frequency are ranked among buyers only: a crowd of never-buyers would
        # otherwise pull the mean down and make every buyer look like a big spender.
        buyers = centres[:, columns["frequency"]] >= _NO_ORDERS
        if buyers.any():
            ranked = [columns[name] for name in ("monetary", "frequency") if name in columns]
            z_buyers = relative_position(centres[buyers], weights[buyers])
            z[np.ix_(buyers, np.array(ranked, dtype=np.intp))] = z_buyers[:, ranked]
    bases = []
    for row in range(centres.shape[0]):
        values = {name: float(centres[row, col]) for name, col in columns.items()}
        position = {name: float(z[row, col]) for name, col in columns.items()}
        bases.append(SEPARATOR.join(describe_centre(values, position)) or "segment")
    qualified = _qualify_ties(bases, centres, z, columns)
    return _number_ties(qualified, weights)


def _qualify_ties(
    bases: list[str], centres: FloatArray, z: FloatArray, columns: Mapping[str, int]
) -> list[str]:
    groups: dict[str, list[int]] = defaultdict(list)
    for row, base in enumerate(bases):
        groups[base].append(row)
    names = list(bases)
    usable = [name for name in _QUALIFIERS if name in columns]
    for members in groups.values():
        if len(members) < 2 or not usable:
            continue
        # The feature that separates this group most, measured in population spreads.
        spreads = {name: float(np.ptp(z[members, columns[name]])) for name in usable}
        feature = max(usable, key=lambda name: spreads[name])
        if spreads[feature] <= 0:
            continue
        order = sorted(members, key=lambda row: centres[row, columns[feature]])
        low, high = _QUALIFIERS[feature]
        names[order[0]] = f"{bases[order[0]]}{SEPARATOR}{low}"
        names[order[-1]] = f"{bases[order[-1]]}{SEPARATOR}{high}"
    return names


def _number_ties(names: list[str], weights: FloatArray) -> list[str]:
    result = list(names)
    taken = set(names)
    seen: set[str] = set()
    for row in sorted(range(len(names)), key=lambda r: (-weights[r], r)):
        if names[row] in seen:
            number = 2
            while f"{names[row]} #{number}" in taken:
                number += 1
            result[row] = f"{names[row]} #{number}"
            taken.add(result[row])
        seen.add(names[row])
    return result
