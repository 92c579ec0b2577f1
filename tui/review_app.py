"""`imrgold review`: the QA pass and the adjudication queue, one letter after another.

A separate App from the annotation interface: a reviewer walks a fixed list of tasks (review
someone else's record, or adjudicate a letter whose versions differ) and nothing else.  Store
calls are small (one journaled commit each), so they run on the event loop; the reviewer waits
for a save they asked for, never for anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from imrgold.core.models import Span
from imrgold.store import qa


@dataclass(frozen=True)
class Task:
    kind: Literal["review", "adjudicate"]
    letter_id: str
    annotator: str | None = None


def plan(
    store: Any,
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
            Task("review", lid, a)
            for lid, a in qa.reviewable(store, reviewer, share=share, seed=seed)
        ]
    if adjudicate:
        tasks += [Task("adjudicate", lid) for lid in qa.adjudication_queue(store)]
    return tasks


class DoneScreen(Screen[None]):
    BINDINGS = [Binding("q,escape,enter", "app.quit", "Quit", id="review.done_quit")]

    def __init__(self, outcomes: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.outcomes = outcomes

    def compose(self) -> ComposeResult:
        yield Header()
        if not self.outcomes:
            body = "Nothing to review or adjudicate."
        else:
            lines = [f"{kind:<10} {name:<40} -> {outcome}" for kind, name, outcome in self.outcomes]
            body = "Done.\n\n" + "\n".join(lines)
        # Text, not markup: a letter's file name may hold brackets ("letter [copy].pdf").
        yield Static(Text(body), id="review-done")
        yield Footer()


class ReviewApp(App[None]):
    """``outcomes`` lists ``(kind, letter name, outcome)`` for the tasks walked."""

    CSS_PATH = "review.tcss"
    TITLE = "imrgold review"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True, id="review.quit")]

    def __init__(self, store: Any, reviewer: str, tasks: list[Task]) -> None:
        super().__init__()
        self.store = store
        self.reviewer = reviewer
        self.task_list = list(tasks)
        self.task_index = -1
        self.outcomes: list[tuple[str, str, str]] = []

    def on_mount(self) -> None:
        from imrgold.tui.keymap import load_keymap

        keymap, problems = load_keymap()
        self.set_keymap(keymap)
        for problem in problems:
            self.notify(problem, title="keymap", severity="warning", markup=False)
        self.sub_title = f"reviewer: {self.reviewer}"
        self.next_task()

    # -- tasks --------------------------------------------------------------------------------

    def _letter_name(self, letter_id: str) -> str:
        return self.store.summary(letter_id).name

    def next_task(self) -> None:
        self.task_index += 1
        if self.task_index >= len(self.task_list):
            self.push_screen(DoneScreen(self.outcomes))
            return
        task = self.task_list[self.task_index]
        name = self._letter_name(task.letter_id)
        position = f"{self.task_index + 1}/{len(self.task_list)} {name}"
        text = self.store.get_letter(task.letter_id).text
        if task.kind == "review":
            from imrgold.tui.review_screen import ReviewScreen

            record = self.store.get_gold(task.letter_id, annotator=task.annotator)
            if record is None or task.annotator is None:
                self._done(task, "skipped: the version to review is gone")
                return
            review = qa.ReviewSession.start(record, task.annotator, self.reviewer)
            spans, sources = self._provenance(task)
            screen: Screen = ReviewScreen(review, text, spans, position, sources)
        else:
            from imrgold.tui.review_adjudicate import AdjudicateScreen

            adjudication = qa.AdjudicationSession.start(
                task.letter_id, self.store.gold_versions(task.letter_id)
            )
            screen = AdjudicateScreen(adjudication, text, position)
        self.push_screen(screen, callback=lambda outcome: self._done(task, outcome))

    def _done(self, task: Task, outcome: str | None) -> None:
        self.outcomes.append((task.kind, self._letter_name(task.letter_id), outcome or "skipped"))
        self.next_task()

    def _provenance(self, task: Task) -> tuple[dict[str, list[Span]], dict[str, str]]:
        """Where the annotator's values came from (their draft's spans), and which of them they
        typed rather than accepted from the machine."""
        draft = self.store.get_draft(task.letter_id, annotator=task.annotator)
        draft = draft or self.store.get_proposal(task.letter_id)
        if draft is None:
            return {}, {}
        spans = {p: list(f.spans) for p, f in draft.fields.items() if f.spans}
        sources = {
            p: "typed" if f.source == "human" else "machine" for p, f in draft.fields.items()
        }
        return spans, sources

    # -- saving (called by the screens) -------------------------------------------------------

    def finish_review(self, session: qa.ReviewSession) -> str:
        return qa.finish_review(self.store, session)

    def flag(self, session: qa.ReviewSession, comment: str) -> str:
        self.store.set_status(session.letter_id, "flagged", f"{self.reviewer}: {comment}")
        return "flagged"

    def finish_adjudication(self, session: qa.AdjudicationSession) -> str:
        qa.finish_adjudication(self.store, session, self.reviewer)
        return "reviewed (adjudicated)"
