"""The WebAuthn ceremonies' options and checks, the one module that uses py_webauthn.

Options leave in the standard JSON form (base64url binary fields), which
`PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON`
read; credentials come back as `PublicKeyCredential.toJSON()` writes them.

What the browser sends is checked here step by step, so that each refusal says
plainly what was wrong (KEY-01, KEY-02): a malformed answer is BAD_USER_INPUT;
another site's origin, another relying party, no user verification or a bad
signature is FORBIDDEN with a reason. py_webauthn then verifies the whole answer
again (challenge, origin, relying party, user verification, signature) before
anything is trusted; the pre-checks only name the failure.

py_webauthn (and the certificate parsing it brings) is imported by the first
ceremony, not at start-up (docs/architecture.md, the start-up budget): each
function imports what it calls.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webauthn.helpers.structs import (
        AuthenticationCredential,
        AuthenticatorData,
        CollectedClientData,
        PublicKeyCredentialDescriptor,
        RegistrationCredential,
    )

from api.auth.relying_party import RelyingParty
from api.errors import BadUserInput, Forbidden

log = logging.getLogger(__name__)

# How long the browser offers the ceremony; the server's challenge lives as long.
TIMEOUT_MS = 300_000

PASSKEY_REJECTED = "PASSKEY_REJECTED"
WRONG_ORIGIN = "PASSKEY_WRONG_ORIGIN"
WRONG_RELYING_PARTY = "PASSKEY_WRONG_RELYING_PARTY"
USER_NOT_VERIFIED = "PASSKEY_USER_NOT_VERIFIED"


@dataclass(frozen=True)
class StoredKey:
    """What registration leaves to check later assertions with."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...]


@dataclass(frozen=True)
class Assertion:
    """A parsed `navigator.credentials.get()` answer, not yet verified."""

    credential: AuthenticationCredential
    client_data: CollectedClientData
    authenticator_data: AuthenticatorData

    @property
    def credential_id(self) -> bytes:
        return self.credential.raw_id

    @property
    def challenge(self) -> bytes:
        return self.client_data.challenge

    @property
    def user_handle(self) -> bytes | None:
        return self.credential.response.user_handle


@dataclass(frozen=True)
class Attestation:
    """A parsed `navigator.credentials.create()` answer, not yet verified."""

    credential: RegistrationCredential
    client_data: CollectedClientData

    @property
    def challenge(self) -> bytes:
        return self.client_data.challenge


def _malformed(field: str) -> BadUserInput:
    return BadUserInput(
        "This is not a passkey answer: send the credential's toJSON() unchanged", field=field
    )


def _descriptors(keys: list[StoredKey]) -> list[PublicKeyCredentialDescriptor]:
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=key.credential_id,
            transports=[AuthenticatorTransport(t) for t in key.transports if t in known] or None,
        )
        for key in keys
    ]


def registration_options(
    rp: RelyingParty,
    *,
    user_handle: bytes,
    user_name: str,
    challenge: bytes,
    existing: list[StoredKey],
) -> dict[str, Any]:
    """A discoverable credential (signing in needs no email) with user verification."""
    from webauthn import generate_registration_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=user_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        exclude_credentials=_descriptors(existing),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
    )
    return options_to_json_dict(options)


def assertion_options(
    rp: RelyingParty, *, challenge: bytes, allowed: list[StoredKey]
) -> dict[str, Any]:
    """Sign-in lists no credentials (the authenticator offers its own); approvals list the
    person's passkeys. User verification is always required."""
    from webauthn import generate_authentication_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import UserVerificationRequirement

    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(allowed),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json_dict(options)


def _check_client_data(rp: RelyingParty, client_data: CollectedClientData, kind: str) -> None:
    if client_data.type != kind:
        raise Forbidden(
            "This passkey answer is for another kind of request", reason=PASSKEY_REJECTED
        )
    if client_data.origin != rp.origin:
        raise Forbidden(
            f"This passkey answer comes from another site than {rp.origin}", reason=WRONG_ORIGIN
        )


