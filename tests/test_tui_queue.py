"""The queue as an annotator uses it: its orders, where Ctrl+G and Escape lead, the gold count,
search in the letters' words, the pace of the session, and the conventions panel."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from textual.containers import VerticalScroll
from textual.widgets import Label

from imrgold.core.progress import expected_corrections
from imrgold.core.queue import SORTS
from imrgold.tui.screens.conventions import ConventionsScreen
from imrgold.tui.screens.queue import QueueScreen
from imrgold.tui.widgets.queue_table import QueueTable
from tests import test_tui as walk
from tests.test_tui import N_LETTERS, go_to, make_app, open_letter, settle

# The walk's fixtures: a store of the first bundled letters, ingested once, copied per test.
env, template_db, db, store = walk.env, walk.template_db, walk.db, walk.store


def table_of(app) -> QueueTable:
    return app.screen.query_one(QueueTable)


def label_text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Label).render())


def set_values(store, lid: str, **values) -> None:
    """Give a letter's proposal these values (as the machine would have proposed them)."""
    proposal = store.get_proposal(lid)
    fields = dict(proposal.fields)
    for path, value in values.items():
        fields[path] = proposal.get(path).model_copy(update={"value": value})
    store.put_proposal(proposal.model_copy(update={"fields": fields}))


# -- orders ------------------------------------------------------------------------------------


async def test_the_order_key_cycles_every_order_and_the_header_says_which(store):
    ids = store.letter_ids()
    # Case numbers and decision dates in an order of their own, neither the store's nor doubt's.
    cases = ["CM15-0000300", "CM15-0000100", None, "CM15-0000200"]
    dates = ["2015-03-01", None, "2015-01-01", "2015-02-01"]
    for lid, case, date in zip(ids, cases, dates, strict=True):
        set_values(store, lid, case_number=case, decision_date=date)
    store.set_status(ids[2], "flagged", "why")
    store.mark_gold(store.get_proposal(ids[3]))  # touched last
    expected = {lid: store.summary(lid).expected_corrections for lid in ids}
    for lid in ids[:3]:
        assert expected[lid] == expected_corrections(store.get_proposal(lid)) > 0

    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = table_of(app)
        by_doubt = sorted(ids, key=lambda lid: -expected[lid])
        assert table.letter_ids == by_doubt  # the default: where the machine is likely wrong
        assert expected[ids[3]] == 0.0  # a gold letter has nothing left to correct
        assert len(set(expected.values())) == len(ids)  # no tie: the order is the doubt's
        assert "order: expected corrections" in label_text(app, "#queue-title")
        assert "fixes ↓" in str(table.header_line(120))
        wanted = {
            "case": [ids[1], ids[3], ids[0], ids[2]],  # no case number last
            "decision_date": [ids[2], ids[3], ids[0], ids[1]],
            "status": [ids[0], ids[1], ids[3], ids[2]],  # new, new, gold, flagged
            "touched": [ids[3], ids[2], ids[0], ids[1]],
            "expected": by_doubt,
        }
        for key in ["case", "decision_date", "status", "touched", "expected"]:
            await pilot.press("o")
            await settle(pilot)
            assert app.screen.sort_key == key
            assert table.letter_ids == wanted[key], key
            assert f"order: {SORTS[key][0]}" in label_text(app, "#queue-title")
        await pilot.press("o", "o")
        await settle(pilot)
        assert "decided ↓" in str(table.header_line(120))


# -- Ctrl+G, Escape ----------------------------------------------------------------------------


async def test_gold_opens_the_next_letter_needing_work_in_the_queue_order(store):
    ids = store.letter_ids()
    store.mark_gold(store.get_proposal(ids[1]))
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("o", "o")  # by decision date: an order that is not the store's
        await settle(pilot)
        order = list(table_of(app).letter_ids)
        needing = [lid for lid in order if lid != ids[1]]
        # The last letter needing work in this order: Ctrl+G goes round to the first.
        last = order.index(needing[-1])
        screen = await open_letter(pilot, queue_row=last)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "mark gold anyway?" in str(screen.query_one("#status-line").render())
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen and screen.letter_id == needing[0]
        assert store.status(needing[-1]) == "gold"
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert screen.letter_id == needing[1]
        # Escape: the queue, with the cursor on the letter last opened, in the same order.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert app.screen.sort_key == "decision_date"
        assert table_of(app).current_id() == needing[1]
        assert "3 of 4 gold" in label_text(app, "#progress-label")
        # The last one: Ctrl+G, y, and no letter is left: back to the queue.
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert "4 of 4 gold" in label_text(app, "#progress-label")


async def test_gold_from_a_search_goes_on_in_the_whole_queue(store):
    """Opened from a search that shows one letter, Ctrl+G goes on to the queue's next letter
    needing work instead of back to the queue."""
    ids = store.letter_ids()
    name = store.summary(ids[2]).name
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *name, "enter")
        await settle(pilot)
        assert table_of(app).letter_ids == [ids[2]]
        screen = await open_letter(pilot, queue_row=0)
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        queue = app.screen_stack[-2]
        first = next(lid for lid in queue.ordered_ids() if lid != ids[2])
        assert screen.letter_id == first


# -- the annotate header -----------------------------------------------------------------------


