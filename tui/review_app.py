"""`imrgold review`: the QA pass and the adjudication queue, one letter after another.

A separate App from the annotation interface: a reviewer walks a fixed list of tasks (review
someone else's record, or adjudicate a letter whose versions differ) and nothing else.  The
screens look and answer keys as the annotate screen does (`tui/screens/qa_screen.py`).

The store is touched only in thread workers, under one lock: the next letter is read while
the reviewer works on this one, and a finished letter is written while they go on to the
next, so a letter's screen opens at once and keys typed ahead are not lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import WorkerFailed

from imrgold.core.models import GoldRecord, LetterStatus, Proposal, Span
from imrgold.store.qa.adjudication import AdjudicationSession, adjudication_queue
from imrgold.store.qa.review import ReviewSession, reviewable
from imrgold.tui.keymap import load_keymap
from imrgold.tui.review_rows import Provenance, provenance, value_spans
from imrgold.tui.screens.adjudicate import AdjudicateScreen
from imrgold.tui.screens.help import HelpScreen
from imrgold.tui.screens.qa_screen import QAScreen, Save
from imrgold.tui.screens.review import ReviewScreen
from imrgold.tui.screens.review_done import DoneScreen
from imrgold.tui.screens.review_wait import WaitScreen
from imrgold.tui.seams import StoreLike


@dataclass(frozen=True)
class Task:
    kind: Literal["review", "adjudicate"]
    letter_id: str
    annotator: str | None = None


def plan(
    store: StoreLike,
    reviewer: str,
    *,
    share: float | None = None,
    seed: int | None = None,
    review: bool = True,
    adjudicate: bool = True,
) -> list[Task]:
    """Reviews first (the sample, if any), then the adjudication queue as it stood at start."""
    tasks: list[Task] = []
    if review:
        tasks += [
            Task("review", lid, a) for lid, a in reviewable(store, reviewer, share=share, seed=seed)
        ]
    if adjudicate:
        tasks += [Task("adjudicate", lid) for lid in adjudication_queue(store)]
    return tasks


@dataclass(frozen=True)
class Loaded:
    """What a task's screen needs, read from the store; ``gone`` says why there is none."""

    name: str
    status: LetterStatus
    text: str = ""
    review: ReviewSession | None = None
    adjudication: AdjudicationSession | None = None
    origins: dict[str, Provenance] | None = None
    spans: dict[str, list[Span]] | None = None
    gone: str | None = None


@dataclass(frozen=True)
class Read:
    """What the store holds for a task (read under the store lock)."""

    name: str
    status: LetterStatus
    text: str
    versions: dict[str, GoldRecord]
    draft: Proposal | None = None
    machine: Proposal | None = None


def read_task(store: StoreLike, task: Task) -> Read:
    lid = task.letter_id
    summary = store.summary(lid)
    text = store.get_letter(lid).text
    if task.kind == "adjudicate":
        return Read(summary.name, summary.status, text, store.gold_versions(lid))
    record = store.get_gold(lid, annotator=task.annotator) if task.annotator else None
    if record is None or task.annotator is None:
        return Read(summary.name, summary.status, text, {})
    return Read(
        summary.name,
        summary.status,
        text,
        {task.annotator: record},
        store.get_draft(lid, annotator=task.annotator),
        store.get_proposal(lid),
    )


def prepare(read: Read, task: Task, reviewer: str) -> Loaded:
    """A task's screen's data from what the store holds (no store call: outside the lock,
    since finding values in the letter takes a while)."""
    if task.kind == "adjudicate":
        session = AdjudicationSession.start(task.letter_id, read.versions)
        return Loaded(read.name, read.status, read.text, adjudication=session)
    if task.annotator is None or task.annotator not in read.versions:
        return Loaded(read.name, read.status, gone="skipped: the version to review is gone")
    review = ReviewSession.start(read.versions[task.annotator], task.annotator, reviewer)
    # Where the annotator's values came from (their draft's spans, while it holds the value),
    # else where the letter says them.
    source = read.draft or read.machine
    spans = {}
    for path, value in review.original.items():
        field = source.fields.get(path) if source is not None else None
        kept = list(field.spans) if field is not None and field.value == value else []
        spans[path] = kept or value_spans(read.text, value)
    return Loaded(
        read.name,
        read.status,
        read.text,
        review=review,
        origins=provenance(review.original, read.draft, read.machine),
        spans=spans,
    )


SAVING = "saving…"


