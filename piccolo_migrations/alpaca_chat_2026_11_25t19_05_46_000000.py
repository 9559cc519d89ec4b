"""The runtime role may link proposals to the chat message that shows them.

Piccolo migration (formerly `0003_chat_message_links`): raw SQL run as the database owner.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from api.db.migrations import sql_script

ID = "2026-11-25T19:05:46:000000"
VERSION = "1.38.0"
DESCRIPTION = "The runtime role may link proposals to the chat message that shows them"

FORWARDS = """
-- Chat turns link the order proposals they made to the assistant message that
-- shows them (CHAT-01). The proposals exist before that message does (the model
-- proposes mid-turn, the reply is written last), so the runtime role may set
-- message_id afterwards: that one column, nothing else, still under RLS.
grant update (message_id) on app.order_proposals to alpaca_chat_app;
"""

BACKWARDS = """
revoke update (message_id) on app.order_proposals from alpaca_chat_app;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="alpaca_chat", description=DESCRIPTION)
    manager.add_raw(sql_script(FORWARDS))
    manager.add_raw_backwards(sql_script(BACKWARDS))
    return manager
