"""The annotation app: the queue of letters, and one letter at a time to correct.

The app owns the store and the drug lexicon and is the only place that touches them; screens
call its methods from thread workers (anything that reads or writes the store, extracts or
searches drugs), never from an event handler.  One lock serialises store calls, because TinyDB
is not thread-safe.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import cast

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from imrgold.core import icd10
from imrgold.core.calibration import calibrated
from imrgold.core.dashboard import Dashboard
from imrgold.core.lexicon import Candidate
from imrgold.core.models import Letter, LetterStatus, LetterSummary, Proposal
from imrgold.core.queue import matches
from imrgold.tui import fields
from imrgold.tui.heap import IDLE, HeapKeeper
from imrgold.tui.keymap import load_keymap
from imrgold.tui.screens.annotate import AnnotateScreen, Loaded
from imrgold.tui.screens.confirm import ConfirmScreen
from imrgold.tui.screens.conventions import ConventionsScreen, conventions_path
from imrgold.tui.screens.help import HelpScreen
from imrgold.tui.screens.queue import QueueScreen
from imrgold.tui.seams import LexiconLike, StoreLike

Ingest = Callable[[Sequence[Path]], int]
"""Adds letters to the app's store (the caller binds it), returns how many were new."""
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def extract_or_empty(letter: Letter) -> Proposal:
    """The machine's proposal for a letter the store has none for."""
    from imrgold.core.extract import extract

    return extract(letter.text, letter.letter_id)


