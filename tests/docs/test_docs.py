"""The documentation stays true: generated reference, compiling examples, working links.

Examples in `docs/*.md` follow one convention, so that every YAML block is
compiled rather than trusted:

- every ```` ```yaml ```` block names the file it belongs to:
  ```` ```yaml title="tenants/zgierz/units.yaml" ````. All blocks of one
  document form one tenant folder (one slug per document) next to a copy of
  the repository's `definitions/`; a block titled `definitions/…` adds a file
  to that copy. Blocks may be fragments of a folder: two blocks with the same
  title become two files of the folder (a folder may split its sections over
  any number of files), so each block must be a whole mapping of sections;
- a block marked `expect="errors"` is left out of the tenant. It is checked
  on its own: it replaces the file of its title in the tenant and the
  ```` ```text ```` block right after it must show what `komunikator check`
  prints (lines starting with `$ ` are the command and are skipped).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from komunikator.engine.config.builtins import default_registry
from komunikator.engine.config.compiler import check_library, check_tenant
from komunikator.engine.config.schema_docs import REFERENCE_PATH, reference_diff
from komunikator.engine.errors import ErrorList
from komunikator.engine.settings import REPO_ROOT

DOCS = REPO_ROOT / "docs"
DOC_FILES = sorted(DOCS.glob("*.md"))
LINKED_FILES = [*DOC_FILES, *([REPO_ROOT / "README.md"] if (REPO_ROOT / "README.md").is_file() else [])]
EXPECTED_DOCS = ("implementers.md", "operators.md", "architecture.md", "reference.md", "plugins.md", "open311.md")
REGISTRY = default_registry()  # the installed product: plugins' examples compile too

_FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<lang>[\w-]*)(?P<info>.*)$")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_TITLE = re.compile(r"^(tenants/(?P<slug>[a-z][a-z0-9_]*)|definitions)/[\w./-]+\.ya?ml$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    doc: Path
    line: int  # line of the first content line (1-based)
    lang: str
    attrs: dict[str, str]
    text: str

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(REPO_ROOT)}:{self.line}"


def fenced_blocks(doc: Path, text: str | None = None) -> list[Block]:
    """Every fenced block of a Markdown document, in order."""
    lines = (doc.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i].strip())
        if not opening:
            i += 1
            continue
        fence = opening["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j])
            j += 1
        attrs = dict(_ATTR.findall(opening["info"]))
        blocks.append(Block(doc, i + 2, opening["lang"], attrs, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


@dataclass
class ExampleTenant:
    """The tenant folder (and library copy) one document's examples make."""

    root: Path
    slug: str
    #: written file → the block it came from
    sources: dict[Path, Block]

    @property
    def tenant_dir(self) -> Path:
        return self.root / "tenants" / self.slug

    @property
    def library_dir(self) -> Path:
        return self.root / "definitions"


def build_example_tenant(blocks: list[Block], root: Path) -> ExampleTenant:
    """Write the blocks (without `expect="errors"` ones) as files of one tenant."""
    shutil.copytree(REPO_ROOT / "definitions", root / "definitions")
    slugs = set()
    sources: dict[Path, Block] = {}
    for block in blocks:
        match = _TITLE.match(block.attrs.get("title", ""))
        assert match, f"{block.where}: title must be tenants/SLUG/….yaml or definitions/….yaml"
        if match["slug"]:
            slugs.add(match["slug"])
        if block.attrs.get("expect") == "errors":
            continue
        target = root / block.attrs["title"]
        n = 2
        while target in sources or target.exists():
            target = target.with_name(f"{Path(block.attrs['title']).stem}.{n}{target.suffix}")
            n += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text, encoding="utf-8")
        sources[target] = block
    assert len(slugs) == 1, f"the examples of one document must form one tenant, found {sorted(slugs)}"
    return ExampleTenant(root, slugs.pop(), sources)


def explain(errors: ErrorList, example: ExampleTenant) -> str:
    """Errors with each position traced back to the Markdown line that wrote it."""
    out = []
    for error in errors:
        where = "<configuration>"
        if error.position is not None:
            file = Path(error.position.file).resolve()
            block = example.sources.get(file)
            if block is not None:
                where = f"{block.doc.relative_to(REPO_ROOT)}:{block.line + error.position.line - 1}"
            else:
                where = str(error.position)
        out.append(f"{where}: {error}")
    return "\n".join(out)


def yaml_blocks(doc: Path) -> list[Block]:
    return [b for b in fenced_blocks(doc) if b.lang in ("yaml", "yml")]


def _docs_with_examples() -> list[Path]:
    return [d for d in DOC_FILES if yaml_blocks(d)]


def _error_cases() -> list[tuple[Path, int]]:
    return [(d, i) for d in DOC_FILES for i, b in enumerate(fenced_blocks(d)) if b.attrs.get("expect") == "errors"]


# -- the generated reference ------------------------------------------------------------


def test_reference_is_up_to_date() -> None:
    diff = reference_diff(REFERENCE_PATH)
    assert not diff, f"docs/reference.md is out of date; run `komunikator docs reference`:\n{diff}"


def test_reference_diff_notices_a_change(tmp_path: Path) -> None:
    stale = tmp_path / "reference.md"
    stale.write_text(REFERENCE_PATH.read_text(encoding="utf-8").replace("## Durations", "## Lengths"))
    diff = reference_diff(stale)
    assert "-## Lengths" in diff and "+## Durations" in diff


