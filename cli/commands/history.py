"""`imrgold history LETTER`: every change to a letter's record; `--restore` brings one back."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from imrgold.cli.common import UserError, db_path, existing_store

if TYPE_CHECKING:
    from imrgold.core.models import LetterSummary
    from imrgold.store import Store

NAME = "history"
HELP = "show every change to a letter's record (field, old, new, who, when); restore a point"
EXAMPLES = """examples:
  imrgold history CM16-0237844
  imrgold history CM16-0237844 --restore 3
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "letter",
        metavar="LETTER",
        help="letter id (or its first characters), case number or file name",
    )
    parser.add_argument(
        "--restore",
        metavar="N|TIME",
        default=None,
        help="bring the record back to how it was right after entry N (or at ISO time TIME)",
    )
    parser.add_argument(
        "--annotator",
        metavar="NAME",
        default=None,
        help="whose version to restore (default: whoever made entry N)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object a change")


def run(args: argparse.Namespace) -> int:
    from imrgold.cli.identity import current
    from imrgold.store import Store

    path = existing_store(db_path(args.db))
    me = current()
    with Store.open(path, read_only=args.restore is None, annotator=me) as store:
        summary = resolve(store.summaries(), args.letter)
        if args.restore is not None:
            return _restore(store, summary, args.restore, args.annotator)
        _print(store.history_entries(summary.letter_id), summary, as_json=args.json)
    return 0


def resolve(summaries: Sequence[LetterSummary], query: str) -> LetterSummary:
    """The one letter ``query`` names: id prefix, case number, or file name (with or without
    its extension)."""
    q = query.strip()
    low = q.lower()
    tests = [
        lambda s: s.letter_id == low,
        lambda s: (s.case_number or "").lower() == low,
        lambda s: s.name.lower() == low or s.name.rsplit(".", 1)[0].lower() == low,
        lambda s: len(low) >= 4 and s.letter_id.startswith(low),
        # A unique beginning of a file name: "000" for 000_fa2635f264c99a6e.txt.
        lambda s: len(low) >= 3 and s.name.lower().startswith(low),
    ]
    for test in tests:
        found = [s for s in summaries if test(s)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(f"{s.name} ({s.letter_id[:12]})" for s in found[:4])
            raise UserError(f"{query!r} names {len(found)} letters: {names}; be more specific")
    raise UserError(
        f"no letter {query!r} in the store (give an id prefix, case number or file name)"
    )


def _restore(store: Store, summary: LetterSummary, at: str, annotator: str | None) -> int:
    point: int | str = int(at) if at.lstrip("-").isdigit() else at
    try:
        restored = store.restore(summary.letter_id, point, annotator=annotator)
    except (IndexError, ValueError) as err:
        raise UserError(str(err).splitlines()[0]) from None
    where = f"entry {point}" if isinstance(point, int) else point
    final = restored.track == "final"
    saved_as = "the final record" if final else f"{restored.track}'s draft"
    print(f"restored {summary.name} to {where}; saved as {saved_as}")
    return 0


def _print(entries: list[dict[str, Any]], summary: LetterSummary, *, as_json: bool) -> None:
    if as_json:
        for i, e in enumerate(entries):
            if _no_op(e):
                continue
            keep = ("path", "old", "new", "source", "annotator", "at", "kind")
            print(json.dumps({"index": i, **{k: e.get(k) for k in keep}}, ensure_ascii=False))
        return
    print(
        f"{summary.name}  {summary.case_number or '-'}  {summary.letter_id[:12]}  {summary.status}"
    )
    if not entries:
        print("no changes yet")
        return
    for i, e in enumerate(entries):
        if _no_op(e):
            continue  # its number stays: --restore N counts every entry
        when = e["at"][:19].replace("T", " ")
        who = f"{e.get('annotator') or '-'} ({e.get('source') or '-'})"
        print(f"{i:>4}  {when}  {who:<20} {e['path']}: {_change(e.get('old'), e.get('new'))}")


def _no_op(entry: Mapping[str, object]) -> bool:
    """An entry that changes no value (null -> null, a confirmation of the same value)."""
    return entry.get("old") == entry.get("new")


def _change(old: object, new: object) -> str:
    """A change as one line; list values as the elements removed and added, so a change deep
    in a long list is not cut off."""
    if isinstance(old, list) and isinstance(new, list):
        gone = [v for v in old if v not in new]
        added = [v for v in new if v not in old]
        if gone or added:
            parts = [f"-{_short(v, 40)}" for v in gone] + [f"+{_short(v, 40)}" for v in added]
            return " ".join(parts)
        return f"{_short(old)} reordered"
    return f"{_short(old)} -> {_short(new)}"


def _short(value: object, width: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"
