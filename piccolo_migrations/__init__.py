"""The `alpaca_chat` Piccolo app's migrations, applied in ID order by `alpaca-chat migrate`.

Each module returns a MigrationManager whose raw SQL (run as the database
owner, forwards and backwards) creates the tables, the unprivileged runtime
role, its column-listed grants, row-level security and the few SECURITY
DEFINER functions used before a user is known.
"""
