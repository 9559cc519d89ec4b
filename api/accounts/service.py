"""Connecting, naming, switching and removing broker accounts (ACCT-01..05, CRED-05).

Guarantees: every read and write runs in the owner's tenant scope, so another
user's id looks exactly like a missing one (NOT_FOUND) and changes nothing;
keys are verified with the broker before anything is stored and are stored
only encrypted, bound to their row; the key id leaves only as its hint.

This service is the one door to app.broker_accounts (ISO-01): one read hands
out an ``Account`` that carries both what the product shows and what the
broker needs, so a unit of work reads its account once and passes it down.
"""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg
from piccolo.columns.combination import And, WhereRaw
from piccolo.querystring import QueryString

from api.accounts.records import SELECT, Account
from api.auth.security_log import SecurityEventKind, record
from api.broker import BrokerGateway, Snapshot, Verification
from api.broker.models import ENVIRONMENTS, Environment
from api.db import Database
from api.db.tables import BrokerAccount, User
from api.errors import BadUserInput, NotFound
from api.realtime.events import AccountRemovedEvent, ActiveAccountChangedEvent
from api.realtime.publish import publish
from api.text import refuse_control_characters
from api.vault import Vault, key_hint

NICKNAME_MAX = 40


def _now() -> QueryString:
    """The database's clock, as the defaults use, not this process's."""
    return QueryString("now()")


def _key_detail(account_id: UUID, nickname: str, environment: str, hint: str) -> dict[str, str]:
    """What the security log says of an account's keys (ADM-02): the hint, never a key."""
    return {
        "accountId": str(account_id),
        "nickname": nickname,
        "environment": environment,
        "keyHint": hint,
    }


def _owned(user_id: UUID, account_id: UUID) -> And:
    """This account of this owner: RLS hides others' rows, this is the second lock."""
    return (BrokerAccount.id == account_id) & (BrokerAccount.owner_id == user_id)


def clean_nickname(raw: str) -> str:
    nickname = " ".join(refuse_control_characters(raw, field="nickname").split())
    if not 1 <= len(nickname) <= NICKNAME_MAX:
        raise BadUserInput(f"Nickname must be 1 to {NICKNAME_MAX} characters", field="nickname")
    return nickname


def _environment(raw: str) -> Environment:
    value = raw.upper()
    if value not in ENVIRONMENTS:
        raise BadUserInput("Environment must be PAPER or LIVE", field="environment")
    return value


def _keys(api_key_id: str, secret_key: str) -> tuple[str, str]:
    refuse_control_characters(api_key_id, field="apiKeyId")
    refuse_control_characters(secret_key, field="secretKey")
    key_id, secret = api_key_id.strip(), secret_key.strip()
    if not key_id:
        raise BadUserInput("Enter the API key id", field="apiKeyId")
    if not secret:
        raise BadUserInput("Enter the secret key", field="secretKey")
    return key_id, secret