def _check_authenticator_data(rp: RelyingParty, data: AuthenticatorData) -> None:
    if data.rp_id_hash != hashlib.sha256(rp.id.encode()).digest():
        raise Forbidden(f"This passkey was not made for {rp.id}", reason=WRONG_RELYING_PARTY)
    if not data.flags.uv:
        raise Forbidden(
            "Your device did not verify you (Face ID, fingerprint or PIN): try again",
            reason=USER_NOT_VERIFIED,
        )


def parse_attestation(raw: object, field: str) -> Attestation:
    from webauthn.helpers import parse_client_data_json, parse_registration_credential_json
    from webauthn.helpers.exceptions import WebAuthnException

    if not isinstance(raw, dict):
        raise _malformed(field)
    try:
        credential = parse_registration_credential_json(raw)
        client_data = parse_client_data_json(credential.response.client_data_json)
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError):
        raise _malformed(field) from None
    return Attestation(credential, client_data)


def parse_assertion(raw: object, field: str) -> Assertion:
    from webauthn.helpers import (
        parse_authentication_credential_json,
        parse_authenticator_data,
        parse_client_data_json,
    )
    from webauthn.helpers.exceptions import WebAuthnException

    if not isinstance(raw, dict):
        raise _malformed(field)
    try:
        credential = parse_authentication_credential_json(raw)
        client_data = parse_client_data_json(credential.response.client_data_json)
        data = parse_authenticator_data(credential.response.authenticator_data)
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError):
        raise _malformed(field) from None
    return Assertion(credential, client_data, data)


def verify_attestation(rp: RelyingParty, attestation: Attestation) -> StoredKey:
    """The new passkey's key, once everything about its creation checks out."""
    from webauthn import verify_registration_response
    from webauthn.helpers import parse_attestation_object
    from webauthn.helpers.exceptions import WebAuthnException
    from webauthn.helpers.structs import ClientDataType

    _check_client_data(rp, attestation.client_data, ClientDataType.WEBAUTHN_CREATE)
    try:
        auth_data = parse_attestation_object(
            attestation.credential.response.attestation_object
        ).auth_data
    except (WebAuthnException, ValueError, TypeError, KeyError):
        raise _malformed("credential") from None
    _check_authenticator_data(rp, auth_data)
    try:
        verified = verify_registration_response(
            credential=attestation.credential,
            expected_challenge=attestation.challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except WebAuthnException as error:
        log.info("passkey registration refused: %s", type(error).__name__)
        raise Forbidden("This passkey could not be verified", reason=PASSKEY_REJECTED) from None
    transports = attestation.credential.response.transports or []
    return StoredKey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=tuple(t.value for t in transports),
    )


def check_assertion(rp: RelyingParty, assertion: Assertion) -> None:
    """What can be refused before the stored key is known: origin, relying party, UV."""
    from webauthn.helpers.structs import ClientDataType

    _check_client_data(rp, assertion.client_data, ClientDataType.WEBAUTHN_GET)
    _check_authenticator_data(rp, assertion.authenticator_data)


def verify_signature(rp: RelyingParty, assertion: Assertion, public_key: bytes) -> int:
    """The authenticator's new sign count, once the assertion verifies against `public_key`.

    py_webauthn is given a stored count of 0, so it checks everything but the count;
    the caller compares the count with the stored one itself and refuses (and logs)
    a count that went backwards, which a signature alone cannot explain (KEY-02).
    """
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        verified = verify_authentication_response(
            credential=assertion.credential,
            expected_challenge=assertion.challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except WebAuthnException as error:
        log.info("passkey assertion refused: %s", type(error).__name__)
        raise Forbidden(
            "This passkey answer could not be verified", reason=PASSKEY_REJECTED
        ) from None
    return verified.new_sign_count
