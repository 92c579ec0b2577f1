"""Write `core/data/calibration.json`: the extractor's rule strengths calibrated on real letters.

Fitted (`core.calibration.fit`) on every real letter the repository holds gold for, each read as
`imrgold` reads it, at the rules' own strengths (`extract(..., calibrated=False)`):

- `fixtures/letters/` (text copies) with `fixtures/gold/`;
- `fixtures/pdf/` (the published PDFs, which is how letters are read in use) with the gold of
  the same letter in `fixtures/gold/` or `fixtures/pdf/gold/`; a rationale is not scored against
  gold written from the text copy (pdftotext drops a line-end hyphen that the PDF keeps, so the
  two differ where the machine is right: tests/test_pdf_letters.py);
- `fixtures/holdout/letters/` with `fixtures/holdout/gold/`.

The synthetic letters are left out: they are not letters as the state writes them.  Prints the
figures `imrgold eval` prints, cross-validated by letter (a text copy and the PDF of one case
are one letter).

Usage: python scripts/make_calibration.py [--check]   (--check: exit 1 if the file differs)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from imrgold.core.calibration import DATA_PATH, fit
from imrgold.core.evaluate import Sample, evaluate, flagging, held_out
from imrgold.core.extract import extract
from imrgold.core.models import GoldRecord
from imrgold.core.reading import read_letter

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _gold(folder: Path) -> dict[str, GoldRecord]:
    return {
        p.stem: GoldRecord.model_validate_json(p.read_text(encoding="utf-8"))
        for p in sorted(folder.glob("*.json"))
    }


def corpus(fixtures: Path = FIXTURES) -> tuple[list[Sample], dict[str, str]]:
    """Every field of the real letters with gold scored at the rules' own strengths, and each
    letter id's letter (its file's stem: the PDF and the text copy of one case share it)."""
    text_gold = _gold(fixtures / "gold")
    no_rationale = frozenset({"items.rationale"})
    sets = [
        (text_gold, fixtures / "letters", "*.txt", frozenset()),
        (text_gold, fixtures / "pdf", "*.pdf", no_rationale),
        (_gold(fixtures / "pdf" / "gold"), fixtures / "pdf", "*.pdf", frozenset()),
        (
            _gold(fixtures / "holdout" / "gold"),
            fixtures / "holdout" / "letters",
            "*.txt",
            frozenset(),
        ),
    ]
    samples: list[Sample] = []
    group_of: dict[str, str] = {}
    for gold, folder, pattern, skip in sets:
        pairs = []
        for path in sorted(folder.glob(pattern)):
            record = gold.get(path.stem)
            if record is None:
                continue
            letter = read_letter(path, check=False)
            # Scored under the letter's own id: the text copy's gold serves its PDF too.
            record = record.model_copy(update={"letter_id": letter.letter_id})
            pairs.append((record, extract(letter.text, letter.letter_id, calibrated=False)))
            group_of[letter.letter_id] = path.stem
        samples.extend(evaluate(pairs, skip=skip).samples)
    return samples, group_of


def build(fixtures: Path = FIXTURES) -> tuple[dict[str, object], list[Sample], dict[str, str]]:
    samples, group_of = corpus(fixtures)
    calibration = fit((s.key, s.confidence, s.right) for s in samples)
    data = {
        "about": "The extractor's rule strengths mapped to how often fields proposed with them "
        "were right on real letters with gold (core/calibration.py). Written by "
        "scripts/make_calibration.py.",
        "letters": len(set(group_of.values())),
        "scored": len(samples),
        **calibration.to_dict(),
    }
    return data, samples, group_of


def render(data: dict[str, object]) -> str:
    """JSON with each curve on one line (a diff of a refit reads field by field)."""
    lines = [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in data.items() if k != "fields"]
    fields = data["fields"]
    assert isinstance(fields, dict)
    body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in fields.items())
    return "{\n" + "\n".join(lines) + '\n "fields": {\n' + body + "\n }\n}\n"


def main() -> int:
    data, samples, group_of = build()
    text = render(data)
    if "--check" in sys.argv[1:]:
        same = DATA_PATH.is_file() and DATA_PATH.read_text(encoding="utf-8") == text
        print(f"{DATA_PATH}: {'up to date' if same else 'differs from a fresh fit'}")
        return 0 if same else 1
    DATA_PATH.write_text(text, encoding="utf-8")
    cv = held_out(samples, group_of)

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f}%"

    print(
        f"{data['scored']} fields of {data['letters']} letters -> {DATA_PATH}\n"
        f"rule strengths: ECE {pct(flagging(samples).ece)}\n"
        f"held out ({cv.folds} folds): ECE {pct(cv.ece)}, flagged {pct(cv.flag_share)} of "
        f"fields, holding {pct(cv.flag_recall)} of the machine's errors "
        f"({cv.errors_flagged} of {cv.errors})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