class AccountService:
    def __init__(self, database: Database, vault: Vault, gateway: BrokerGateway) -> None:
        self._database = database
        self._vault = vault
        self._gateway = gateway

    # ------------------------------------------------------------------ reads

    async def list(self, user_id: UUID) -> list[Account]:
        async with self._database.tenant(user_id) as conn:
            rows = await conn.fetch(f"{SELECT} order by a.created_at, a.id")
        return [Account.from_row(r) for r in rows if r["owner_id"] == user_id]

    async def find(self, user_id: UUID, account_id: UUID) -> Account | None:
        """The account if `user_id` owns it, else None (another user's id looks absent).

        Row-level security hides other tenants' rows; the owner comparison is
        the second lock in case a policy is ever loosened.
        """
        async with self._database.tenant(user_id) as conn:
            row = await conn.fetchrow(f"{SELECT} where a.id = $1", account_id)
        if row is None or row["owner_id"] != user_id:
            return None
        return Account.from_row(row)

    async def get(self, user_id: UUID, account_id: UUID) -> Account:
        """The account, or NOT_FOUND for a missing id and for anyone else's."""
        account = await self.find(user_id, account_id)
        if account is None:
            raise NotFound("No such account")
        return account

    async def active(self, user_id: UUID) -> Account | None:
        async with self._database.tenant(user_id) as conn:
            row = await conn.fetchrow(f"{SELECT} where a.id = u.active_account_id")
        if row is None or row["owner_id"] != user_id:
            return None
        return Account.from_row(row)

    async def resolve(self, user_id: UUID, account_id: UUID | None) -> Account:
        """`account_id`, or the active account when it is omitted."""
        if account_id is not None:
            return await self.get(user_id, account_id)
        account = await self.active(user_id)
        if account is None:
            raise BadUserInput("Connect a broker account first", field="accountId")
        return account

    async def snapshot(self, account: Account) -> Snapshot:
        """The account's balances now, from the broker (no database read)."""
        return await self._gateway.snapshot(account.broker)

    # ------------------------------------------------------------------ writes

    async def add(
        self, user_id: UUID, *, nickname: str, environment: str, api_key_id: str, secret_key: str
    ) -> Account:
        """ACCT-01: verify with the broker first; store encrypted; the first becomes active."""
        nickname = clean_nickname(nickname)
        env = _environment(environment)
        key_id, secret = _keys(api_key_id, secret_key)
        await self._ensure_nickname_free(user_id, nickname)
        verification = await self._gateway.verify(env, key_id, secret)
        account_id = uuid4()
        try:
            async with self._database.tenant(user_id) as conn:
                await self._ensure_not_connected(env, verification)
                await conn.execute(
                    """insert into app.broker_accounts
                       (id, owner_id, nickname, environment, key_id_encrypted, secret_encrypted,
                        key_hint, broker_account_number, last_verified_at)
                       values ($1, $2, $3, $4, $5, $6, $7, $8, now())""",
                    account_id,
                    user_id,
                    nickname,
                    env,
                    self._vault.encrypt(key_id, account_id=account_id, owner_id=user_id),
                    self._vault.encrypt(secret, account_id=account_id, owner_id=user_id),
                    key_hint(key_id),
                    verification.account_number,
                )
                became_active = await conn.fetchval(
                    """update app.users set active_account_id = $1
                       where id = $2 and active_account_id is null returning id""",
                    account_id,
                    user_id,
                )
                if became_active:
                    await publish(conn, ActiveAccountChangedEvent(user_id, account_id))
                await record(
                    conn,
                    user_id,
                    SecurityEventKind.BROKER_KEYS_ADDED,
                    _key_detail(account_id, nickname, env, key_hint(key_id)),
                )
        except asyncpg.UniqueViolationError as error:
            raise self._duplicate(error) from None
        return await self.get(user_id, account_id)

    async def update_credentials(
        self, user_id: UUID, account_id: UUID, *, api_key_id: str, secret_key: str
    ) -> Account:
        """ACCT-04: new keys must open the same Alpaca account, verified first."""
        account = await self.get(user_id, account_id)
        key_id, secret = _keys(api_key_id, secret_key)
        verification = await self._gateway.verify(account.environment, key_id, secret)
        if verification.account_number != account.record.broker_account_number:
            raise BadUserInput(
                "These keys open a different Alpaca account; add it as a new account instead",
                field="apiKeyId",
            )
        async with self._database.tenant(user_id) as conn:
            await BrokerAccount.update(
                {
                    BrokerAccount.key_id_encrypted: self._vault.encrypt(
                        key_id, account_id=account_id, owner_id=user_id
                    ),
                    BrokerAccount.secret_encrypted: self._vault.encrypt(
                        secret, account_id=account_id, owner_id=user_id
                    ),
                    BrokerAccount.key_hint: key_hint(key_id),
                    BrokerAccount.last_verified_at: _now(),
                    BrokerAccount.updated_at: _now(),
                }
            ).where(BrokerAccount.id == account_id)
            await record(
                conn,
                user_id,
                SecurityEventKind.BROKER_KEYS_REPLACED,
                _key_detail(
                    account_id, account.record.nickname, account.environment, key_hint(key_id)
                ),
            )
        return await self.get(user_id, account_id)

    async def rename(self, user_id: UUID, account_id: UUID, nickname: str) -> Account:
        nickname = clean_nickname(nickname)
        try:
            async with self._database.tenant(user_id):
                updated = (
                    await BrokerAccount.update(
                        {BrokerAccount.nickname: nickname, BrokerAccount.updated_at: _now()}
                    )
                    .where(_owned(user_id, account_id))
                    .returning(BrokerAccount.id)
                )
        except asyncpg.UniqueViolationError as error:
            raise self._duplicate(error) from None
        if not updated:
            raise NotFound("No such account")
        return await self.get(user_id, account_id)

    async def remove(self, user_id: UUID, account_id: UUID) -> None:
        """ACCT-05: the row and its secrets go; another account (or none) becomes active."""
        async with self._database.tenant(user_id) as conn:
            # column-listed: the runtime role may not read every column of users
            was_active = bool(
                await User.select(User.id).where(
                    (User.id == user_id) & (User.active_account_id == account_id)
                )
            )
            deleted = (
                await BrokerAccount.delete()
                .where(_owned(user_id, account_id))
                .returning(
                    BrokerAccount.nickname, BrokerAccount.environment, BrokerAccount.key_hint
                )
            )
            if not deleted:
                raise NotFound("No such account")
            gone = deleted[0]
            await record(
                conn,
                user_id,
                SecurityEventKind.BROKER_KEYS_REMOVED,
                _key_detail(account_id, gone["nickname"], gone["environment"], gone["key_hint"]),
            )
            await publish(conn, AccountRemovedEvent(account_id, user_id))
            if was_active:
                remaining = (
                    await BrokerAccount.select(BrokerAccount.id)
                    .order_by(BrokerAccount.created_at, BrokerAccount.id)
                    .first()
                )
                replacement = None if remaining is None else remaining["id"]
                await User.update({User.active_account_id: replacement}).where(User.id == user_id)
                await publish(conn, ActiveAccountChangedEvent(user_id, replacement))

    async def set_active(self, user_id: UUID, account_id: UUID) -> Account:
        """ACCT-03: stored on the user, so every device agrees, and told to them live."""
        async with self._database.tenant(user_id) as conn:
            if not await BrokerAccount.exists().where(_owned(user_id, account_id)):
                raise NotFound("No such account")
            await User.update({User.active_account_id: account_id}).where(User.id == user_id)
            await publish(conn, ActiveAccountChangedEvent(user_id, account_id))
        return await self.get(user_id, account_id)

    async def set_chat_auto_execute(
        self, user_id: UUID, account_id: UUID, enabled: bool
    ) -> Account:
        """Paper accounts may let chat orders through at once; live ones never."""
        account = await self.get(user_id, account_id)
        if enabled and account.environment == "LIVE":
            raise BadUserInput("Orders on a live account always need confirmation")
        async with self._database.tenant(user_id):
            await BrokerAccount.update({BrokerAccount.chat_auto_execute: enabled}).where(
                _owned(user_id, account_id)
            )
        return await self.get(user_id, account_id)

    # ------------------------------------------------------------------ helpers

    async def _ensure_nickname_free(self, user_id: UUID, nickname: str) -> None:
        """Checked before the broker call so a typo costs no verification round trip."""
        async with self._database.tenant(user_id):
            taken = await BrokerAccount.exists().where(
                WhereRaw("lower(nickname) = lower({})", nickname)
            )
        if taken:
            raise BadUserInput("You already have an account with this nickname", field="nickname")

    @staticmethod
    async def _ensure_not_connected(environment: Environment, verification: Verification) -> None:
        """Inside the inserting unit of work: the same Alpaca account is connected once."""
        found = (
            await BrokerAccount.select(BrokerAccount.nickname)
            .where(
                (BrokerAccount.environment == environment)
                & (BrokerAccount.broker_account_number == verification.account_number)
            )
            .first()
        )
        nickname = None if found is None else found["nickname"]
        if nickname is not None:
            raise BadUserInput(
                f"This Alpaca account is already connected as “{nickname}”", field="apiKeyId"
            )

    @staticmethod
    def _duplicate(error: asyncpg.UniqueViolationError) -> BadUserInput:
        if "nickname" in (error.constraint_name or ""):
            return BadUserInput("You already have an account with this nickname", field="nickname")
        return BadUserInput("This Alpaca account is already connected", field="apiKeyId")
