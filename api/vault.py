"""Encryption of broker credentials at rest, and redaction of secrets from logs.

Fernet has no associated data, so every ciphertext carries the row it belongs
to (account id and owner id) inside the encrypted payload, and decryption
checks them: a ciphertext copied into another row does not decrypt there.
MultiFernet takes the newest key first; older keys still decrypt until
`alpaca-chat rotate-key` has rewritten every row under the newest one.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class VaultError(Exception):
    """A ciphertext does not decrypt under any key, or belongs to another row."""


class Vault:
    def __init__(self, keys: Iterable[str]) -> None:
        fernets = [Fernet(k.encode()) for k in keys]
        if not fernets:
            raise ValueError("at least one key is required")
        self._fernet = MultiFernet(fernets)
        self._newest = fernets[0]

    def encrypt(self, plaintext: str, *, account_id: UUID, owner_id: UUID) -> bytes:
        payload = json.dumps({"a": str(account_id), "o": str(owner_id), "v": plaintext})
        return self._fernet.encrypt(payload.encode())

    def decrypt(self, token: bytes, *, account_id: UUID, owner_id: UUID) -> str:
        try:
            payload = json.loads(self._fernet.decrypt(bytes(token)))
        except (InvalidToken, ValueError):
            raise VaultError("credential does not decrypt with the configured keys") from None
        if payload.get("a") != str(account_id) or payload.get("o") != str(owner_id):
            raise VaultError("credential belongs to another account")
        secret: str = payload["v"]
        return secret

    def is_current(self, token: bytes) -> bool:
        """True when the newest key already decrypts the token."""
        try:
            self._newest.decrypt(bytes(token))
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the newest key, keeping the bound row inside."""
        try:
            return self._fernet.rotate(bytes(token))
        except InvalidToken:
            raise VaultError("credential does not decrypt with the configured keys") from None


def key_hint(api_key_id: str) -> str:
    """What a person may see of a key id: `PK…7Q2F`."""
    key = api_key_id.strip()
    return f"{key[:2]}…{key[-4:]}" if len(key) > 8 else "…"


# Alpaca key ids (PK/AK/CK + uppercase alphanumerics), 40-character secrets,
# bearer tokens and Fernet keys are masked wherever they appear in a log line.
_SECRET_SHAPES = re.compile(
    r"\b(?:PK|AK|CK)[A-Z0-9]{14,}\b"
    r"|(?<![A-Za-z0-9])[A-Za-z0-9]{40}(?![A-Za-z0-9])"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]+"
    r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}=(?![A-Za-z0-9_=-])"
)
REDACTED = "[REDACTED]"


class RedactingFilter(logging.Filter):
    """Masks registered secret values and anything shaped like a credential."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _SECRET_SHAPES.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def install_redaction(secrets: Iterable[str] = ()) -> RedactingFilter:
    """Attach one filter to every handler there is now, uvicorn's included.

    Filters on handlers (not loggers) also see records that propagate from
    child loggers, which logger-level filters do not.
    """
    redactor = RedactingFilter(secrets)
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in _UVICORN_LOGGERS)]
    loggers += [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(redactor)
    return redactor
