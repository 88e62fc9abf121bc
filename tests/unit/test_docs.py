"""The documentation a new integrator reads: every route is in docs/api.md, and every document,
link and heading the docs point to exists in the project."""

from __future__ import annotations

import re
from pathlib import Path

from studygroups.app import build
from tests.conftest import make_settings

ROOT = Path(__file__).parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
MENTIONED_MD = re.compile(r"`([\w./-]+\.md)`")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(doc: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
    return {_slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def _path_pattern(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


async def test_every_route_of_the_service_is_described_in_api_md(tmp_path: Path) -> None:
    service = build(make_settings(f"sqlite+aiosqlite:///{tmp_path}/unused.db", tmp_path))
    try:
        routes = set(service.api.openapi()["paths"])
    finally:
        await service.database.dispose()
    described = {
        _path_pattern(p)
        for p in re.findall(r"(/[\w\-{}/.]+)", (ROOT / "docs" / "api.md").read_text())
    }

    missing = sorted(r for r in routes if _path_pattern(r) not in described)

    assert missing == []


def test_every_document_link_and_heading_the_docs_point_to_is_in_the_project() -> None:
    broken = []
    for doc in DOCS:
        text = doc.read_text()
        for name in MENTIONED_MD.findall(text):
            if not any((base / name).exists() for base in (doc.parent, ROOT, ROOT / "docs")):
                broken.append(f"{doc.name}: {name} (not in the project)")
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            name, _, anchor = target.partition("#")
            linked = (doc.parent / name).resolve() if name else doc
            if not linked.exists():
                broken.append(f"{doc.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{doc.name}: {target} (no such heading)")

    assert broken == []
