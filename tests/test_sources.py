"""The repository stands on its own: every reference a reader follows stays inside it.

- Relative Markdown links and images point at files of the repository, and a `#anchor` into a Markdown file
  names one of its headings.
- No link or path in the docs, the configs or the code leaves the checkout (`../` above the root, absolute paths
  such as /home/..., the old external source folder beside the checkout and its `seeds/`).
- Every source id (`DST-30182`, `KK-2012`, ...) cited anywhere, and every id in the `source` column of
  `conf/targets/*.csv`, has an entry in `docs/sources.md` naming its publisher and title.

The checkers are plain functions so the last tests can show, on a small synthetic repository, that each of them
reports what it should.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve()

# ------------------------------------------------------------------ files


def repo_files(root: Path) -> list[Path]:
    """Tracked and new (not ignored) files; without git, a walk of the tree that skips the usual clutter."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        paths = [root / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", "outputs", "multirun", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache"}
        paths = [
            p
            for p in root.rglob("*")
            if not skip & set(p.relative_to(root).parts) and not any(s.endswith(".egg-info") for s in p.parts)
        ]
    return sorted(p for p in paths if p.is_file())


def read_text(path: Path) -> str | None:
    """The file's text, or None for a binary or very large file."""
    if path.stat().st_size > 2_000_000:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def texts(root: Path, files: Iterable[Path]) -> Iterator[tuple[Path, str, str]]:
    """Each readable text file with its name relative to ``root`` and its text."""
    for f in files:
        text = read_text(f)
        if text is not None:
            yield f, f.relative_to(root).as_posix(), text


def under(root: Path, files: Iterable[Path], *tops: str) -> list[Path]:
    """The files whose path relative to ``root`` starts with one of ``tops`` (a file or a folder)."""
    return [f for f in files if f.relative_to(root).parts[0] in tops]


# ------------------------------------------------------------------ Markdown

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+).*?\1")
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+[\"'(][^)]*)?\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s[^>]*(?:name|id)=\"([^\"]+)\"")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


