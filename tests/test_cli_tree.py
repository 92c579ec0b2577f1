"""The command line answers every question a user asks it: the whole command tree, discovered."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from imrgold.cli.main import build_parser, main


def _tree(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _tree(child, (*path, name))


TREE = list(_tree(build_parser()))


def test_the_tree_is_discovered_not_listed():
    paths = {" ".join(p) for p, _ in TREE}
    assert {"ingest", "export", "drugs suggest", "drugs add", "diagnoses suggest"} <= paths
    assert len(TREE) >= 20


@pytest.mark.parametrize(("path", "parser"), TREE, ids=[" ".join(p) or "imrgold" for p, _ in TREE])
def test_every_help_has_a_description_and_an_example(path, parser, capsys):
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err == ""
    assert parser.description and parser.description in " ".join(out.split())
    examples = [line for line in out.splitlines() if line.startswith("  imrgold")]
    assert examples, out


@pytest.mark.parametrize(("path", "parser"), TREE, ids=[" ".join(p) or "imrgold" for p, _ in TREE])
def test_db_is_accepted_at_every_level(path, parser):
    assert any("--db" in action.option_strings for action in parser._actions)


@pytest.mark.parametrize(
    "argv",
    [
        ["drugs", "suggest", "norco", "--db", "{db}"],
        ["drugs", "--db", "{db}", "suggest", "norco"],
        ["--db", "{db}", "drugs", "suggest", "norco"],
        ["--db", "{db}", "export", "--out", "x.jsonl"],
        ["export", "--out", "x.jsonl", "--db", "{db}"],
    ],
)
def test_db_before_or_after_the_subcommand_means_the_same(argv, tmp_path):
    db = str(tmp_path / "store.json")
    args = build_parser().parse_args([a.format(db=db) for a in argv])
    assert args.db == db


def test_imrgold_alone_lists_the_commands_and_where_to_start(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for path, _ in TREE:
        if len(path) == 1:
            assert re.search(rf"^  {path[0]}\s+\S", out, re.M), path
    assert "imrgold annotate" in out and "imrgold ingest" in out


# Message templates read as English: no doubled article, no article before a name's possessive.
_BAD_ENGLISH = re.compile(r"\b(the|a|an) (the|a|an)\b|\bthe \{[^}]*\}'s\b", re.I)


def test_user_facing_messages_read_as_english():
    root = Path(__file__).resolve().parent.parent
    found = []
    for part in ("cli", "core", "store", "tui"):
        for path in (root / part).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                strings = re.findall(r"""f?"[^"]*"|f?'[^']*'""", line)
                found += [f"{path.name}:{number}: {s}" for s in strings if _BAD_ENGLISH.search(s)]
    assert found == []
    assert _BAD_ENGLISH.search("saved as the {kind}'s draft")
    assert _BAD_ENGLISH.search("a the letter")


def test_merge_and_review_that_select_nothing_say_so(tmp_path, capsys, monkeypatch):
    from imrgold.store import Store

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    ours, empty = tmp_path / "ours.json", tmp_path / "empty.json"
    Store.open(empty, annotator="bob").close()
    Store.open(ours, annotator="ana").close()
    argv = ["merge", str(empty), "--db", str(ours), "--annotator", "ana"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "nothing to merge" in err and str(empty) in err
    assert main([*argv, "--allow-empty"]) == 0
    capsys.readouterr()
    review = ["review", "--db", str(ours), "--annotator", "ana"]
    assert main(review) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "nothing for ana to review or adjudicate" in err
    assert main([*review, "--allow-empty"]) == 0


@pytest.mark.parametrize(
    ("argv", "dest", "value"),
    [
        (["--annotator", "ana", "annotate"], "annotator", "ana"),
        (["annotate", "--annotator", "ana"], "annotator", "ana"),
        (["--read-only", "annotate"], "read_only", True),
        (["annotate", "--read-only"], "read_only", True),
        (["annotate"], "read_only", False),
        (["--annotator", "ana", "merge", "other.json"], "annotator", "ana"),
    ],
)
def test_annotator_and_read_only_before_or_after_where_they_apply(argv, dest, value):
    import imrgold.cli.main as cli_main

    seen = {}
    parser = build_parser()
    for child, _ in cli_main._subparsers(parser):
        child.set_defaults(_run=lambda args: seen.update(vars(args)) or 0)
    monkey = cli_main.build_parser
    cli_main.build_parser = lambda: parser
    try:
        assert main(argv) == 0
    finally:
        cli_main.build_parser = monkey
    assert seen[dest] == value


def test_an_option_before_a_command_it_does_not_apply_to_is_refused(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--read-only", "ingest", "x.txt"])
    assert done.value.code == 2
    assert "--read-only does not apply to ingest" in capsys.readouterr().err
