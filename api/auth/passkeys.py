"""Passkeys: register them, sign in with one, approve what matters with one (KEY-01..03).

Guarantees:

* the relying party is PUBLIC_ORIGIN's host (api/auth/relying_party.py); passkeys
  are off, with a plain FORBIDDEN reason PASSKEYS_OFF, when that is unset or an IP;
* every ceremony spends a server-side challenge first (32 random bytes, single-use,
  5 minutes), so a replayed answer is refused whatever else it carries;
* user verification (Face ID, fingerprint, PIN) is required, at creation and at
  every use;
* a sign count that does not move forward is refused and logged: two authenticators
  answering for one credential means it was copied;
* an approval's challenge is derived from what it approves (`Approval.digest`) and
  the server stores that digest with it, so an assertion for one live order, or one
  change of limits, approves exactly that and nothing else;
* adding or removing a passkey needs a fresh sign-in or an existing passkey, as
  loosening a live account does: a borrowed session cannot plant its own passkey;
* the person's last way to sign in is never removed (`leaves_a_way_in`).

The schema reaches sign-in through `AuthService` (which opens the session, under
the sign-in rate limits); the rest is called directly.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from uuid import UUID

import asyncpg

from api.auth import passkey_store as store
from api.auth import security_log
from api.auth.ceremonies import (
    Assertion,
    assertion_options,
    check_assertion,
    parse_assertion,
    parse_attestation,
    registration_options,
    verify_attestation,
    verify_signature,
)
from api.auth.freshness import fresh_sign_in_required, signed_in_recently
from api.auth.passkey_store import PasskeyInfo, Purpose
from api.auth.relying_party import PasskeysOff, RelyingParty
from api.auth.security_log import SecurityEventKind
from api.auth.sessions import Principal
from api.db import Database
from api.errors import BadUserInput, Forbidden, NotFound, PasskeyRequired, Unauthenticated
from api.text import refuse_control_characters

log = logging.getLogger(__name__)

MAX_NAME = 60
MAX_PASSKEYS = 20
CHALLENGE_INVALID = "PASSKEY_CHALLENGE_INVALID"
WRONG_SUBJECT = "PASSKEY_WRONG_SUBJECT"
UNKNOWN_PASSKEY = "PASSKEY_UNKNOWN"
CLONED = "PASSKEY_CLONED"
LAST_SIGN_IN_METHOD = "LAST_SIGN_IN_METHOD"
SIGN_IN_REFUSED = "This passkey could not sign you in: try again, or use your password"


@dataclass(frozen=True)
class Approval:
    """What one passkey assertion approves: an action and its exact content.

    The digest is SHA-256 over a canonical JSON of both (sorted keys, no spaces,
    Decimals and UUIDs as strings), so the same order or the same limits always
    give the same digest and any other gives another.
    """

    action: str
    content: Mapping[str, object]

    @property
    def digest(self) -> bytes:
        canonical = json.dumps(
            {"action": self.action, "content": self.content},
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(canonical.encode()).digest()


ADD_PASSKEY = Approval("add-passkey", {})


def leaves_a_way_in(*, has_password: bool, passkeys_after: int) -> bool:
    """KEY-03: the one rule for removing a sign-in method: something must remain."""
    return has_password or passkeys_after > 0


class PasskeyService:
    """Passkeys of the caller's own user; one per process."""

    def __init__(self, database: Database, relying_party: RelyingParty | PasskeysOff) -> None:
        self._database = database
        self._rp = relying_party
        if isinstance(relying_party, PasskeysOff):
            log.warning("%s", relying_party.reason)

    def _relying_party(self) -> RelyingParty:
        if isinstance(self._rp, PasskeysOff):
            raise self._rp.error()
        return self._rp

    # ── registration ────────────────────────────────────────────────────────
    async def begin_registration(
        self, principal: Principal, email: str, passkey: object | None
    ) -> dict[str, Any]:
        """Creation options for a new passkey of this person (KEY-01)."""
        rp = self._relying_party()
        await self.require_step_up(principal, ADD_PASSKEY, passkey, "add a passkey")
        challenge = store.new_challenge()
        async with self._database.tenant(principal.user_id) as conn:
            existing = await store.keys_of(conn, principal.user_id)
            if len(existing) >= MAX_PASSKEYS:
                raise BadUserInput(f"You already have {MAX_PASSKEYS} passkeys: remove one first")
            await store.store_challenge(conn, principal.user_id, Purpose.REGISTER, challenge)
        return registration_options(
            rp,
            user_handle=principal.user_id.bytes,
            user_name=email,
            challenge=challenge,
            existing=existing,
        )

    async def finish_registration(
        self, user_id: UUID, credential: object, name: str
    ) -> PasskeyInfo:
        """Verify the new credential against a challenge issued to this person, then store it."""
        rp = self._relying_party()
        name = _clean_name(name)
        attestation = parse_attestation(credential, "credential")
        async with self._database.tenant(user_id) as conn:
            spent = await store.spend_challenge(
                conn, user_id, Purpose.REGISTER, attestation.challenge
            )
        if spent is None or spent.expired:
            raise _challenge_refused()
        key = verify_attestation(rp, attestation)
        try:
            async with self._database.tenant(user_id) as conn:
                added = await store.insert(conn, user_id, key, name)
                await security_log.record(
                    conn, user_id, SecurityEventKind.PASSKEY_ADDED, _detail(added)
                )
        except asyncpg.UniqueViolationError:
            raise BadUserInput("This passkey is already registered", field="credential") from None
        log.info("user %s added passkey %s", user_id, added.id)
        return added

    # ── listing and removal ─────────────────────────────────────────────────
    async def list(self, user_id: UUID) -> list[PasskeyInfo]:
        async with self._database.tenant(user_id) as conn:
            return await store.list_of(conn, user_id)

    async def remove(self, principal: Principal, passkey_id: UUID, passkey: object | None) -> None:
        """KEY-03: needs a fresh sign-in or a passkey; never the last way to sign in."""
        user_id = principal.user_id
        async with self._database.tenant(user_id) as conn:
            if not any(p.id == passkey_id for p in await store.list_of(conn, user_id)):
                raise NotFound("No such passkey")
        approval = Approval("remove-passkey", {"id": str(passkey_id)})
        await self.require_step_up(principal, approval, passkey, "remove a passkey")
        async with self._database.tenant(user_id) as conn:
            removed = await store.delete(conn, user_id, passkey_id)
            if removed is None:
                raise NotFound("No such passkey")
            left = await store.count_of(conn, user_id)
            # every user has a password today (app.users.password_hash is not null)
            if not leaves_a_way_in(has_password=True, passkeys_after=left):
                raise Forbidden(
                    "This is your last way to sign in: add another first",
                    reason=LAST_SIGN_IN_METHOD,
                )
            await security_log.record(
                conn, user_id, SecurityEventKind.PASSKEY_REMOVED, _detail(removed)
            )
        log.info("user %s removed passkey %s", user_id, passkey_id)

    # ── signing in ──────────────────────────────────────────────────────────
    async def begin_sign_in(self) -> dict[str, Any]:
        """Options with no credential list: the device offers its own passkeys for this site."""
        rp = self._relying_party()
        challenge = store.new_challenge()
        await store.store_sign_in_challenge(self._database, challenge)
        return assertion_options(rp, challenge=challenge, allowed=[])

    async def verify_sign_in(self, credential: object) -> UUID:
        """The user a passkey answer proves, or UNAUTHENTICATED (BAD_USER_INPUT if malformed)."""
        rp = self._relying_party()
        assertion = parse_assertion(credential, "credential")
        if not await store.spend_sign_in_challenge(self._database, assertion.challenge):
            raise Unauthenticated(SIGN_IN_REFUSED)
        try:
            check_assertion(rp, assertion)
        except Forbidden as refused:
            raise Unauthenticated(refused.message) from None
        found = await store.find_credential(self._database, assertion.credential_id)
        # the handle the device returns must be the one registered with this credential
        if found is None or assertion.user_handle not in (None, found.user_id.bytes):
            raise Unauthenticated(SIGN_IN_REFUSED)
        try:
            await self._accept(rp, assertion, found)
        except Forbidden:
            raise Unauthenticated(SIGN_IN_REFUSED) from None
        return found.user_id

    # ── approvals: live orders, loosening a live account ───────────────────
    async def has_passkeys(self, user_id: UUID) -> bool:
        async with self._database.tenant(user_id) as conn:
            return await store.count_of(conn, user_id) > 0

    async def require_passkey(
        self, user_id: UUID, approval: Approval, passkey: object | None, what: str
    ) -> None:
        """KEY-02: a person with a passkey approves `approval` with it; others pass."""
        if not await self.has_passkeys(user_id):
            return
        if passkey is None:
            await self._demand(user_id, approval, what)
        await self.approve(user_id, approval, passkey)

    async def require_step_up(
        self, principal: Principal, approval: Approval, passkey: object | None, what: str
    ) -> None:
        """RISK-03: a fresh sign-in, or a passkey approving exactly this."""
        if await self.approved(principal.user_id, approval, passkey):
            return
        async with self._database.tenant(principal.user_id) as conn:
            if await signed_in_recently(conn, principal):
                return
        await self.refuse_step_up(principal, approval, what)

    async def approved(self, user_id: UUID, approval: Approval, passkey: object | None) -> bool:
        """False without a passkey answer; True for a valid one; FORBIDDEN for a bad one."""
        if passkey is None:
            return False
        await self.approve(user_id, approval, passkey)
        return True

    async def refuse_step_up(self, principal: Principal, approval: Approval, what: str) -> NoReturn:
        """PASSKEY_REQUIRED (with options) for a person with a passkey, else a fresh sign-in."""
        if isinstance(self._rp, RelyingParty) and await self.has_passkeys(principal.user_id):
            await self._demand(principal.user_id, approval, what)
        raise fresh_sign_in_required(what)

    async def _demand(self, user_id: UUID, approval: Approval, what: str) -> NoReturn:
        options = await self.approval_options(user_id, approval)
        raise PasskeyRequired(f"Confirm with your passkey to {what}", options=options)

    async def approval_options(self, user_id: UUID, approval: Approval) -> dict[str, Any]:
        """Assertion options whose challenge is SHA-256(digest || nonce), stored with the digest."""
        rp = self._relying_party()
        digest = approval.digest
        challenge = hashlib.sha256(digest + store.new_challenge()).digest()
        async with self._database.tenant(user_id) as conn:
            keys = await store.keys_of(conn, user_id)
            await store.store_challenge(conn, user_id, Purpose.APPROVE, challenge, digest)
        return assertion_options(rp, challenge=challenge, allowed=keys)

    async def approve(self, user_id: UUID, approval: Approval, passkey: object) -> None:
        """Accept one of this person's passkeys approving exactly `approval`, or FORBIDDEN."""
        rp = self._relying_party()
        assertion = parse_assertion(passkey, "passkey")
        async with self._database.tenant(user_id) as conn:
            spent = await store.spend_challenge(conn, user_id, Purpose.APPROVE, assertion.challenge)
        if spent is None or spent.expired:
            raise _challenge_refused()
        if spent.subject != approval.digest:
            raise Forbidden(
                "This passkey answer approves something else: confirm again", reason=WRONG_SUBJECT
            )
        check_assertion(rp, assertion)
        async with self._database.tenant(user_id) as conn:
            found = await store.own_credential(conn, user_id, assertion.credential_id)
        if found is None:
            raise Forbidden("This is not one of your passkeys", reason=UNKNOWN_PASSKEY)
        await self._accept(rp, assertion, found)

    async def _accept(self, rp: RelyingParty, assertion: Assertion, found: store.FoundKey) -> None:
        """Verify the signature (the challenge was spent by the caller), then move the count on.

        A count that is not above the stored one (unless both stay 0, which some
        authenticators always send) means two devices answer for one credential.
        """
        count = verify_signature(rp, assertion, found.public_key)
        counting = count > 0 or found.sign_count > 0
        async with self._database.tenant(found.user_id) as conn:
            moved = not (counting and count <= found.sign_count) and await store.record_use(
                conn, found.passkey_id, count
            )
            if not moved:
                detail = {"passkeyId": str(found.passkey_id), "signCount": count}
                await security_log.record(
                    conn, found.user_id, SecurityEventKind.PASSKEY_CLONE_REFUSED, detail
                )
        if not moved:
            log.warning(
                "passkey %s of user %s refused: sign count %d after %d (a cloned authenticator?)",
                found.passkey_id,
                found.user_id,
                count,
                found.sign_count,
            )
            raise Forbidden(
                "This passkey's counter went backwards, so it may have been copied: "
                "use another passkey or your password",
                reason=CLONED,
            )


def _detail(passkey: PasskeyInfo) -> dict[str, str]:
    """Which passkey a security log entry is about (never its key)."""
    return {"passkeyId": str(passkey.id), "name": passkey.name}


def _clean_name(name: str) -> str:
    name = refuse_control_characters(name.strip(), field="name")
    if not 1 <= len(name) <= MAX_NAME:
        raise BadUserInput(f"Name the passkey in 1 to {MAX_NAME} characters", field="name")
    return name


def _challenge_refused() -> Forbidden:
    return Forbidden(
        "This passkey answer has expired or was already used: try again",
        reason=CHALLENGE_INVALID,
    )