def prose_lines(text: str) -> Iterable[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, with inline code spans blanked out."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its text lower-cased, punctuation other than - and _ removed, each
    space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor of a Markdown text: its headings (repeats get -1, -2, ...) and explicit HTML anchors."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        found.update(HTML_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if heading:
            slug = github_anchor(heading.group(2))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def link_targets(text: str) -> Iterable[tuple[int, str]]:
    """(line number, target) of every inline link, image and reference definition outside code."""
    for number, line in prose_lines(text):
        for match in LINK.finditer(line):
            yield number, match.group(1).strip("<>")
        reference = REFERENCE.match(line)
        if reference:
            yield number, reference.group(1).strip("<>")


def inside(root: Path, path: Path) -> bool:
    top, here = os.path.normpath(root), os.path.normpath(path)
    return here == top or here.startswith(top + os.sep)


def markdown_link_problems(root: Path, md_files: Iterable[Path]) -> list[str]:
    """Relative links that do not reach a file of the repository, or whose #anchor is not a heading there."""
    problems = []
    cache: dict[Path, set[str]] = {}
    for md in md_files:
        text = md.read_text(encoding="utf-8")
        for number, target in link_targets(text):
            if SCHEME.match(target):
                continue  # a web address or mailto:
            where = f"{md.relative_to(root).as_posix()}:{number}: {target}"
            path_part, _, fragment = target.partition("#")
            path = Path(os.path.normpath(md.parent / unquote(path_part))) if path_part else md
            if not inside(root, path):
                problems.append(f"{where} leaves the repository")
            elif not path.exists():
                problems.append(f"{where} does not exist")
            elif fragment and path.suffix == ".md" and path.is_file():
                if path not in cache:
                    cache[path] = anchors(path.read_text(encoding="utf-8"))
                if unquote(fragment) not in cache[path]:
                    problems.append(f"{where}: no heading with anchor #{fragment}")
    return problems


# ------------------------------------------------------------------ paths leaving the repository

CLIMB = re.compile(r"(?<![\w./])((?:\.\./)+[^\s`'\"()\[\]<>|,;:*]*)")
ABSOLUTE = re.compile(r"(?<![\w.~:/-])/(?:work|home|root|Users|mnt)(?:/[^\s`'\")\]]*)?")
EXTERNAL = re.compile(r"\.\./shared\b|\bshared/calibration\.md|\bseeds/|\b\d{3}_[0-9a-f]{16}\.txt\b")


def leaving_path_problems(root: Path, files: Iterable[Path]) -> list[str]:
    """Paths in text files that point outside the checkout: `../` climbing above the root (counted from the
    file's folder), absolute paths into home or work folders, and the old external source folder."""
    problems = []
    for f, name, text in texts(root, files):
        for number, line in enumerate(text.splitlines(), 1):
            for match in CLIMB.finditer(line):
                if not inside(root, Path(os.path.normpath(f.parent / match.group(1)))):
                    problems.append(f"{name}:{number}: {match.group(1)} climbs out of the repository")
            problems += [f"{name}:{number}: absolute path {m.group(0)}" for m in ABSOLUTE.finditer(line)]
            problems += [f"{name}:{number}: external source {m.group(0)}" for m in EXTERNAL.finditer(line)]
    return problems


# ------------------------------------------------------------------ source ids

ID = re.compile(r"[A-Z]+-[A-Za-z0-9]+")
SEED = re.compile(r"\bseeds?\s+(?:#\s*)?00[0-4]\b", flags=re.IGNORECASE)
# the citations used before the ids got a suffix: bare BSB, SBST, DKR, AFST, TFBC; "DST 2018"; "Ritzau 2020 (DST)"
RETIRED = re.compile(r"\b(?:BSB|SBST|DKR|AFST|TFBC)\b(?!-)|\bDST \d{4}\b|\bRitzau (?:\d{4}|\(DST)")
FIELD = re.compile(r"^- \*\*(Publisher|Title):\*\*(.*)$", flags=re.MULTILINE)


def source_entries(sources_md: Path) -> dict[str, str]:
    """id -> text of its entry: every `### <id>` heading of sources.md, up to the next heading."""
    entries: dict[str, str] = {}
    current = None
    for line in sources_md.read_text(encoding="utf-8").splitlines():
        heading = HEADING.match(line)
        if heading:
            title = heading.group(2).strip()
            current = title if len(heading.group(1)) == 3 and ID.fullmatch(title) else None
            if current is not None:
                entries[current] = ""
        elif current is not None:
            entries[current] += line + "\n"
    return entries


def duplicate_ids(sources_md: Path) -> list[str]:
    """Ids that head more than one entry of sources.md."""
    headings = [
        h.group(2).strip() for h in map(HEADING.match, sources_md.read_text(encoding="utf-8").splitlines()) if h
    ]
    ids = [h for h in headings if ID.fullmatch(h)]
    return sorted({i for i in ids if ids.count(i) > 1})


def entry_problems(entries: dict[str, str]) -> list[str]:
    """Entries without a non-empty publisher line and title line."""
    problems = []
    for source_id, body in entries.items():
        fields = {name: value.strip() for name, value in FIELD.findall(body)}
        problems += [f"{source_id}: no {name.lower()}" for name in ("Publisher", "Title") if not fields.get(name)]
    return problems


def id_token(ids: Iterable[str]) -> re.Pattern[str]:
    """Tokens that look like a source id: a known prefix, a hyphen and a suffix."""
    prefixes = sorted({i.split("-")[0] for i in ids}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, prefixes)) + r")-[A-Za-z0-9]+\b")