async def test_a_flagged_letter_shows_its_comment_in_the_header_when_reopened(store):
    ids = store.letter_ids()
    store.set_status(ids[0], "flagged", "date of injury: two in [bold]the letter[/]")
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot, 0)
        title = label_text(app, "#title-bar")
        assert "flagged" in title and "date of injury: two in [bold]the letter[/]" in title
        # After a change the status line says something else; the header still says why.
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert "[bold]the letter[/]" in label_text(app, "#title-bar")
        await pilot.press("escape")
        await settle(pilot)
        screen = await open_letter(pilot, 1)
        assert "“" not in label_text(app, "#title-bar")  # a letter without a comment
        assert screen.letter_id == ids[1]


# -- the gold count ----------------------------------------------------------------------------


async def test_the_gold_count_keeps_every_letter_with_a_gold_or_final_record(store):
    ids = store.letter_ids()
    for lid in ids[:3]:
        store.mark_gold(store.get_proposal(lid))
    # Sent to adjudication, then settled by an adjudicator; and a gold letter flagged since.
    store.set_status(ids[1], "adjudication")
    store.set_final(ids[1], store.get_gold(ids[1]), annotator="adjudicator")
    store.set_status(ids[2], "flagged", "look again")
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert label_text(app, "#progress-label") == f"3 of {N_LETTERS} gold"


# -- search ------------------------------------------------------------------------------------


async def test_search_finds_words_only_the_letter_text_holds(store):
    ids = store.letter_ids()
    words = {lid: set(re.findall(r"[a-z]{7,}", store.get_letter(lid).text.lower())) for lid in ids}
    counts = Counter(w for ws in words.values() for w in ws)
    # A word of one letter's text, not in any summary (name, case, status, decisions...).
    target = ids[2]
    word = sorted(w for w in words[target] if counts[w] == 1)[0]
    shared = sorted(w for w in words[target] if counts[w] == len(ids))[0]
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *word.upper())
        await settle(pilot)
        assert table_of(app).letter_ids == [target]
        # Words of the text and of the summary together: every word must be found.
        await pilot.press("ctrl+u", *f"{shared} new")
        await settle(pilot)
        assert sorted(table_of(app).letter_ids) == sorted(ids)
        await pilot.press("ctrl+u", *f"{word} gold")
        await settle(pilot)
        assert table_of(app).letter_ids == []
        await pilot.press("escape")
        await settle(pilot)
        assert len(table_of(app).letter_ids) == len(ids)


# -- the pace ----------------------------------------------------------------------------------


async def test_the_session_pace_in_the_queue_header_from_a_fixed_clock(store, monkeypatch):
    ids = store.letter_ids()
    t0 = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)
    now = [t0 - dt.timedelta(minutes=1)]  # the session starts a minute before the first gold
    # One clock for the app and the store (which times the gold records).
    monkeypatch.setattr("imrgold.store.store.now", lambda: now[0])
    marked = {
        ids[0]: t0 - dt.timedelta(days=1),  # yesterday: not today, not this session
        ids[1]: t0,
        ids[2]: t0 + dt.timedelta(minutes=6),
    }
    for lid, at in marked.items():
        store.put_gold(store.get_proposal(lid).to_record(), "tester", at=at)
    app = make_app(store, clock=lambda: now[0])
    now[0] = t0 + dt.timedelta(minutes=20)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pace = label_text(app, "#queue-pace")
        assert pace == "today 2 · session 2 · 6 min a letter · 1 left · 6 min to go"
        # The last letter marked gold in the app at 14:20: 6 and 14 minutes, 10 the median.
        screen = await open_letter(pilot, 3)
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and screen.letter_id == ids[3]
        pace = label_text(app, "#queue-pace")
        assert pace == "today 3 · session 3 · 10 min a letter · 0 left · 0 min to go"


# -- conventions -------------------------------------------------------------------------------


async def test_conventions_open_at_the_focused_fields_section_and_escape_closes(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        # The field's own rule at the top where its section has one, else the heading; the
        # last section as high as the end of the document lets it go.
        for path, heading, first_in_view in [
            ("items.0.drugs", "Items", "drugs: lowercase generic"),
            ("reviewer.licensure", "Reviewer", "licensure: state names"),
            ("date_of_injury", "Case header", "Case header"),
            ("diagnosis_codes", "ICD-10-CM codes", None),
        ]:
            await go_to(pilot, screen, path)
            await pilot.press("f4")
            await settle(pilot)
            panel = app.screen
            assert isinstance(panel, ConventionsScreen)
            assert panel.heading is not None and panel.heading.startswith(heading)
            scroll = panel.query_one("#conventions", VerticalScroll)
            assert scroll.scroll_y > 0
            top, bottom = scroll.region.y, scroll.region.bottom
            blocks = [
                b
                for b in panel.query("MarkdownH2, MarkdownParagraph")
                if top <= b.region.y < bottom
            ]
            first = min(blocks, key=lambda b: b.region.y)
            if first_in_view is not None:
                assert str(first.render()).startswith(first_in_view), path
                assert first.region.y < top + 3, path  # a heading's margin above it
            else:
                assert any(str(b.render()).startswith(heading) for b in blocks), path
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen
        # From the queue (no field): the top of the conventions.
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, ConventionsScreen) and app.screen.heading is None
        assert app.screen.query_one("#conventions", VerticalScroll).scroll_y == 0
