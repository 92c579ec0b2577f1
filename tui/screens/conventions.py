"""The gold conventions (`GOLD_CONVENTIONS.md`) as a panel over the screen, opened at the
section of the field the annotator is on."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Label, Markdown

import imrgold
from imrgold.core.models import HEADER_FIELDS, split_item_path

CONVENTIONS_FILE = "GOLD_CONVENTIONS.md"

# A field's section, by the start of its heading (a heading's tail may grow; its start names it).
SECTIONS = {
    **dict.fromkeys(HEADER_FIELDS, "Case header"),
    "reviewer": "Reviewer",
    "patient": "Patient",
    "diagnoses": "Diagnoses",
    "diagnosis_codes": "ICD-10-CM codes",
    "items": "Items",
}


def conventions_path() -> Path:
    """The installed copy (package data beside the code), else the checkout's ``fixtures/``."""
    package = Path(imrgold.__file__).resolve().parent
    for folder in (package / "fixtures", package.parent / "fixtures"):
        if (folder / CONVENTIONS_FILE).is_file():
            return folder / CONVENTIONS_FILE
    raise FileNotFoundError(f"{CONVENTIONS_FILE} is not installed beside {package}")


def field_name(path: str | None) -> str | None:
    """``items.2.drugs`` -> ``drugs``, ``reviewer.licensure`` -> ``licensure``: how the
    conventions name a field in its section's rules."""
    if not path:
        return None
    split = split_item_path(path)
    return split[1] if split else path.rsplit(".", 1)[-1]


def section_for(path: str | None, titles: list[str]) -> str | None:
    """The heading that covers a field path (``items.2.drugs`` -> the items' section); None
    when none does (the panel then opens at the top)."""
    if not path:
        return None
    start = SECTIONS.get("items" if split_item_path(path) else path.split(".")[0])
    return next((t for t in titles if start and t.startswith(start)), None)


class ConventionsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="conventions.close")]

    def __init__(self, text: str, field: str | None = None) -> None:
        super().__init__(id="conventions-screen")
        self._text, self.field = text, field
        self.heading: str | None = None
        """The section shown at the top once the document is laid out (None: the top)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="conventions-panel"), VerticalScroll(id="conventions"):
            yield Markdown(self._text, id="conventions-text")
        yield Label(self._hint(), id="conventions-hint", markup=False)

    def _hint(self) -> str:
        where = [self.heading.split(" (")[0]] if self.heading else []
        where += [self.field] if self.field else []
        return " · ".join(["Gold conventions", *where, "Escape closes"])

    def on_markdown_table_of_contents_updated(self, event: Markdown.TableOfContentsUpdated) -> None:
        toc = event.table_of_contents
        self.heading = section_for(self.field, [title for _, title, _ in toc])
        self.query_one("#conventions-hint", Label).update(self._hint())
        block = next((b for _, title, b in toc if title == self.heading and b), None)
        if block is None:
            return
        target = self._field_rule(block) or self.query_one(f"#{block}")
        self.call_after_refresh(target.scroll_visible, top=True, animate=False)

    def _field_rule(self, heading_id: str) -> Widget | None:
        """The section's rule for the field itself (the bullet that starts ``drugs:``), if
        the section has one."""
        name = field_name(self.field)
        if not name:
            return None
        headings = set(self.query("MarkdownH2"))
        inside = False
        for widget in self.query("MarkdownH2, MarkdownParagraph"):
            if widget.id == heading_id:
                inside = True
            elif inside and widget in headings:
                return None
            elif inside and str(widget.render()).startswith(f"{name}:"):
                return widget
        return None

    def action_close(self) -> None:
        self.dismiss(None)
