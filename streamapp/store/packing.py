"""The packed binary form of the profile fields that only streamapp reads: order windows and RFM.

Every byte of a profile hash is paid once per customer, and decimal text with separators is about
twice the size of the numbers it holds: ``"20454:1:2500,20457:2:4999"`` is 25 bytes, the same
buckets packed are 10. A packed field is a run of signed integers, each a zigzag varint (the
encoding of protobuf's ``sint64``: 1 byte up to ±63, 2 up to ±8191, 3 up to ±1,048,575). The
Redis scripts read and write the same form (``packing.lua``, loaded ahead of the scripts that
use it); no library is used because both sides must agree byte for byte and Lua has none.

Order windows keep their meaning (``streamapp.core.windows``): each bucket is (days after the
previous bucket's day, orders, cents), the first bucket's day counted from day 0.

>>> packed = pack_windows((DayBucket(20454, 1, 2500), DayBucket(20457, 2, 4999)))
>>> len(packed), unpack_windows(packed)[1]
(10, DayBucket(day=20457, orders=2, cents=4999))
>>> unpack_rfm(pack_rfm("r:20454,f:0,m:-1"))
'r:20454,f:0,m:-1'
"""

from __future__ import annotations

from streamapp.core.windows import Buckets, DayBucket

RFM_DIMENSIONS = ("r", "f", "m")


def pack_ints(numbers: list[int]) -> bytes:
    """Signed integers as zigzag varints.

    >>> pack_ints([0, -1, 1, 64]).hex()
    '0001028001'
    """
    out = bytearray()
    for n in numbers:
        z = 2 * n if n >= 0 else -2 * n - 1
        while z >= 0x80:
            out.append(z & 0x7F | 0x80)
            z >>= 7
        out.append(z)
    return bytes(out)


def unpack_ints(packed: bytes) -> list[int]:
    """The integers ``pack_ints`` packed; ``ValueError`` if the last one is cut short.

    >>> unpack_ints(bytes.fromhex("0001028001"))
    [0, -1, 1, 64]
    """
    numbers: list[int] = []
    z = shift = 0
    for byte in packed:
        z |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            numbers.append(z >> 1 if z % 2 == 0 else -(z + 1) // 2)
            z = shift = 0
    if shift:
        raise ValueError(f"packed integers {packed.hex()} end in the middle of a number")
    return numbers


def pack_windows(buckets: Buckets) -> bytes:
    """Daily order buckets, oldest first, as (day delta, orders, cents) triples (empty: none)."""
    numbers: list[int] = []
    previous = 0
    for b in sorted(buckets):
        numbers += [b.day - previous, b.orders, b.cents]
        previous = b.day
    return pack_ints(numbers)


def unpack_windows(packed: bytes) -> Buckets:
    """The buckets ``pack_windows`` packed.

    >>> unpack_windows(b"")
    ()
    """
    numbers = unpack_ints(packed)
    if len(numbers) % 3:
        raise ValueError(f"packed order windows {packed.hex()} are not whole buckets")
    buckets = []
    day = 0
    for i in range(0, len(numbers), 3):
        day += numbers[i]
        buckets.append(DayBucket(day, numbers[i + 1], numbers[i + 2]))
    return tuple(buckets)


def pack_rfm(rfm_fields: str) -> bytes:
    """A buyer's RFM histogram fields (``streamapp.core.rfm.fields``, joined by commas) as three
    numbers; the dimension names are implied by the position. Empty for a non-buyer.

    >>> pack_rfm(""), pack_rfm("r:20454,f:7,m:59").hex()
    (b'', 'ccbf020e76')
    """
    if not rfm_fields:
        return b""
    names = rfm_fields.split(",")
    if [n.split(":", 1)[0] for n in names] != list(RFM_DIMENSIONS):
        raise ValueError(f"RFM fields {rfm_fields!r} are not r:<day>,f:<bin>,m:<bin>")
    return pack_ints([int(n.split(":", 1)[1]) for n in names])


def unpack_rfm(packed: bytes) -> str:
    """The RFM histogram fields ``pack_rfm`` packed, as the comma-joined text."""
    numbers = unpack_ints(packed)
    if numbers and len(numbers) != len(RFM_DIMENSIONS):
        raise ValueError(f"packed RFM fields {packed.hex()} are not three numbers")
    return ",".join(f"{d}:{n}" for d, n in zip(RFM_DIMENSIONS, numbers, strict=False))

