"""The interface's Protocols (`tui/seams.py`) fit the real store and lexicon, and the stand-ins
the interface tests use, parameter by parameter.

The type checker holds the real classes to them too (`tui.seams._conforms`); this is the same
check at run time, where a decorator that hides a signature from the checker (the store's
serialising wrapper) cannot hide it.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from imrgold.core.lexicon import Lexicon
from imrgold.store import Store
from imrgold.tui.seams import LexiconLike, StoreLike
from tests.store_helpers import isolate
from tests.test_tui import FakeLexicon
from tests.test_tui_snapshots import NoLexicon


def _members(protocol: type) -> list[str]:
    return sorted(n for n in vars(protocol) if not n.startswith("_") and n in dir(protocol))


def _misfits(protocol: type, cls: type) -> list[str]:
    """What of ``protocol`` ``cls`` lacks or takes differently: a call the interface writes
    against the Protocol (positional parameters by position, the others by name) must bind."""
    wrong = []
    for name in _members(protocol):
        wanted = inspect.getattr_static(protocol, name)
        if isinstance(wanted, property):
            continue  # an attribute: checked on an instance
        real = getattr(cls, name, None)
        if not callable(real):
            wrong.append(f"{name}: missing")
            continue
        want = list(inspect.signature(wanted).parameters.values())[1:]
        have = list(inspect.signature(real).parameters.values())[1:]
        for i, param in enumerate(want):
            by_name = {p.name: p for p in have}
            if param.kind is param.POSITIONAL_OR_KEYWORD:
                if i >= len(have) or have[i].name != param.name or have[i].kind != param.kind:
                    wrong.append(f"{name}: parameter {i + 1} is not {param.name}")
            elif param.name not in by_name:
                wrong.append(f"{name}: no parameter {param.name}")
            if param.default is not param.empty:
                found = by_name.get(param.name)
                if found is not None and found.default is found.empty:
                    wrong.append(f"{name}: {param.name} has no default")
        named = {p.name for p in want}
        for extra in have:
            if (
                extra.name not in named
                and extra.default is extra.empty
                and extra.kind
                not in (
                    extra.VAR_POSITIONAL,
                    extra.VAR_KEYWORD,
                )
            ):
                wrong.append(f"{name}: {extra.name} must be given")
    return wrong


@pytest.mark.parametrize(
    ("protocol", "cls"),
    [
        (StoreLike, Store),
        (LexiconLike, Lexicon),
        (LexiconLike, FakeLexicon),
        (LexiconLike, NoLexicon),
    ],
    ids=["store", "lexicon", "test-lexicon", "snapshot-lexicon"],
)
def test_the_real_classes_and_the_stand_ins_fit_the_protocols(protocol: type, cls: type) -> None:
    assert _members(protocol), "a Protocol with no members fits anything"
    assert _misfits(protocol, cls) == []


def test_an_open_store_is_a_store_like(tmp_path, monkeypatch) -> None:
    isolate(monkeypatch, tmp_path)
    with Store.open(tmp_path / "db" / "imrgold.json", annotator="ana") as store:
        assert isinstance(store, StoreLike)
        assert store.read_only is False
    with Store.open(tmp_path / "db" / "imrgold.json", read_only=True) as store:
        assert isinstance(store, StoreLike)
        assert store.read_only is True


def test_the_stand_in_lexicons_are_lexicon_like() -> None:
    assert isinstance(FakeLexicon(), LexiconLike)
    assert isinstance(NoLexicon(), LexiconLike)


class _Drifted:
    """A lexicon whose `suggest` lost its letter: what the check must catch."""

    def suggest(self, query: str, limit: int = 10) -> list[Any]:
        return []

    def read_drugs(self, text: str) -> tuple[list[str], list[str]]:
        return [], []

    def learn(self, alias: str, name: str, when: str) -> None:
        pass


def test_a_class_that_drifted_from_the_protocol_is_named() -> None:
    assert _misfits(LexiconLike, _Drifted) == [
        "learn: when must be given",
        "learn_from_items: missing",
        "suggest: parameter 2 is not letter_text",
        "suggest: parameter 3 is not limit",
    ]
    assert not isinstance(_Drifted(), LexiconLike)
