"""Argon2 password hashing."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# The password hash of an account that has none (imported, or signed in through an
# identity provider): no password verifies against it.
NO_PASSWORD = "!"

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same time.
_dummy_hash = _hasher.hash("not-a-real-password")


def configure(time_cost: int, memory_cost_kib: int) -> None:
    """Set the cost of new hashes; existing hashes verify with the cost they carry."""
    global _hasher, _dummy_hash
    if (_hasher.time_cost, _hasher.memory_cost) == (time_cost, memory_cost_kib):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib)
    _dummy_hash = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends one argon2 verification."""
    # An account with no password (an imported one: "!") costs as much as any other.
    usable = password_hash if password_hash and password_hash.startswith("$argon2") else None
    try:
        return _hasher.verify(usable or _dummy_hash, password) and usable is not None
    except (VerificationError, InvalidHashError):
        return False
