"""The one declaration of every table and its columns (tests/db/test_tables.py keeps it
equal to the live database).

What Piccolo cannot say stays SQL in `piccolo_migrations/`: the composite keys
`(account_id, owner_id) -> broker_accounts (id, owner_id)` that stop a row naming
another user's account (declared here as the plain foreign key they refine),
the deferrable active-account key, `lower(nickname)` uniqueness, checks,
row-level security, column-listed grants, roles and definer functions.

Every table runs on `TABLE_ENGINE`: a query runs on the connection of the unit
of work in progress (`Database.tenant`), never elsewhere (api/db/engine.py).
Rows are inserted with SQL naming only the granted columns: Piccolo's insert
names every column of a table, which the runtime role may not (CRED-04).
"""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
)
from piccolo.table import Table

from api.db.engine import TABLE_ENGINE

SCHEMA = "app"


class User(Table, tablename="users", schema=SCHEMA, db=TABLE_ENGINE):
    id = UUID(primary_key=True)
    email = Text()
    password_hash = Text(secret=True)
    active_account_id: ForeignKey[BrokerAccount] = ForeignKey("BrokerAccount", null=True)
    created_at = Timestamptz()
    is_admin = Boolean(default=False)  # the first user only (ADM-01)
    disabled_at = Timestamptz(null=True, default=None)  # set: no sign-in, no session (ADM-01)


class Session(Table, tablename="sessions", schema=SCHEMA, db=TABLE_ENGINE):
    id = UUID(primary_key=True)
    user_id = ForeignKey(User, null=False)
    token_hash = Bytea(secret=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    last_seen_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    user_agent = Text(null=True, default=None)


class Invite(Table, tablename="invites", schema=SCHEMA, db=TABLE_ENGINE):
    id = UUID(primary_key=True)
    created_by = ForeignKey(User, null=True)  # null: made by an operator
    code_hash = Bytea(secret=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_by = ForeignKey(User, null=True)
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)  # by an admin (ADM-01)


class BrokerAccount(Table, tablename="broker_accounts", schema=SCHEMA, db=TABLE_ENGINE):
    id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    nickname = Text()
    environment = Text()
    key_id_encrypted = Bytea(secret=True)
    secret_encrypted = Bytea(secret=True)
    key_hint = Text()
    broker_account_number = Text()
    chat_auto_execute = Boolean(default=False)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    last_verified_at = Timestamptz(null=True, default=None)


class ChatMessage(Table, tablename="chat_messages", schema=SCHEMA, db=TABLE_ENGINE):
    id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    account_id = ForeignKey(BrokerAccount, null=False)
    role = Text()
    content = Text()
    tool_calls = JSONB(default=[])
    created_at = Timestamptz()


class OrderProposal(Table, tablename="order_proposals", schema=SCHEMA, db=TABLE_ENGINE):
    id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    account_id = ForeignKey(BrokerAccount, null=False)
    message_id = ForeignKey(ChatMessage, null=True)
    request = JSONB()
    summary = Text()
    estimated_cost = Numeric()
    status = Text(default="PENDING")
    broker_order_id = Text(null=True, default=None)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    # order | cancel_all | close_all (api/trading/bulk.py)
    kind = Text(default="order")


class OrderAudit(Table, tablename="order_audit", schema=SCHEMA, db=TABLE_ENGINE):
    """Outlives the account it names: the audit trail of what was sent to a broker."""

    id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    account_id = UUID(null=True, default=None)
    client_order_id = Text(unique=True)
    request = JSONB()
    outcome = Text(default="ATTEMPTED")
    broker_order_id = Text(null=True, default=None)
    detail = Text(null=True, default=None)
    attempts = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class AccountLimits(Table, tablename="account_limits", schema=SCHEMA, db=TABLE_ENGINE):
    """An account's limits and halt (RISK-01, RISK-04); no row: no limits, not halted."""

    account_id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    max_order_notional = Numeric(null=True, default=None)
    max_daily_loss = Numeric(null=True, default=None)
    max_orders_per_day = Integer(null=True, default=None)
    allowed_symbols = JSONB(null=True, default=None)
    denied_symbols = JSONB(default=[])
    allow_short = Boolean(null=True, default=None)
    halted_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class GuardAudit(Table, tablename="guard_audit", schema=SCHEMA, db=TABLE_ENGINE):
    """Every guard decision, halt, resume and change of limits (RISK-05); outlives accounts."""

    id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    account_id = UUID(null=True, default=None)
    event = Text()
    source = Text(null=True, default=None)
    client_order_id = Text(null=True, default=None)
    symbol = Text(null=True, default=None)
    guard = Text(null=True, default=None)
    limit_value = Text(null=True, default=None)
    value = Text(null=True, default=None)
    detail = Text(null=True, default=None)
    created_at = Timestamptz()


class PushSubscription(Table, tablename="push_subscriptions", schema=SCHEMA, db=TABLE_ENGINE):
    """One device a person turned notifications on for (PUSH-01); endpoints unique."""

    id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    endpoint = Text(unique=True)
    p256dh = Text()
    auth = Text(secret=True)
    user_agent = Text(null=True, default=None)
    created_at = Timestamptz()
    last_success_at = Timestamptz(null=True, default=None)
    failures = Integer(default=0)


class NotificationSettings(
    Table, tablename="notification_settings", schema=SCHEMA, db=TABLE_ENGINE
):
    """What a person wants to hear of (PUSH-01, PUSH-02); no row: everything, amounts shown."""

    owner_id = UUID(primary_key=True)
    muted_kinds = JSONB(default=[])
    hide_amounts = Boolean(default=False)
    updated_at = Timestamptz()


class PushDelivery(Table, tablename="push_deliveries", schema=SCHEMA, db=TABLE_ENGINE):
    """One claimed (event, device) pair: whoever inserts it sends it (PUSH-03)."""

    id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    subscription_id = ForeignKey(PushSubscription, null=False)
    event_id = Text()
    kind = Text()
    status = Text(default="CLAIMED")
    attempts = Integer(default=0)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class StreamMark(Table, tablename="stream_marks", schema=SCHEMA, db=TABLE_ENGINE):
    """Up to when an account's order changes were all reported (RT-01, RT-03)."""

    account_id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    reported_through = Timestamptz()


class Passkey(Table, tablename="passkeys", schema=SCHEMA, db=TABLE_ENGINE):
    """A registered passkey: its public key, the authenticator's count, its name (KEY-01)."""

    id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    credential_id = Bytea()
    public_key = Bytea()
    sign_count = BigInt(default=0)
    transports = JSONB(default=[])
    name = Text()
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)


