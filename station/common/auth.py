"""Password and PIN hashes for the UI (PBKDF2-SHA256, salted; constant-time check).

Format: ``pbkdf2_sha256$ITERATIONS$SALT_HEX$HASH_HEX``. ``scanstation passwd``
prints one for ``[ui] password_hash`` or ``pin_hash``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 310_000


def hash_secret(secret: str, *, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def is_hash(value: str) -> bool:
    parts = value.split("$")
    return (
        len(parts) == 4
        and parts[0] == ALGORITHM
        and parts[1].isdigit()
        and all(len(p) >= 32 and all(c in "0123456789abcdef" for c in p) for p in parts[2:])
    )


def verify_secret(secret: str, stored: str) -> bool:
    if not is_hash(stored):
        return False
    _, iterations, salt, expected = stored.split("$")
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)
