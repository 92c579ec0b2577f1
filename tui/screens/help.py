"""Every key of the screen underneath, with what it does, and how a letter gets corrected."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from imrgold.tui.screens.letter_screen import LetterScreen

WORKFLOW = """\
[b]Correcting a letter[/b]
  Up/Down or Tab/Shift+Tab walk the fields; the letter scrolls to each value and marks it.
  Ctrl+Down/Ctrl+Up (Alt+N/Alt+P) jump to the next/previous item; PageUp/PageDown page the
  list, Ctrl+Home/Ctrl+End go to its first and last field.
  Type to correct, Enter to keep it (confirmed) and move on; an empty value means null.
  A request or a rationale wraps in a taller box: Up/Down move in it, and leave it from its
  first or last line; line breaks (pasted ones too) become spaces.
  A choice (decision, category, priority, sex): one key picks it and moves on (u/o for
  upheld/overturned, else the first letter); Enter keeps it; Space or Ctrl+O opens the list.
  Lists are separated by ';'. A drugs field suggests drug names, a diagnosis ICD-10-CM codes:
  Up/Down pick one, Enter takes it (a diagnosis keeps your words and takes the code). Only a
  clear best is picked for you; otherwise Enter keeps what you typed.
  To take text from the letter: Ctrl+F to find it (or F2 and Shift+arrows to select it),
  then Ctrl+T (or Enter, in the letter) puts the selection and its position into the field.
  Alt+I adds an item, Alt+D a diagnosis; Alt+X removes, Alt+Up/Down reorder the one you are on.
  Every change is kept as a draft at once; Ctrl+G marks the letter gold and opens the next
  needing work in the queue's order. F4 shows the gold conventions at the field's section.
[b]The queue[/b]
  o changes the order: expected corrections (where the machine is most likely wrong first),
  case number, decision date, status, last touched. / searches the letters' words too.
"""


def _key_name(app: App[object], key: str) -> str:
    return app.get_key_display(Binding(key, ""))


def ours(active: ActiveBinding) -> bool:
    """The app's and screens' keys, not the text-editing keys every Input has."""
    return type(active.node).__module__.startswith("imrgold.tui.") or active.node is active.node.app


def bindings_table(screen: Screen) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(style="dim")
    seen: set[tuple[str, str]] = set()
    for active in screen.active_bindings.values():
        if not ours(active):
            continue
        binding = active.binding
        if not binding.description or (binding.action, binding.description) in seen:
            continue
        seen.add((binding.action, binding.description))
        keys = [
            k
            for k, a in screen.active_bindings.items()
            if a.binding.action == binding.action and a.binding.description == binding.description
        ]
        shown = " / ".join(_key_name(screen.app, k) for k in keys)
        table.add_row(shown, Text(binding.description), Text(binding.tooltip))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q,question_mark", "dismiss", "Close help", id="help.dismiss")]

    def __init__(self, underneath: Screen) -> None:
        super().__init__()
        self._underneath = underneath

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(f"[b]Keys: {self._underneath.title or 'imrgold'}[/b]", id="help-title")
            yield Static(bindings_table(self._underneath), id="help-keys")
            actions = {a.binding.action for a in self._underneath.active_bindings.values()}
            # A screen may say how its own work goes (review, adjudication).
            under = self._underneath
            workflow = under.WORKFLOW if isinstance(under, LetterScreen) else None
            if workflow is None and "next_field" in actions:
                workflow = WORKFLOW
            if workflow is not None:
                yield Static(workflow, id="help-workflow")
            yield Static("[dim]Escape closes this help · Ctrl+P finds any command by name[/]")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
