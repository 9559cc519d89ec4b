"""The owner's brakes on an account: limits, the halt, the broker's own configuration.

Guarantees (RISK-01, RISK-03, RISK-04, RISK-05, ISO-01):

* the account is read in the owner's tenant scope first, so another user's id
  is NOT_FOUND and changes nothing;
* every write runs under the account-row lock (`limits.lock_account`) in one
  transaction with its audit row; limits are replaced by one upsert, so
  concurrent writes apply one after the other and the last one wins;
* loosening anything on a LIVE account (a limit, a broker brake, resuming)
  needs a fresh sign-in, checked in that same transaction, or a passkey
  approving exactly that change (api/auth/passkeys.py); without either the
  answer is PASSKEY_REQUIRED for a person with a passkey, else FORBIDDEN with
  reason FRESH_SIGN_IN_REQUIRED, and nothing changes;
* a halt is recorded before anything else happens, so orders being admitted
  from that moment are refused (`limits.admit`); then `suspend_trade` is set
  at the broker, so an order already on its way is refused there too; then
  every open order is cancelled. If the broker cannot be reached the halt
  still stands here and the call may be repeated;
* the chat has no way in: nothing in `api/chat` calls this service (docs/
  architecture.md, decision 4).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from uuid import UUID

from api.accounts import Account, AccountService
from api.auth.freshness import signed_in_recently
from api.auth.passkeys import Approval, PasskeyService
from api.auth.security_log import SecurityEventKind, record
from api.auth.sessions import Principal
from api.broker import BrokerConfiguration, BrokerGateway
from api.db import Database
from api.errors import BadUserInput
from api.realtime import AccountAlertEvent, publish
from api.realtime.events import ALERT_HALTED
from api.trading import guard_audit, limits
from api.trading.guards import Limits
from api.trading.limits import Controls
from api.trading.service import TradingService

# The broker brakes a person may set here; `suspend_trade` belongs to halt and resume.
_MARGIN_MULTIPLIERS = ("1", "2", "4")
_CHECK_MODES = ("both", "entry", "exit")
_CONFIRM_EMAILS = ("all", "none")
_OPTIONS_LEVELS = (0, 1, 2, 3)


@dataclass(frozen=True, slots=True)
class ConfigurationChanges:
    """Fields to change at the broker; None leaves a field as it is."""

    no_shorting: bool | None = None
    fractional_trading: bool | None = None
    max_margin_multiplier: str | None = None
    trade_confirm_email: str | None = None
    dtbp_check: str | None = None
    pdt_check: str | None = None
    max_options_trading_level: int | None = None

    def fields(self) -> dict[str, bool | str | int]:
        """The changes as Alpaca names them, each checked; BAD_USER_INPUT names the field."""
        choices: dict[str, tuple[object, ...]] = {
            "max_margin_multiplier": _MARGIN_MULTIPLIERS,
            "trade_confirm_email": _CONFIRM_EMAILS,
            "dtbp_check": _CHECK_MODES,
            "pdt_check": _CHECK_MODES,
            "max_options_trading_level": _OPTIONS_LEVELS,
        }
        changes: dict[str, bool | str | int] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None:
                continue
            allowed = choices.get(name)
            if allowed is not None and value not in allowed:
                field = _camel(name)
                shown = ", ".join(map(str, allowed))
                raise BadUserInput(f"{field} must be one of: {shown}", field=field)
            changes[name] = value
        if not changes:
            raise BadUserInput("Give at least one setting to change")
        return changes


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def configuration_loosens(current: BrokerConfiguration, changes: dict[str, object]) -> bool:
    """Whether the changes take off a brake: shorting on, more margin or options, fewer checks."""

    def rises(name: str, order: tuple[object, ...]) -> bool:
        new = changes.get(name)
        old = getattr(current, name)
        return new is not None and old in order and order.index(new) > order.index(old)

    return (
        (changes.get("no_shorting") is False and current.no_shorting)
        or rises("max_margin_multiplier", _MARGIN_MULTIPLIERS)
        or rises("max_options_trading_level", _OPTIONS_LEVELS)
        or (changes.get("dtbp_check", "both") != "both" and current.dtbp_check == "both")
        or (changes.get("pdt_check", "both") != "both" and current.pdt_check == "both")
    )


def _account_detail(account: Account) -> dict[str, str]:
    """Which account a security log entry is about (ADM-02)."""
    return {
        "accountId": str(account.id),
        "nickname": account.record.nickname,
        "environment": account.environment,
    }


def _limits_detail(new: Limits) -> dict[str, object]:
    """The limits as the security log shows them; amounts as strings, exactly."""
    return {
        "maxOrderNotional": None if new.max_order_notional is None else str(new.max_order_notional),
        "maxDailyLoss": None if new.max_daily_loss is None else str(new.max_daily_loss),
        "maxOrdersPerDay": new.max_orders_per_day,
        "allowedSymbols": None if new.allowed_symbols is None else list(new.allowed_symbols),
        "deniedSymbols": list(new.denied_symbols),
        "allowShort": new.allow_short,
    }


class RiskService:
    """Limits, halt and broker brakes of the caller's own accounts; one per process."""

    def __init__(
        self,
        database: Database,
        gateway: BrokerGateway,
        accounts: AccountService,
        trading: TradingService,
        passkeys: PasskeyService,
    ) -> None:
        self._database = database
        self._gateway = gateway
        self._accounts = accounts
        self._trading = trading
        self._passkeys = passkeys

    async def controls_of(self, accounts: Sequence[Account]) -> list[Controls]:
        """The limits and halt of each account, in one tenant transaction per owner."""
        owners: defaultdict[UUID, list[UUID]] = defaultdict(list)
        for account in accounts:
            owners[account.owner_id].append(account.id)
        found: dict[UUID, Controls] = {}
        for owner_id, account_ids in owners.items():
            async with self._database.tenant(owner_id) as conn:
                found.update(await limits.load_many(conn, account_ids))
        return [found[account.id] for account in accounts]

    async def set_limits(
        self, principal: Principal, account_id: UUID, new: Limits, passkey: object | None = None
    ) -> Account:
        """Replace the account's limits (RISK-01); loosening a live one needs a fresh sign-in
        or a passkey approving exactly these limits on this account (KEY-02)."""
        account = await self._accounts.get(principal.user_id, account_id)
        approval = Approval("set-limits", {"accountId": str(account.id), "limits": asdict(new)})
        approved = await self._passkeys.approved(principal.user_id, approval, passkey)
        async with self._database.tenant(principal.user_id) as conn:
            await limits.lock_account(conn, account.id)
            current = await limits.load(conn, account.id)
            refused = (
                account.environment == "LIVE"
                and limits.loosens(current.limits, new)
                and not approved
                and not await signed_in_recently(conn, principal)
            )
            if not refused:
                await limits.save(conn, account.id, account.owner_id, new)
                await guard_audit.record_event(
                    conn, account.owner_id, account.id, "LIMITS_SET", repr(new)
                )
                await record(
                    conn,
                    account.owner_id,
                    SecurityEventKind.LIMITS_CHANGED,
                    {**_account_detail(account), "limits": _limits_detail(new)},
                )
        if refused:
            # after the locked transaction: the passkey options' challenge must commit
            await self._passkeys.refuse_step_up(
                principal, approval, "loosen limits on a live account"
            )
        return account

    async def halt(self, user_id: UUID, account_id: UUID) -> Account:
        """RISK-04: halt here first, then suspend at the broker, then cancel every open order."""
        account = await self._accounts.get(user_id, account_id)
        async with self._database.tenant(user_id) as conn:
            await limits.lock_account(conn, account.id)
            await limits.set_halted(conn, account.id, account.owner_id, True)
            await guard_audit.record_event(
                conn, account.owner_id, account.id, "HALTED", "halted by the owner"
            )
            await record(
                conn, account.owner_id, SecurityEventKind.ACCOUNT_HALTED, _account_detail(account)
            )
            # Every device of the owner hears of it, delivered with this commit (PUSH-01).
            alert = AccountAlertEvent(account.id, account.owner_id, ALERT_HALTED, datetime.now(UTC))
            await publish(conn, alert)
        await self._gateway.set_configuration(account.broker, {"suspend_trade": True})
        canceled = await self._trading.cancel_all(account)
        async with self._database.tenant(user_id) as conn:
            await guard_audit.record_event(
                conn,
                account.owner_id,
                account.id,
                "HALTED",
                f"suspend_trade set at the broker; {len(canceled)} open orders cancelled",
            )
        return account

    async def resume(
        self, principal: Principal, account_id: UUID, passkey: object | None = None
    ) -> Account:
        """RISK-04: lift the broker's suspension, then the halt; live needs a fresh sign-in
        or a passkey approving this resume.

        The broker goes first: if it cannot be reached, the account stays halted.
        """
        account = await self._accounts.get(principal.user_id, account_id)
        if account.environment == "LIVE":
            approval = Approval("resume", {"accountId": str(account.id)})
            await self._passkeys.require_step_up(
                principal, approval, passkey, "resume trading on a live account"
            )
        await self._gateway.set_configuration(account.broker, {"suspend_trade": False})
        async with self._database.tenant(principal.user_id) as conn:
            await limits.lock_account(conn, account.id)
            await limits.set_halted(conn, account.id, account.owner_id, False)
            await guard_audit.record_event(
                conn, account.owner_id, account.id, "RESUMED", "resumed by the owner"
            )
            await record(
                conn, account.owner_id, SecurityEventKind.ACCOUNT_RESUMED, _account_detail(account)
            )
        return account

    async def broker_configuration(self, account: Account) -> BrokerConfiguration:
        return await self._gateway.configuration(account.broker)

    async def set_broker_configuration(
        self,
        principal: Principal,
        account_id: UUID,
        changes: ConfigurationChanges,
        passkey: object | None = None,
    ) -> BrokerConfiguration:
        """Change the broker's own brakes, only the fields given (RISK-03 for live accounts:
        a fresh sign-in or a passkey approving these changes)."""
        account = await self._accounts.get(principal.user_id, account_id)
        fields = changes.fields()
        current = await self._gateway.configuration(account.broker)
        if account.environment == "LIVE" and configuration_loosens(current, dict(fields)):
            approval = Approval(
                "set-broker-configuration", {"accountId": str(account.id), "changes": fields}
            )
            await self._passkeys.require_step_up(
                principal, approval, passkey, "loosen the broker's settings on a live account"
            )
        updated = await self._gateway.set_configuration(account.broker, fields)
        async with self._database.tenant(principal.user_id) as conn:
            await guard_audit.record_event(
                conn, account.owner_id, account.id, "BROKER_CONFIGURATION_SET", repr(fields)
            )
        return updated