def unknown_id_problems(root: Path, ids: set[str], files: Iterable[Path]) -> list[str]:
    """Id-like tokens with no entry in sources.md, bare 'seed 00N' references and retired bare ids."""
    token = id_token(ids)
    problems = []
    for _, name, text in texts(root, files):
        for number, line in enumerate(text.splitlines(), 1):
            problems += [f"{name}:{number}: unknown source id {m}" for m in token.findall(line) if m not in ids]
            problems += [f"{name}:{number}: bare '{m}' (cite a source id)" for m in SEED.findall(line)]
            problems += [f"{name}:{number}: retired id {m} (cite it with its suffix)" for m in RETIRED.findall(line)]
        wrapped = [m.group(0) for m in SEED.finditer(text) if "\n" in m.group(0)]
        problems += [f"{name}: bare {m!r} across lines (cite a source id)" for m in wrapped]
    return problems


def targets_source_problems(root: Path, ids: set[str], csv_files: Iterable[Path]) -> list[str]:
    """`source` cells of a targets file: each part (split on ;) is DERIVED or cites a defined id, and every
    id-like token in the cell is defined."""
    token = id_token(ids)
    problems = []
    for f in csv_files:
        with f.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                where = f"{f.relative_to(root).as_posix()}, {row.get('id')}"
                cell = (row.get("source") or "").strip()
                if not cell:
                    problems.append(f"{where}: no source")
                    continue
                for part in (p.strip() for p in cell.split(";")):
                    if part != "DERIVED" and not any(t in ids for t in token.findall(part)):
                        problems.append(f"{where}: '{part}' cites no source id of sources.md")
                problems += [f"{where}: unknown source id {t}" for t in token.findall(cell) if t not in ids]
    return problems


# ------------------------------------------------------------------ the repository

FILES = repo_files(ROOT)
TEXT_FILES = [f for f in FILES if f != THIS]
MARKDOWN = [f for f in FILES if f.suffix == ".md"]
ENTRIES = source_entries(ROOT / "docs" / "sources.md")
IDS = set(ENTRIES)
CITING = [f for f in under(ROOT, FILES, "README.md", "docs", "conf", "sim", "estimators") if read_text(f) is not None]
TARGETS = sorted((ROOT / "conf" / "targets").glob("*.csv"))


def test_sources_md_has_an_entry_for_each_of_the_five_source_documents():
    assert {"TRYG-2019", "SST-2018", "KORA-2014", "VIVE-2019", "KK-2012"} <= IDS


def test_each_source_id_heads_exactly_one_entry_of_sources_md():
    assert duplicate_ids(ROOT / "docs" / "sources.md") == []


def test_every_entry_in_sources_md_names_its_publisher_and_title():
    assert len(ENTRIES) > 30
    assert entry_problems(ENTRIES) == []


def test_every_relative_markdown_link_reaches_a_file_and_heading_of_the_repository():
    assert len(MARKDOWN) > 20
    assert markdown_link_problems(ROOT, MARKDOWN) == []


def test_no_path_in_docs_configs_or_code_leaves_the_repository():
    assert leaving_path_problems(ROOT, TEXT_FILES) == []


def test_every_source_of_the_targets_files_is_defined_in_sources_md():
    assert TARGETS
    assert targets_source_problems(ROOT, IDS, TARGETS) == []


def test_every_source_id_in_docs_configs_and_code_is_defined_in_sources_md():
    assert len(CITING) > 50
    assert unknown_id_problems(ROOT, IDS, CITING) == []


# ------------------------------------------------------------------ the checkers can fail

SYNTHETIC_SOURCES = """# Sources

### DST-1

- **Publisher:** Danmarks Statistik
- **Title:** A release

### KL-2

- **Publisher:**
- **Title:** A report
"""

#: The external folder the documentation used to cite, spelled in parts so this file does not cite it itself.
OLD_FOLDER = "../" + "shared"

