"""Ordered SQL migrations: `NNNN_name.up.sql` and its working backwards step `NNNN_name.down.sql`.

They run as the database owner (`alpaca-chat migrate`, or at start-up) and
create the tables, the unprivileged runtime role, its column-listed grants,
row-level security and the few SECURITY DEFINER functions used before a user
is known.
"""
