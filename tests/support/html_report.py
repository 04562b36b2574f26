"""Reading a written HTML report back as a stranger's browser would: its elements, text and tables.

Built on the standard library's HTML parser, so a test sees what the markup really
is (which elements, which attributes), not what a string search hopes it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

# Every element the report may contain: anything else (script, iframe, img, a
# planted <b>) means a string reached the page unescaped.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "div", "ul", "li", "nav",
    "a", "main", "section", "p", "table", "thead", "tbody", "tr", "th", "td", "details", "summary",
    "pre", "span", "svg", "g", "text", "rect", "line", "circle",
}  # fmt: skip


@dataclass
class Page:
    """The parsed page: every start tag with its attributes, and the text of each section."""

    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    text: str = ""

    def attribute_names(self) -> set[str]:
        return {name for _, attributes in self.tags for name in attributes}

    def tag_names(self) -> set[str]:
        return {tag for tag, _ in self.tags}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.section: str | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.page.tags.append((tag, attributes))
        if tag == "section":
            self.section = attributes.get("id", "")
            self.page.sections[self.section] = ""
            self.page.tables.setdefault(self.section, [])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None and self.section is not None:
            self.page.tables[self.section].append(self.row)
            self.row = None
        elif tag == "section":
            self.section = None

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)
        if self.cell is not None:
            self.cell.append(data)
        if self.section is not None:
            self.page.sections[self.section] += data


def read_page(source: str | Path) -> Page:
    """Parse a report (its text, or the file holding it)."""
    markup = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    reader.page.text = "".join(reader.chunks)
    return reader.page


def summary_rows(page: Page) -> list[list[str]]:
    """The summary table's body rows (check, run-a, run-b, outcome, detail)."""
    return page.tables["summary"][1:]
