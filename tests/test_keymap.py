"""Remappable keys: ids on every binding, the keymap file, `imrgold keys`, `?` for help."""

from __future__ import annotations

import json
import re

import pytest
from rich.console import Console

from imrgold.cli.main import main
from imrgold.tui.keymap import key_specs, keymap_path, read_keymap
from imrgold.tui.screens.annotate import AnnotateScreen
from imrgold.tui.screens.comment import CommentScreen
from imrgold.tui.screens.help import HelpScreen, bindings_table
from imrgold.tui.widgets.key_footer import KeyFooter
from tests.test_tui import db, env, make_app, open_letter, settle, store, template_db  # noqa: F401


def test_every_binding_has_its_own_id():
    ids = [spec.id for spec in key_specs()]
    assert ids and all(ids)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_a_keymap_file_names_what_it_cannot_use_and_applies_the_rest(tmp_path):
    path = tmp_path / "keymap.toml"
    path.write_text('[keys]\n"annotate.flag" = "f8"\n"annotate.nope" = "x"\n"app.help" = 3\n')
    keymap, problems = read_keymap(path, {s.id for s in key_specs()})
    assert keymap == {"annotate.flag": "f8"}
    assert len(problems) == 2 and all(str(path) in p for p in problems)
    path.write_text("[keys\n")
    assert read_keymap(path, {"app.help"})[0] == {}
    assert "not read" in read_keymap(path, {"app.help"})[1][0]
    assert read_keymap(tmp_path / "absent.toml", {"app.help"}) == ({}, [])


async def test_a_remapped_key_acts_and_the_footer_and_help_show_it(env, store):
    keymap_path().parent.mkdir(parents=True, exist_ok=True)
    keymap_path().write_text('[keys]\n"annotate.flag" = "f8"\n"annotate.gold_next" = "f9"\n')
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        footer = str(screen.query_one(KeyFooter).render())
        assert re.search(r"f9\s+Gold\+next", footer) and "^g" not in footer
        await pilot.press("ctrl+r")  # the old key does nothing now
        await settle(pilot)
        assert isinstance(app.screen, AnnotateScreen)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, CommentScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=200, record=True)
        console.print(bindings_table(screen))
        flag = next(line for line in console.export_text().splitlines() if " Flag " in line)
        assert flag.split()[0] == "f8"


async def test_question_mark_opens_help_unless_a_text_field_takes_it(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")  # the queue's table has the focus
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        screen = await open_letter(pilot)
        assert screen.focus_field("items.0.request")
        await pilot.press("ctrl+u", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, AnnotateScreen)
        from tests.test_tui import FieldEditor

        assert screen.query_one(FieldEditor).text == "?"


def test_keys_lists_every_id_with_the_keymap_applied(env, capsys):
    keymap_path().parent.mkdir(parents=True, exist_ok=True)
    keymap_path().write_text('[keys]\n"queue.reload" = "f6"\n')
    assert main(["keys", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_id = {r["id"]: r for r in rows}
    assert by_id["queue.reload"]["keys"] == "f6" and by_id["queue.reload"]["remapped"]
    assert by_id["annotate.gold_next"]["keys"] == "ctrl+g"
    keymap_path().write_text('[keys]\n"queue.nope" = "f6"\n')
    assert main(["keys"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "queue.nope" in err


@pytest.mark.parametrize("missing", [True])
def test_keys_with_a_keymap_that_is_not_there_is_one_line(env, capsys, missing, tmp_path):
    assert main(["keys", "--keymap", str(tmp_path / "nope.toml")]) != 0
    assert capsys.readouterr().err.count("\n") == 1