class PasskeyChallenge(Table, tablename="passkey_challenges", schema=SCHEMA, db=TABLE_ENGINE):
    """A signed-in person's single-use challenge: registering, or approving one thing (KEY-02)."""

    id = UUID(primary_key=True)
    owner_id = ForeignKey(User, null=False)
    purpose = Text()
    challenge = Bytea()
    subject = Bytea(null=True, default=None)  # SHA-256 of what an approval approves
    created_at = Timestamptz()
    expires_at = Timestamptz()


class PasskeySignInChallenge(
    Table, tablename="passkey_sign_in_challenges", schema=SCHEMA, db=TABLE_ENGINE
):
    """A sign-in challenge, before anyone is known: reached only by definer functions."""

    challenge = Bytea(primary_key=True)
    expires_at = Timestamptz()


class AuthAttempts(Table, tablename="auth_attempts", schema=SCHEMA, db=TABLE_ENGINE):
    """Sign-in and sign-up attempts of one hashed key in its window, for every instance
    (AUTH-02): reached only by definer functions (api/auth/rate_limits.py)."""

    key_hash = Bytea(primary_key=True)
    bucket = Text()
    window_start = Timestamptz()
    attempts = Integer()


class SecurityEvent(Table, tablename="security_events", schema=SCHEMA, db=TABLE_ENGINE):
    """One entry of a person's security log (ADM-02, api/auth/security_log.py)."""

    id = UUID(primary_key=True)
    user_id = ForeignKey(User, null=False)
    kind = Text()
    detail = JSONB(default={})
    at = Timestamptz()


TABLES: tuple[type[Table], ...] = (
    User,
    Session,
    Invite,
    BrokerAccount,
    ChatMessage,
    OrderProposal,
    OrderAudit,
    AccountLimits,
    GuardAudit,
    PushSubscription,
    NotificationSettings,
    PushDelivery,
    StreamMark,
    Passkey,
    PasskeyChallenge,
    PasskeySignInChallenge,
    AuthAttempts,
    SecurityEvent,
)
