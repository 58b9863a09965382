"""Passwords and secrets: argon2id hashes (rehashed when the parameters change) and SHA-256 of random tokens."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from komunikator.engine.service.errors import invalid

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
_HASHER = PasswordHasher()


def check_password(password: str) -> None:
    """422 unless the password is long enough (and not absurdly long)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(f"the password must have at least {MIN_PASSWORD_LENGTH} characters", "password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise invalid(f"the password must have at most {MAX_PASSWORD_LENGTH} characters", "password")

async def hash_password(password: str) -> str:
    """An argon2id hash of `password` (computed off the event loop)."""
    return await asyncio.to_thread(_HASHER.hash, password)

async def verify(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_HASHER.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False

@cache
def dummy_hash() -> str:
    # verified for unknown users, so they cost as much as a wrong password
    return _HASHER.hash(secrets.token_urlsafe(16))

def secret_hash(raw: str) -> str:
    """The stored form of a session or API token: SHA-256, hex."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()

def new_secret() -> tuple[str, str]:
    raw = secrets.token_urlsafe(32)
    return raw, secret_hash(raw)


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with older parameters (replace it at the next successful login)."""
    return _HASHER.check_needs_rehash(password_hash)