class ReviewApp(App[None]):
    """``outcomes`` lists ``(kind, letter name, outcome)`` for the tasks walked."""

    CSS_PATH = [
        "app.tcss",
        # The annotate screen's panes, title bar and status line: the review screens use them,
        # so the two look alike from one statement of the look.
        "screens/annotate.tcss",
        "screens/qa_screen.tcss",
        "screens/review.tcss",
        "screens/adjudicate.tcss",
    ]
    TITLE = "imrgold review"
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="review.help"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="review.quit"),
    ]

    def __init__(
        self,
        store: StoreLike,
        reviewer: str,
        tasks: list[Task],
        *,
        keymap: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.store_lock = threading.Lock()
        self.reviewer = reviewer
        self.task_list = list(tasks)
        self.task_index = -1
        if keymap is None:
            self._user_keymap, self._keymap_problems = load_keymap()
        else:
            self._user_keymap, self._keymap_problems = dict(keymap), []
        self._loaded: dict[int, Loaded | Exception] = {}
        self._loading: set[int] = set()
        self._outcomes: dict[int, tuple[str, str, str]] = {}

    @property
    def outcomes(self) -> list[tuple[str, str, str]]:
        return [self._outcomes[i] for i in sorted(self._outcomes)]

    def on_mount(self) -> None:
        self.set_keymap(self._user_keymap)
        for problem in self._keymap_problems:
            self.notify(problem, title="keymap", severity="warning", markup=False)
        self.sub_title = f"reviewer: {self.reviewer}"
        self.push_screen(WaitScreen())
        self._go(0)

    # -- tasks --------------------------------------------------------------------------------

    def _go(self, index: int) -> None:
        """Show task ``index`` (the done screen past the last) as soon as it is read."""
        self.task_index = index
        if index >= len(self.task_list):
            self._replace(DoneScreen(self.outcomes))
        elif index in self._loaded:
            self._show(index)
        else:
            self._fetch(index)
            if not isinstance(self.screen, WaitScreen):
                self.push_screen(WaitScreen())

    def _fetch(self, index: int) -> None:
        if index < len(self.task_list) and index not in self._loaded.keys() | self._loading:
            self._loading.add(index)
            self._load(index)

    @work(thread=True, group="load")
    def _load(self, index: int) -> None:
        try:
            task = self.task_list[index]
            with self.store_lock:
                read = read_task(self.store, task)
            loaded: Loaded | Exception = prepare(read, task, self.reviewer)
        except Exception as err:  # a damaged letter: said on screen, the session goes on
            loaded = err
        self.call_from_thread(self._arrived, index, loaded)

    def _arrived(self, index: int, loaded: Loaded | Exception) -> None:
        self._loading.discard(index)
        self._loaded[index] = loaded
        self._show_if_waiting()

    def on_wait_screen_resumed(self, message: WaitScreen.Resumed) -> None:
        self._show_if_waiting()

    def _show_if_waiting(self) -> None:
        # Not under a dialog (the command palette): the letter is shown once it closes.
        if isinstance(self.screen, WaitScreen) and self.task_index in self._loaded:
            self._show(self.task_index)

    def _show(self, index: int) -> None:
        task, loaded = self.task_list[index], self._loaded.pop(index)
        if isinstance(loaded, Exception):
            self.notify(f"cannot open the letter: {loaded}", severity="error", markup=False)
            self._outcomes[index] = (task.kind, task.letter_id[:12], f"skipped: {loaded}")
            self._go(index + 1)
            return
        if loaded.gone:
            self._outcomes[index] = (task.kind, loaded.name, loaded.gone)
            self._go(index + 1)
            return
        position = (index + 1, len(self.task_list))
        screen: QAScreen
        if loaded.review is not None:
            screen = ReviewScreen(
                loaded.review,
                name=loaded.name,
                status=loaded.status,
                text=loaded.text,
                position=position,
                origins=loaded.origins or {},
                spans=loaded.spans or {},
            )
        else:
            assert loaded.adjudication is not None
            screen = AdjudicateScreen(
                loaded.adjudication,
                name=loaded.name,
                text=loaded.text,
                position=position,
                adjudicator=self.reviewer,
            )
        self._replace(screen, lambda result: self._done(index, loaded.name, result))
        self._fetch(index + 1)  # read while this one is worked on

    def _replace(
        self, screen: Screen, callback: Callable[[Save | None], None] | None = None
    ) -> None:
        """Show ``screen`` in the waiting screen's place; the keys it kept go to it, in order."""
        held = []
        if isinstance(self.screen, WaitScreen):
            held = self.screen.held
            self.pop_screen()
        self.push_screen(screen, callback=callback)
        for key in held:
            self.post_message(key)

    def _done(self, index: int, name: str, result: Save | None) -> None:
        kind = self.task_list[index].kind
        if result is None:
            self._outcomes[index] = (kind, name, "skipped")
        else:
            self._outcomes[index] = (kind, name, SAVING)
            self._save(index, result)
        self._go(index + 1)

    @work(thread=True, group="save")
    def _save(self, index: int, save: Save) -> None:
        kind, name, _ = self._outcomes[index]
        try:
            with self.store_lock:
                outcome = save.run(self.store)
        except Exception as err:  # the store refused: the letter stays as it was, and it is said
            self.call_from_thread(
                self.notify, f"{name} not saved: {err}", severity="error", markup=False
            )
            outcome = f"not saved: {err}"
        self.call_from_thread(self._saved, index, (kind, name, outcome))

    def _saved(self, index: int, outcome: tuple[str, str, str]) -> None:
        self._outcomes[index] = outcome
        if isinstance(self.screen, DoneScreen):
            self.screen.show(self.outcomes)

    # -- keys ---------------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        # Letters finished are written, and letters being read are read, before the store is
        # closed.
        try:
            await self.workers.wait_for_complete()
        except WorkerFailed as err:  # the workers report their own errors; this is a bug
            self.log.error(f"a worker failed: {err!r}")
        self.exit()
