"""Escaping and the few element helpers the sections share: the one place user text becomes HTML.

Every string that reaches the page goes through `text` (element content) or an
attribute helper, both `html.escape` with quotes; markup is only ever built from
these pieces, so a metric named `<script>` is shown as text and never runs.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from pytest_repro.core.outcomes import Kind, Outcome

# The CSS class of each kind of outcome (`pytest_repro.core.outcomes`).
_CLASSES = {Kind.PASSED: "good", Kind.FAILED: "bad", Kind.WARNING: "warn", Kind.SKIPPED: "muted"}


def text(value: object) -> str:
    """Escape `value` for element content or a quoted attribute value."""
    return html.escape(str(value), quote=True)


def status_class(status: str) -> str:
    """The CSS class of an outcome word: `good`, `bad`, `warn`, or `muted` (nothing compared, or unknown)."""
    outcome = Outcome.parse(status)
    return _CLASSES[outcome.kind] if outcome is not None else "muted"


def cell(content: str, *, tag: str = "td", cls: str = "", title: str = "") -> str:
    """One table cell around already-escaped `content`, with an optional class and tooltip."""
    attributes = (f' class="{text(cls)}"' if cls else "") + (f' title="{text(title)}"' if title else "")
    return f"<{tag}{attributes}>{content}</{tag}>"


def table(columns: Iterable[str], rows: Iterable[str], *, cls: str = "") -> str:
    """A table with escaped column headings and already-rendered `<tr>` rows."""
    head = "".join(cell(text(column), tag="th") for column in columns)
    attributes = f' class="{text(cls)}"' if cls else ""
    return f"<table{attributes}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def section(anchor: str, heading: str, body: str) -> str:
    """A page section with an anchor the navigation links to."""
    return f'<section id="{text(anchor)}"><h2>{text(heading)}</h2>{body}</section>'


def note(message: str) -> str:
    """A muted paragraph: why a section is empty, or a footnote."""
    return f'<p class="note">{text(message)}</p>'
