"""Text people type, refused at the boundary when it carries control characters.

PostgreSQL's text cannot hold U+0000 at all (a NUL in a nickname was an internal
error from the database), and the other C0/C1 controls (Unicode category Cc)
have no business in a name, an address or a key: they garble logs and screens.
Every service that takes free text from a person calls `refuse_control_characters`
first, so the refusal is BAD_USER_INPUT naming the field, before anything is
stored, sent on or looked up. Chat text keeps line breaks and tabs.
"""

from __future__ import annotations

import re

from api.errors import BadUserInput

# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def refuse_control_characters(value: str, *, field: str, line_breaks: bool = False) -> str:
    """`value` unchanged, or BAD_USER_INPUT on `field` when it holds a control character
    (with `line_breaks`, newline and tab are allowed)."""
    pattern = _CONTROL_BUT_LINE_BREAKS if line_breaks else _CONTROL
    if pattern.search(value) is not None:
        raise BadUserInput("Remove the control characters (such as NUL) from it", field=field)
    return value