def test_the_docs_exist() -> None:
    assert sorted(d.name for d in DOC_FILES) >= sorted(EXPECTED_DOCS)
    for name in EXPECTED_DOCS:
        assert (DOCS / name).stat().st_size > 500, f"docs/{name} is nearly empty"


# -- examples -----------------------------------------------------------------------------


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: p.name)
def test_every_yaml_block_names_its_file(doc: Path) -> None:
    for block in yaml_blocks(doc):
        title = block.attrs.get("title", "")
        assert _TITLE.match(title), (
            f'{block.where}: a YAML example must say which file it is: ```yaml title="tenants/SLUG/FILE.yaml"'
        )


def test_implementers_guide_has_examples() -> None:
    assert len(yaml_blocks(DOCS / "implementers.md")) >= 10


@pytest.mark.parametrize("doc", _docs_with_examples(), ids=lambda p: p.name)
def test_doc_examples_compile(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = build_example_tenant(yaml_blocks(doc), tmp_path)
    monkeypatch.chdir(tmp_path)
    errors = check_library(example.library_dir, REGISTRY)
    compiled, found = check_tenant(example.tenant_dir, example.library_dir, REGISTRY)
    errors.extend(found)
    assert not errors, f"the examples of {doc.name} do not compile:\n{explain(errors, example)}"
    assert compiled is not None and compiled.slug == example.slug


@pytest.mark.parametrize(
    ("doc", "index"), _error_cases(), ids=lambda v: v.name if isinstance(v, Path) else str(v)
)
def test_sample_error_output_is_real(doc: Path, index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = fenced_blocks(doc)
    broken = blocks[index]
    assert index + 1 < len(blocks) and blocks[index + 1].lang == "text", (
        f"{broken.where}: an expect=\"errors\" example must be followed by a ```text block with the output"
    )
    example = build_example_tenant([b for b in blocks if b.lang in ("yaml", "yml")], tmp_path)
    target = tmp_path / broken.attrs["title"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(broken.text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _, errors = check_tenant(example.tenant_dir, example.library_dir, REGISTRY)
    shown = [line for line in blocks[index + 1].text.splitlines() if line and not line.startswith("$ ")]
    actual = [*errors.render().splitlines(), f"{len(errors)} error(s) found"]
    assert shown == actual, f"{blocks[index + 1].where}: the sample output differs from what check prints"


def test_examples_point_at_the_markdown_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = DOCS / "example.md"
    text = (
        "Intro.\n\n"
        '```yaml title="tenants/demo/units.yaml"\n'
        "units:\n"
        "  roads: {name: Drogi, parent: nowhere}\n"
        "```\n"
    )
    example = build_example_tenant([b for b in fenced_blocks(doc, text) if b.lang == "yaml"], tmp_path)
    monkeypatch.chdir(tmp_path)
    _, errors = check_tenant(example.tenant_dir, example.library_dir, REGISTRY)
    report = explain(errors, example)
    assert "docs/example.md:5: tenants/demo/units.yaml:2:" in report
    assert "units.roads.parent: unknown unit 'nowhere'" in report


def test_blocks_of_one_file_become_separate_files(tmp_path: Path) -> None:
    block = '```yaml title="tenants/demo/units.yaml"\n{}: {{}}\n```\n'
    text = block.format("units") + "\n" + block.format("roles")
    example = build_example_tenant(fenced_blocks(DOCS / "x.md", text), tmp_path)
    assert sorted(p.name for p in example.sources) == ["units.2.yaml", "units.yaml"]


# -- links --------------------------------------------------------------------------------

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_ANCHOR = re.compile(r'<a\s+(?:id|name)="([^"]+)"')


def _prose(doc: Path, *, code_spans: bool = False) -> str:
    """The document without fenced blocks (and code spans): links there are not links."""
    out, fenced = [], False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line if code_spans else _CODE_SPAN.sub("", line))
    return "\n".join(out)


def anchors(doc: Path) -> set[str]:
    """Explicit `<a id>` anchors and GitHub's heading slugs of a document."""
    text = _prose(doc, code_spans=True)
    found = set(_ANCHOR.findall(text))
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE):
        found.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return found


def broken_links(doc: Path) -> list[str]:
    """Relative links of a Markdown file whose file or anchor does not exist."""
    broken = []
    for match in _LINK.finditer(_prose(doc)):
        target = match.group(1) or match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: …
            continue
        path_part, _, fragment = target.partition("#")
        file = (doc.parent / path_part).resolve() if path_part else doc
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            broken.append(f"{target}: no anchor #{fragment} in {file.name}")
    return broken


@pytest.mark.parametrize("doc", LINKED_FILES, ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    broken = broken_links(doc)
    assert not broken, f"{doc.name} has broken links:\n" + "\n".join(broken)


def test_broken_links_are_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text('# Other page\n\n<a id="kept"></a>\n')
    doc = tmp_path / "doc.md"
    doc.write_text(
        "## A `code` heading\n"
        "[ok](other.md) [ok](other.md#other-page) [ok](other.md#kept) [ok](#a-code-heading)\n"
        "[web](https://example.org/x) `[not a link](nowhere.md)`\n"
        "[gone](missing.md) [bad anchor](other.md#nope) [bad here](#nope)\n"
        "```text\n[in a block](nowhere.md)\n```\n"
    )
    assert broken_links(doc) == [
        "missing.md: no such file",
        "other.md#nope: no anchor #nope in other.md",
        "#nope: no anchor #nope in doc.md",
    ]
