"""Pre-commit hook: refuse files holding something shaped like an Alpaca key.

Works offline. Key ids are PK/AK/CK plus 18 uppercase alphanumerics; a secret
assigned next to one is 40 alphanumerics. Test keys are minted at run time,
so nothing key-shaped belongs in the tree; an obviously fake literal is
marked with `pragma: allowlist secret`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

KEY_ID = re.compile(r"\b(?:PK|AK|CK)[A-Z0-9]{18}\b")
ALLOW = "pragma: allowlist secret"  # the marker detect-secrets honours too
SECRET = re.compile(r"""secret[_-]?key\W{1,4}["'][A-Za-z0-9/+]{40}["']""", re.IGNORECASE)


def offending_lines(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except (UnicodeDecodeError, OSError):
        return []
    return [
        f"{path}:{number}: looks like an Alpaca credential"
        for number, line in enumerate(text.splitlines(), start=1)
        if (KEY_ID.search(line) or SECRET.search(line)) and ALLOW not in line
    ]


def main(paths: list[str]) -> int:
    problems = [problem for path in paths for problem in offending_lines(Path(path))]
    for problem in problems:
        sys.stderr.write(problem + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
