"""Remappable keys: every binding has an `id`; a TOML file in the user's config folder maps ids
to keys, and the app applies it with Textual's `set_keymap` (footer, help and palette then show
the new keys).

```toml
# ~/.config/imrgold/keymap.toml  (`imrgold keys` prints every id and its key)
[keys]
"annotate.gold_next" = "ctrl+g"
"annotate.flag" = "f8,ctrl+r"
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding

from imrgold.core.files import user_config_dir

KEYMAP_FILE = "keymap.toml"


def keymap_path() -> Path:
    return user_config_dir() / KEYMAP_FILE


@dataclass(frozen=True)
class KeySpec:
    """One remappable binding: where it acts, its id, default keys and what it does."""

    where: str
    id: str
    keys: str
    description: str
    tooltip: str


def _classes() -> list[tuple[str, type]]:
    # Imported here: the keymap is read before the app (and `imrgold keys` needs no app).
    from imrgold.tui.app import ImrGoldApp
    from imrgold.tui.review_app import ReviewApp
    from imrgold.tui.screens.adjudicate import AdjudicateScreen
    from imrgold.tui.screens.annotate import AnnotateScreen
    from imrgold.tui.screens.choice_menu import ChoiceMenu
    from imrgold.tui.screens.comment import CommentScreen
    from imrgold.tui.screens.confirm import ConfirmScreen, StrictConfirmScreen
    from imrgold.tui.screens.conventions import ConventionsScreen
    from imrgold.tui.screens.dashboard import DashboardScreen
    from imrgold.tui.screens.help import HelpScreen
    from imrgold.tui.screens.letter_screen import LetterScreen
    from imrgold.tui.screens.qa_screen import QAScreen
    from imrgold.tui.screens.queue import QueueScreen
    from imrgold.tui.screens.review import ReviewScreen
    from imrgold.tui.screens.review_done import DoneScreen
    from imrgold.tui.widgets.field_editor import FieldEditor, RowInput, RowTextArea
    from imrgold.tui.widgets.find_bar import FindBar
    from imrgold.tui.widgets.letter_view import LetterView
    from imrgold.tui.widgets.queue_table import QueueTable

    return [
        ("everywhere", ImrGoldApp),
        ("queue", QueueScreen),
        ("queue", QueueTable),
        ("dashboard", DashboardScreen),
        ("letter", AnnotateScreen),
        ("letter, review, adjudication: the letter", LetterScreen),
        ("letter: field editor", FieldEditor),
        ("letter: field box", RowInput),
        ("letter: choice list", ChoiceMenu),
        ("letter: request, rationale", RowTextArea),
        ("letter: letter text", LetterView),
        ("letter: find", FindBar),
        ("question", ConfirmScreen),
        ("question (y only)", StrictConfirmScreen),
        ("comment", CommentScreen),
        ("help", HelpScreen),
        ("conventions", ConventionsScreen),
        ("review", ReviewApp),
        ("review, adjudication", QAScreen),
        ("review", ReviewScreen),
        ("review: done", DoneScreen),
        ("adjudication", AdjudicateScreen),
    ]


def key_specs() -> list[KeySpec]:
    """Every binding of the interface, in the order screens are met."""
    specs = []
    for where, cls in _classes():
        for binding in cls.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding) and binding.id, f"{cls.__name__}: {binding}"
            specs.append(
                KeySpec(where, binding.id, binding.key, binding.description, binding.tooltip)
            )
    return specs


def read_keymap(path: Path, known: set[str]) -> tuple[dict[str, str], list[str]]:
    """(id -> keys, problems) from a keymap file; a missing file is an empty keymap.

    What cannot be used is named (a file that does not parse applies nothing; an unknown id or
    a value that is not a key string is skipped) and the rest applies: a typo in one line must
    not take every other key away.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        return {}, [f"{path}: not read ({err}); default keys"]
    table = data.get("keys", {})
    if not isinstance(table, dict):
        return {}, [f'{path}: [keys] must be a table of binding id = "keys"; default keys']
    keymap, problems = {}, []
    for binding_id, keys in table.items():
        if binding_id not in known:
            problems.append(f"{path}: no key has the id {binding_id!r} (`imrgold keys` lists them)")
        elif not isinstance(keys, str) or not keys.strip() or " " in keys.strip():
            problems.append(f'{path}: {binding_id} = {keys!r} is not a key list like "ctrl+g,f5"')
        else:
            keymap[binding_id] = keys.strip()
    return keymap, problems


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    return read_keymap(path or keymap_path(), {spec.id for spec in key_specs()})


def keys_with(keymap: dict[str, str]) -> list[KeySpec]:
    """`key_specs` with the keymap applied: what `imrgold keys` prints."""
    return [
        KeySpec(s.where, s.id, keymap.get(s.id, s.keys), s.description, s.tooltip)
        for s in key_specs()
    ]
