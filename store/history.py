"""Field-level history: what changed between two versions of a record, and undoing it.

Values are compared as the flat field paths of `core.models`, so a change names exactly the field
an annotator touched.  A change to a path the old version lacked is marked ``added`` and one to a
path the new version lacks ``removed`` (items come and go), so history can be undone exactly by
walking it backwards from the current state.
"""

from __future__ import annotations

from typing import Any

from imrgold.core.models import GoldRecord, Proposal, ProposedField, flatten


def proposal_values(proposal: Proposal | None) -> dict[str, Any]:
    if proposal is None:
        return {}
    return {p: proposal.get(p).value for p in proposal.paths()}


def record_values(record: GoldRecord | None) -> dict[str, Any]:
    return {} if record is None else flatten(record)


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{path, old, new, added?, removed?}]`` in the new version's order, then removed paths."""
    changes: list[dict[str, Any]] = []
    for path, value in new.items():
        if path not in old:
            changes.append({"path": path, "old": None, "new": value, "added": True})
        elif old[path] != value:
            changes.append({"path": path, "old": old[path], "new": value})
    for path, value in old.items():
        if path not in new:
            changes.append({"path": path, "old": value, "new": None, "removed": True})
    return changes


def undo(values: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, Any]:
    """The values before ``changes`` (oldest first) were applied to reach ``values``."""
    out = dict(values)
    for change in reversed(changes):
        if change.get("added"):
            out.pop(change["path"], None)
        else:
            out[change["path"]] = change["old"]
    return out


def with_values(base: Proposal | None, letter_id: str, values: dict[str, Any]) -> Proposal:
    """A proposal holding ``values``; fields whose value is unchanged keep ``base``'s provenance."""
    fields: dict[str, ProposedField] = {}
    for path, value in values.items():
        kept = base.fields.get(path) if base is not None else None
        if kept is not None and kept.value == value:
            fields[path] = kept
        else:
            fields[path] = ProposedField(
                value=value, source="human", confidence=1.0, confirmed=True
            )
    return Proposal(letter_id=letter_id, fields=fields)