class ImrGoldApp(App[None]):
    CSS_PATH = ["app.tcss", "screens/queue.tcss", "screens/annotate.tcss"]
    TITLE = "imrgold"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        # `?` reaches here only when no text field has the focus (an Input types it).
        Binding("f1,question_mark", "help", "Help", id="app.help"),
        Binding(
            "f4",
            "conventions",
            "Conventions",
            show=False,
            tooltip="The gold conventions, at the section of the field you are on",
            id="app.conventions",
        ),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
    ]

    def __init__(
        self,
        store: StoreLike,
        *,
        lexicon: LexiconLike | None = None,
        offer: Sequence[Path] = (),
        ingest: Ingest | None = None,
        store_label: str = "",
        keymap: Mapping[str, str] | None = None,
        settle_heap: bool = False,
        clock: Clock = utc_now,
    ) -> None:
        """``settle_heap``: once the queue, the lexicon and the code table are loaded, put what
        they hold out of the garbage collector's sight, and let full collections run while the
        annotator pauses rather than inside a key (`tui/heap.py`).  A full collection paused
        the interface for 30-100 ms in the middle of the walk.  For the annotator's process,
        not for tests that open many apps in one.  ``clock``: what time it is (the session's
        pace; tests fix it)."""
        super().__init__()
        self.clock = clock
        self.session_start = clock()
        self.heap = HeapKeeper() if settle_heap else None
        if keymap is None:
            loaded, self._keymap_problems = load_keymap()
        else:
            loaded, self._keymap_problems = dict(keymap), []
        self._user_keymap = loaded
        self.store = store
        self.store_lock = threading.Lock()
        self.store_label = store_label
        self._lexicon = lexicon
        self._offer = list(offer)
        self._ingest = ingest
        self._summaries: dict[str, LetterSummary] = {}
        self._drafts: dict[str, Proposal] = {}
        self._changes: dict[str, int] = {}
        self._gold_pending: dict[str, Proposal] = {}
        self._texts: dict[str, str] = {}
        """Letters' texts in lower case, read on the first search in them (texts never change)."""

    def on_mount(self) -> None:
        self.set_keymap(self._user_keymap)
        for problem in self._keymap_problems:
            self.notify(problem, title="keymap", severity="warning", markup=False)
        self.push_screen(QueueScreen())
        if self._lexicon is None:
            self._warm_lexicon()
        self._warm_codes()
        if self.heap is not None:
            self.set_interval(IDLE / 2, self.heap.collect_if_idle)

    def on_unmount(self) -> None:
        if self.heap is not None:
            self.heap.restore()

    async def on_event(self, event: events.Event) -> None:
        if self.heap is not None and isinstance(event, events.InputEvent):
            self.heap.touched()
        await super().on_event(event)

    # -- the store (called from thread workers) -------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    def load_summaries(self) -> list[LetterSummary]:
        if not self.read_only:
            # What waits to be written goes first, so the queue reads the store as it will be.
            self.flush_drafts()
            self.flush_gold()
        with self.store_lock:
            summaries = self.store.summaries()
        self._summaries = {s.letter_id: s for s in summaries}
        if not summaries and self._offer and self._ingest is not None:
            self.call_from_thread(self._offer_fixtures)
        self._settled()
        return summaries

    def _settled(self) -> None:
        """Long-lived data was just loaded (see ``settle_heap``)."""
        if self.heap is not None:
            self.heap.settle()

    def load_dashboard(self) -> Dashboard:
        from imrgold.store.dashboard import gather_dashboard

        with self.store_lock:
            return gather_dashboard(self.store)

    def summary(self, letter_id: str) -> LetterSummary | None:
        return self._summaries.get(letter_id)

    def change_count(self, letter_id: str) -> int:
        """How many times this session has changed the letter's record or status (a letter
        prepared ahead of showing is stale once it changed)."""
        return self._changes.get(letter_id, 0)

    def _touch(self, letter_id: str) -> None:
        self._changes[letter_id] = self._changes.get(letter_id, 0) + 1

    def _note(self, letter_id: str, status: LetterStatus, **update: object) -> None:
        self._touch(letter_id)
        known = self._summaries.get(letter_id)
        if known is not None:
            self._summaries[letter_id] = known.model_copy(update={"status": status, **update})

    def load_for_annotation(self, letter_id: str) -> tuple[Letter, Proposal, bool]:
        """The letter and what to show for it: this annotator's draft, else the proposal."""
        with self.store_lock:
            letter = self.store.get_letter(letter_id)
            pending = self._gold_pending.get(letter_id) or self._drafts.get(letter_id)
            draft = pending or self.store.get_draft(letter_id)
            proposal = draft or self.store.get_proposal(letter_id)
        if proposal is None:
            proposal = extract_or_empty(letter)
        return letter, calibrated(proposal), draft is not None

    def save_draft(self, proposal: Proposal) -> None:
        """Keep a draft now: newest per letter wins, written by a worker in order."""
        if self.read_only:
            return
        self._drafts[proposal.letter_id] = proposal
        self._note(proposal.letter_id, status=self._working_status(proposal.letter_id))
        # Written once the screen shows the edit (a write beside the drawing slows it through
        # the interpreter lock); until then the draft is held here, read back by
        # `load_for_annotation` and written by `flush_drafts` on quit.
        self.call_after_refresh(self._write_drafts)

    def _working_status(self, letter_id: str) -> LetterStatus:
        known = self._summaries.get(letter_id)
        return "in_progress" if known is None or known.status == "new" else known.status

    @work(thread=True, group="store")
    def _write_drafts(self) -> None:
        try:
            written = self.flush_drafts()
            # The store says whether a gold letter's draft now differs from its gold record.
            with self.store_lock:
                summaries = [self.store.summary(lid) for lid in written]
        except Exception as err:
            self.call_from_thread(self.report_failure, "draft not saved", err)
            return
        for summary in summaries:
            self.call_from_thread(self.summary_changed, summary)

    def summary_changed(self, summary: LetterSummary) -> None:
        self._touch(summary.letter_id)
        self._summaries[summary.letter_id] = summary
        if isinstance(self.screen, AnnotateScreen):
            self.screen.summary_changed(summary)

    def drop_edits(self, letter_id: str) -> Proposal | None:
        """A gold letter's draft back to its gold record (called from a worker)."""
        with self.store_lock:
            self._drafts.pop(letter_id, None)
            restored = self.store.drop_edits(letter_id)
            summary = self.store.summary(letter_id)
        self.call_from_thread(self.summary_changed, summary)
        return restored

    def report_failure(self, what: str, err: Exception) -> None:
        self.notify(f"{what}: {err}", severity="error", timeout=10)

    def flush_drafts(self) -> list[str]:
        """Write the drafts waiting; returns their letters' ids."""
        # Popping under the lock means a worker that runs late finds nothing and writes nothing.
        written = []
        with self.store_lock:
            while self._drafts:
                lid, proposal = self._drafts.popitem()
                self.store.save_draft(proposal)
                written.append(lid)
        return written

    def mark_gold(self, proposal: Proposal) -> None:
        if self.read_only:
            self.notify("Store is open read-only: nothing saved", severity="warning")
            return
        self._drafts.pop(proposal.letter_id, None)
        self._note(
            proposal.letter_id,
            status="gold",
            edited=False,
            has_gold=True,
            gold_at=self.clock(),
            expected_corrections=0.0,
        )
        # Written once the next letter is drawn, as drafts are: held here until then (read back
        # by `load_for_annotation`, written by `flush_gold` on quit); learning is a bonus.
        self._gold_pending[proposal.letter_id] = proposal
        self.call_after_refresh(self._write_gold)
        self.call_after_refresh(self._learn_from_gold, proposal)

    @work(thread=True, group="store")
    def _write_gold(self) -> None:
        try:
            self.flush_gold()
        except Exception as err:
            self.call_from_thread(self.report_failure, "mark gold failed", err)

    def flush_gold(self) -> None:
        """Write the gold records waiting; one stays waiting until it is written."""
        with self.store_lock:
            while self._gold_pending:
                letter_id, proposal = next(iter(self._gold_pending.items()))
                self._drafts.pop(letter_id, None)
                self.store.mark_gold(proposal)
                del self._gold_pending[letter_id]

    def set_status(self, letter_id: str, status: LetterStatus, comment: str | None) -> None:
        if self.read_only:
            self.notify("Store is open read-only: nothing saved", severity="warning")
            return
        self._note(letter_id, status=status, comment=comment)
        self._write_status(letter_id, status, comment)

    @work(thread=True, group="store")
    def _write_status(self, letter_id: str, status: LetterStatus, comment: str | None) -> None:
        try:
            with self.store_lock:
                self.store.set_status(letter_id, status, comment)
        except Exception as err:
            self.call_from_thread(self.report_failure, "set status failed", err)

    def search_texts(
        self,
        words: Sequence[str],
        summaries: Iterable[LetterSummary],
        cancelled: Callable[[], bool],
    ) -> set[str] | None:
        """Ids of the letters whose text and summary hold every word (called from a worker);
        None when cancelled (a newer search replaces this one).  Each text is read once, then
        kept in lower case: a search over 10,000 letters reads them once (seconds), the next
        ones only scan memory (under a tenth of a second; `bench/queue_search.py`)."""
        found = set()
        for summary in summaries:
            if cancelled():
                return None
            text = self._lowered_text(summary)
            if text is not None and matches(summary, None, words, text):
                found.add(summary.letter_id)
        return found

    def _lowered_text(self, summary: LetterSummary) -> str | None:
        text = self._texts.get(summary.letter_id)
        if text is None:
            try:
                with self.store_lock:
                    letter = self.store.get_letter(summary.letter_id)
            except Exception as err:  # a damaged text: the search goes on without it
                self.log.error(f"search skipped {summary.name}: {err!r}")
                return None
            text = self._texts[summary.letter_id] = letter.text.lower()
        return text

    @work(thread=True, exclusive=True, group="texts")
    def warm_texts(self) -> None:
        """Read the letters' texts for the search before the first word is typed."""
        worker = get_current_worker()
        for summary in list(self._summaries.values()):
            if worker.is_cancelled:
                return
            self._lowered_text(summary)

    # -- bundled letters for an empty store ------------------------------------------------

    def _offer_fixtures(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.notify(f"Ingesting {len(self._offer)} letters…")
                self._ingest_offer()

        self.push_screen(
            ConfirmScreen(
                f"This store has no letters yet.\nIngest the {len(self._offer)} bundled "
                "example letters to try the tool?"
            ),
            answered,
        )

    @work(thread=True, exclusive=True, group="ingest")
    def _ingest_offer(self) -> None:
        assert self._ingest is not None
        with self.store_lock:
            added = self._ingest(self._offer)
        self._offer = []
        self.call_from_thread(self._ingested, added)

    def _ingested(self, added: int) -> None:
        self.notify(f"Ingested {added} letters")
        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                screen.reload()

    # -- drugs -----------------------------------------------------------------------------

    @property
    def lexicon(self) -> LexiconLike | None:
        if self._lexicon is None:
            try:
                from imrgold.core.lexicon import default_lexicon

                self._lexicon = default_lexicon()
            except Exception as err:  # without a lexicon the annotator types drugs by hand
                self.log.error(f"no drug lexicon: {err!r}")
                return None
        return self._lexicon

    @work(thread=True, group="lexicon")
    def _warm_lexicon(self) -> None:
        # The dictionary takes a moment to load: do it before the first keystroke needs it.
        _ = self.lexicon
        self._settled()

    def suggest(self, query: str, letter_text: str | None) -> list[Candidate]:
        lexicon = self.lexicon
        if lexicon is None or not query.strip():
            return []
        try:
            return list(lexicon.suggest(query, letter_text, limit=8))
        except Exception as err:  # a suggestion must never cost the annotator their work
            self.log.error(f"drug suggestions failed: {err!r}")
            return []

    def drug_reader(self) -> fields.DrugReader | None:
        """How typed drugs are read (`Lexicon.read_drugs`); None before the lexicon is loaded
        (the typed names are then stored as typed)."""
        if self._lexicon is None:
            return None
        read = self._lexicon.read_drugs

        def guarded(text: str) -> tuple[list[str], list[str]]:
            try:
                return read(text)
            except Exception as err:  # the annotator's text is kept whatever the lexicon does
                self.log.error(f"reading drugs {text!r} failed: {err!r}")
                return [], [text]

        return guarded

    # -- ICD-10-CM ---------------------------------------------------------------------------

    @work(thread=True, group="codes")
    def _warm_codes(self) -> None:
        # The code table loads in a fifth of a second from the cache (seconds the first time).
        try:
            icd10.warm()
        except Exception as err:  # suggestions then come later, loading on first use
            self.log.error(f"ICD-10-CM table not loaded: {err!r}")
            return
        self._settled()

    def suggest_codes(self, query: str) -> list[icd10.Candidate]:
        """ICD-10-CM candidates for a diagnosis as typed (called from a worker)."""
        if not query.strip():
            return []
        try:
            return icd10.suggest(query, limit=8)
        except Exception as err:  # a suggestion must never cost the annotator their work
            self.log.error(f"ICD-10-CM suggestions failed: {err!r}")
            return []

    def learn(self, query: str, candidate: Candidate) -> None:
        if query and query.lower() != candidate.name.lower():
            self._learn(query, candidate.name)

    @work(thread=True, group="lexicon")
    def _learn(self, alias: str, name: str) -> None:
        lexicon = self.lexicon
        try:
            if lexicon is not None:
                lexicon.learn(alias, name)
        except Exception as err:
            self.log.error(f"learning {alias!r} failed: {err!r}")

    @work(thread=True, group="lexicon")
    def _learn_from_gold(self, proposal: Proposal) -> None:
        """Teach the lexicon the drugs the annotator settled on, so a misspelling corrected
        here is read right in the next letters (it skips what it already reads that way)."""
        lexicon = self.lexicon
        if lexicon is None:
            return
        try:
            items = [(i.request, i.drugs) for i in proposal.to_record().items if i.drugs]
            # No letter text: in its own letter a misspelling may already read right (the
            # letter spells the drug elsewhere), and the lesson is for letters that do not.
            learned = lexicon.learn_from_items(items) if items else []
        except Exception as err:  # learning is a bonus; the gold record is already safe
            self.log.error(f"learning from {proposal.letter_id} failed: {err!r}")
            return
        if learned:
            words = ", ".join(f"{alias} → {'; '.join(drugs)}" for alias, drugs in learned)
            self.call_from_thread(self.notify, f"Drug names learned: {words}")

    # -- screens and commands --------------------------------------------------------------

    def open_letters(self, order: list[str], index: int) -> None:
        if order:
            self._open_letters(list(order), index)

    @work(thread=True, exclusive=True, group="open")
    def _open_letters(self, order: list[str], index: int) -> None:
        try:
            loaded = self.load_for_annotation(order[index])
        except Exception as err:  # a damaged letter file: say so and stay on the queue
            self.call_from_thread(self.report_failure, "cannot open the letter", err)
            return
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._show_letters, order, index, loaded)

    def _show_letters(self, order: list[str], index: int, loaded: Loaded) -> None:
        # One annotate screen for the whole session, filled before it is shown: composing it
        # again for every letter, or painting the last letter first, costs more than the rest.
        if not self.is_screen_installed("annotate"):
            self.install_screen(AnnotateScreen(order, index, loaded=loaded), "annotate")
        else:
            cast(AnnotateScreen, self.get_screen("annotate")).open_at(order, index, loaded)
        if self.screen is not self.get_screen("annotate"):
            self.push_screen("annotate")

    def queue_order(self) -> list[str]:
        """Every letter in the queue's current order (unfiltered)."""
        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                return screen.ordered_ids()
        return list(self._summaries)

    def action_conventions(self) -> None:
        if isinstance(self.screen, ConventionsScreen):
            return
        field = self.screen.current_path if isinstance(self.screen, AnnotateScreen) else None
        try:
            text = conventions_path().read_text(encoding="utf-8")
        except OSError as err:
            self.notify(f"conventions not found: {err}", severity="error", markup=False)
            return
        self.push_screen(ConventionsScreen(text, field))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.action in seen or binding.action == "help":
                continue
            seen.add(binding.action)
            yield SystemCommand(
                binding.description,
                f"{binding.tooltip or binding.description} ({self.get_key_display(binding)})",
                partial(self.run_action, binding.action, active.node),
            )

    async def action_quit(self) -> None:
        # Whatever the annotator typed and did not enter yet is kept too.
        for screen in self.screen_stack:
            if isinstance(screen, AnnotateScreen):
                screen.commit_editor()
        if not self.read_only:
            self.flush_drafts()
            self.flush_gold()
        self.exit()
