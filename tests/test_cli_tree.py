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
