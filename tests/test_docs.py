"""The repository's own documents stay true to the code (OPS-05).

docs/requirements.md is written by hand, so these checks keep it honest: every
requirement ID that code or a test cites is defined there, every test file it
names exists, every `docs/architecture.md#...` anchor the code cites is a
heading of that document, and nothing points at planning documents that are
not part of a clone.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
REQUIREMENTS = ROOT / "docs" / "requirements.md"

PREFIXES = "CRED|AUTH|ACCT|DISP|TRADE|ISO|RT|CHAT|MOB|OPS|RISK|ORD|HIST|PUSH|KEY|ADM"
# `CRED-01`, or a range such as `ACCT-01..05`
CITATION = re.compile(rf"\b({PREFIXES})-(\d{{2}})(?:\.\.(\d{{2}}))?\b")
DEFINITION = re.compile(rf"^\| (({PREFIXES})-\d{{2}}) \|", re.MULTILINE)
TEST_FILE = re.compile(r"\btests/[\w/]+\.py\b")
ANCHOR = re.compile(r"docs/architecture\.md#([\w-]+)")

CITING_TREES = ("api", "schema", "tests")
DOCUMENTED_TREES = ("api", "schema", "pwa", "tests", "bench", "tools", "docs")
TEXT_SUFFIXES = {".py", ".md", ".js", ".html", ".css", ".sql", ".json", ".webmanifest"}
# Spelled in pieces so that this file does not cite them itself.
OUTSIDE_DOCUMENTS = (
    *(name + ".md" for name in ("DESIGN", "STYLE", "REQUIREMENTS")),
    "../" + "shared",
)


def _files(trees: tuple[str, ...], suffixes: set[str]) -> list[Path]:
    return sorted(
        path
        for tree in trees
        for path in (ROOT / tree).rglob("*")
        if path.is_file() and path.suffix in suffixes and "vendor" not in path.parts
    )


def cited_ids(text: str) -> set[str]:
    """Every requirement ID a text cites, ranges expanded."""
    found: set[str] = set()
    for match in CITATION.finditer(text):
        first = int(match[2])
        last = int(match[3] or match[2])
        found |= {f"{match[1]}-{number:02d}" for number in range(first, last + 1)}
    return found


def defined_ids() -> list[str]:
    return [match[1] for match in DEFINITION.finditer(REQUIREMENTS.read_text())]


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a document's headings (lower case, punctuation dropped)."""
    anchors: set[str] = set()
    for line in markdown.splitlines():
        if match := re.match(r"#+ (.+)", line):
            title = re.sub(r"[^\w\- ]", "", match[1].strip().lower())
            anchors.add(title.replace(" ", "-"))
    return anchors


def test_every_cited_requirement_is_documented() -> None:
    """OPS-05: an ID cited in api/, schema/ or tests/ is defined in docs/requirements.md."""
    documented = set(defined_ids())
    missing = {
        f"{path.relative_to(ROOT)}: {requirement}"
        for path in _files(CITING_TREES, {".py"})
        for requirement in cited_ids(path.read_text())
        if requirement not in documented
    }
    assert sorted(missing) == []


def test_each_requirement_is_defined_once() -> None:
    ids = defined_ids()
    assert len(ids) == len(set(ids))


def test_the_documents_name_only_test_files_that_exist() -> None:
    """OPS-05: a test file named by docs/requirements.md or docs/architecture.md exists."""
    named = {
        name for doc in (REQUIREMENTS, ARCHITECTURE) for name in TEST_FILE.findall(doc.read_text())
    }
    assert named, "the documents name no test file: has the pattern stopped matching?"
    assert sorted(name for name in named if not (ROOT / name).is_file()) == []


def test_cited_architecture_anchors_exist() -> None:
    """OPS-05: every `docs/architecture.md#...` in code or docs names one of its headings."""
    anchors = heading_anchors(ARCHITECTURE.read_text())
    sources = [*_files(DOCUMENTED_TREES, TEXT_SUFFIXES), ROOT / "README.md"]
    wrong = {
        f"{path.relative_to(ROOT)}: #{anchor}"
        for path in sources
        for anchor in ANCHOR.findall(path.read_text())
        if anchor not in anchors
    }
    assert sorted(wrong) == []


def test_nothing_cites_documents_outside_the_repository() -> None:
    """OPS-05: comments and docs cite docs/architecture.md or docs/requirements.md instead."""
    here = Path(__file__).resolve()
    sources = [*_files(DOCUMENTED_TREES, TEXT_SUFFIXES), ROOT / "README.md"]
    wrong = sorted(
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        if path.resolve() != here
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if any(name in line for name in OUTSIDE_DOCUMENTS)
    )
    assert wrong == []


def test_the_checks_can_fail() -> None:
    """The patterns match what they are meant to (so a pass means something)."""
    assert cited_ids("see ACCT-01..03 and CRED-06") == {"ACCT-01", "ACCT-02", "ACCT-03", "CRED-06"}
    assert "decision-5-limits-are-code-not-prompts" in heading_anchors(
        "### Decision 5: limits are code, not prompts\n"
    )
    assert "ZZZ-01" not in cited_ids("ZZZ-01")