SYNTHETIC_PAGE = f"""# A page

## Known heading

Good: [entry](sources.md#dst-1), [here](#known-heading), [folder](../conf/), cites DST-1 and KL-2.
Broken: [gone](missing.md), [anchor](sources.md#no-such-heading), [out](../../outside.md).
Leaving: /home/someone/data.csv and `{OLD_FOLDER}/calibration.md`.
Unknown: DST-99, seed 004 and the retired BSB.
"""


@pytest.fixture
def synthetic(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "conf" / "targets").mkdir(parents=True)
    (tmp_path / "docs" / "sources.md").write_text(SYNTHETIC_SOURCES, encoding="utf-8")
    (tmp_path / "docs" / "page.md").write_text(SYNTHETIC_PAGE, encoding="utf-8")
    (tmp_path / "conf" / "targets" / "t.csv").write_text(
        "id,source\ngood,DST-1; DERIVED\nunknown,XYZ-3\nbare,DS\n", encoding="utf-8"
    )
    return tmp_path


def problems_of(root: Path) -> list[str]:
    entries = source_entries(root / "docs" / "sources.md")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return (
        markdown_link_problems(root, [f for f in files if f.suffix == ".md"])
        + leaving_path_problems(root, files)
        + entry_problems(entries)
        + unknown_id_problems(root, set(entries), files)
        + targets_source_problems(root, set(entries), sorted((root / "conf" / "targets").glob("*.csv")))
    )


def test_the_checkers_report_a_link_to_a_missing_file(synthetic):
    assert "docs/page.md:6: missing.md does not exist" in problems_of(synthetic)


def test_the_checkers_report_an_anchor_that_is_no_heading(synthetic):
    assert "docs/page.md:6: sources.md#no-such-heading: no heading with anchor #no-such-heading" in problems_of(
        synthetic
    )


def test_the_checkers_report_paths_that_leave_the_repository(synthetic):
    found = problems_of(synthetic)
    assert "docs/page.md:6: ../../outside.md leaves the repository" in found
    assert "docs/page.md:6: ../../outside.md climbs out of the repository" in found
    assert "docs/page.md:7: absolute path /home/someone/data.csv" in found
    assert f"docs/page.md:7: external source {OLD_FOLDER}" in found


def test_the_checkers_report_unknown_source_ids_and_bare_seed_references(synthetic):
    found = problems_of(synthetic)
    assert "docs/page.md:8: unknown source id DST-99" in found
    assert "docs/page.md:8: bare 'seed 004' (cite a source id)" in found
    assert "docs/page.md:8: retired id BSB (cite it with its suffix)" in found
    assert "conf/targets/t.csv, unknown: 'XYZ-3' cites no source id of sources.md" in found
    assert "conf/targets/t.csv, bare: 'DS' cites no source id of sources.md" in found


def test_the_checkers_report_an_entry_without_a_publisher(synthetic):
    assert "KL-2: no publisher" in problems_of(synthetic)


def test_the_checkers_report_an_id_that_heads_two_entries(synthetic):
    sources = synthetic / "docs" / "sources.md"
    sources.write_text(
        SYNTHETIC_SOURCES + "\n### DST-1\n\n- **Publisher:** again\n- **Title:** again\n", encoding="utf-8"
    )
    assert duplicate_ids(sources) == ["DST-1"]


def test_the_checkers_accept_good_links_headings_and_ids(synthetic):
    good = ("sources.md#dst-1", "#known-heading", "../conf/", "id DST-1", "id KL-2", "t.csv, good", "DST-1: no")
    assert [p for p in problems_of(synthetic) if any(g in p for g in good)] == []


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("1. Running the check", "1-running-the-check"),
        ("A23. § 50 investigation: start delay", "a23--50-investigation-start-delay"),
        ("`trial_data.parquet`", "trial_dataparquet"),
        ("DST-anbr", "dst-anbr"),
    ],
)
def test_anchors_follow_githubs_rule(heading, anchor):
    assert github_anchor(heading) == anchor
