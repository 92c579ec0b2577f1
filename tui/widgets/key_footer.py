"""The footer: the keys of the moment with what they do, and the command palette's key.

One line of text redrawn when the bindings change, instead of Textual's `Footer`, which mounts a
widget per key and re-mounts them all on every screen switch and focus change (most of the time
it takes to open a letter).
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static


class KeyFooter(Static):
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 100%;
        background: $footer-background;
    }
    KeyFooter > .key-footer--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    KeyFooter > .key-footer--description {
        color: $footer-description-foreground;
    }
    """

    _pending = False

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        # Focus settles after mount; read the bindings again once it has.
        self.call_after_refresh(self.bindings_changed, self.screen)

    def bindings_changed(self, screen: Screen) -> None:
        # A key that moves the focus changes the bindings two or three times; the footer is
        # drawn once, after the screen has shown what the key did (its own line repaints alone).
        if not self._pending:
            self._pending = True
            self.call_after_refresh(self._show_keys, screen)

    def _show_keys(self, screen: Screen) -> None:
        self._pending = False
        if not self.is_attached:  # its screen was closed before this call came round
            return
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        text = Text(no_wrap=True, overflow="ellipsis")
        seen: set[str] = set()
        # Help first: on a narrow terminal the tail is cut, and help leads to everything else;
        # then the screen's keys in the order it declares them (most used first), then those it
        # shares with other screens (its base classes').
        own_first = [
            binding for cls in type(screen).__mro__ for binding in cls.__dict__.get("BINDINGS", ())
        ]
        declared: dict[str, int] = {}
        for binding in own_first:
            if isinstance(binding, Binding) and binding.id:
                declared.setdefault(binding.id, len(declared))
        ordered = sorted(
            screen.active_bindings.values(),
            key=lambda a: (
                a.binding.action not in ("help", "app.help"),
                declared.get(a.binding.id or "", len(declared)),
            ),
        )
        for active in ordered:
            binding = active.binding
            if not binding.show or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            style = description_style if active.enabled else description_style + Style(dim=True)
            text.append(f" {self.app.get_key_display(binding)} ", key_style)
            text.append(f"{binding.description} ", style)
        if self.app.ENABLE_COMMAND_PALETTE:
            palette = self.app.get_key_display(Binding(self.app.COMMAND_PALETTE_BINDING, ""))
            hint = Text.assemble((f" {palette} ", key_style), ("palette ", description_style))
            room = max(0, self.size.width - hint.cell_len)
            text.truncate(room, overflow="ellipsis", pad=True)
            text.append_text(hint)
        self.update(text, layout=False)

    def on_resize(self) -> None:
        self.bindings_changed(self.screen)
