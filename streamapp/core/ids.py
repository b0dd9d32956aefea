"""Customer ids as streamapp may keep them: keyed one-way hashes.

Used for the suppression list of forgotten customers, and for every id when
``STREAMAPP_HASH_CUSTOMER_IDS`` is on.
"""

from __future__ import annotations

import hashlib
import hmac

# A hashed id says what it is, so an operator reading a profile key knows no raw id is behind it.
HASHED_ID_PREFIX = "h-"


def hash_customer_id(customer_id: str, salt: str = "") -> str:
    """A keyed, one-way hash of a customer id (HMAC-SHA-256, 32 hex digits).

    Used for the suppression list of forgotten customers. The salt
    (``STREAMAPP_CUSTOMER_ID_SALT``) keeps a dictionary of known ids from being hashed and matched
    by whoever reads Redis.

    >>> hash_customer_id("u1")
    'h-3703eee47f4bc6895626bb812ed4acd8'
    >>> hash_customer_id("u1", "k") == hash_customer_id("u1")
    False
    >>> len(hash_customer_id("anyone"))
    34
    """
    # The one-shot form skips building an HMAC object: the store hashes every id of every batch.
    digest = hmac.digest(salt.encode(), customer_id.encode(), hashlib.sha256)
    return HASHED_ID_PREFIX + digest[:16].hex()
