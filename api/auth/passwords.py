"""Password hashing with argon2id (AUTH-02), off the event loop and bounded.

argon2id costs memory and time per hash by design, so every
hash and verify runs in a worker thread, at most `MAX_CONCURRENT_HASHES` at a
time (a burst of sign-ins queues instead of exhausting memory), and passwords
are capped at 128 characters so nobody can make one hash arbitrarily dear.

Unknown emails are verified against a dummy hash: a sign-in with a wrong
password and one with an unknown email do the same work, so timing does not
tell which emails exist.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.errors import BadUserInput
from api.text import refuse_control_characters

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
MAX_CONCURRENT_HASHES = 4
# OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): memory-hard, ~40 ms a hash,
# so a burst of sign-ins costs little memory and no one waits long.
ARGON2_MEMORY_KIB = 19_456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1


def check_password_rules(password: str) -> None:
    refuse_control_characters(password, field="password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(
            f"Password must have at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadUserInput(
            f"Password must have at most {MAX_PASSWORD_LENGTH} characters", field="password"
        )


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher(
            time_cost=ARGON2_TIME_COST,
            memory_cost=ARGON2_MEMORY_KIB,
            parallelism=ARGON2_PARALLELISM,
        )
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_HASHES)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches; with no stored hash, does the same work and says no."""
        if len(password) > MAX_PASSWORD_LENGTH:
            password = password[:MAX_PASSWORD_LENGTH]  # bounded cost; such a password never matches
        if stored_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash("not-a-password-anyone-has")
            await self._verify(self._dummy_hash, password)
            return False
        return await self._verify(stored_hash, password)

    async def _verify(self, stored_hash: str, password: str) -> bool:
        async with self._slots:
            try:
                return await asyncio.to_thread(self._hasher.verify, stored_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    async def warm_up(self) -> None:
        """Make the dummy hash before the first sign-in, so that one is not slower."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("not-a-password-anyone-has")
