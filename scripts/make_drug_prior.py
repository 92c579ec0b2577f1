"""Write `core/data/drug_prior.json`: how many real IMR letters name each drug of the lexicon.

The suggestion list breaks near-ties by it (`Lexicon.suggest`): "norko" is nearer to the
temazepam brand "Norkotral" by spelling, but workers' compensation letters name Norco.  Counts
are letters (not mentions), over the published letters in `../shared/letters-pdf` (and any text
copies in `../shared/letters` not already counted), read as `imrgold ingest` reads them, with
names found as the extractor finds them (`Lexicon._spelled_names`).

Usage: python scripts/make_drug_prior.py [SHARED_DIR]
"""

from __future__ import annotations

import collections
import json
import re
import sys
from pathlib import Path

from imrgold.core.lexicon import PRIOR_PATH, default_lexicon
from imrgold.core.reading import read_letter

CASE_NUMBER = re.compile(r"\bCM\d{2}-\d{7}\b")


def main() -> None:
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[2] / "shared")
    lexicon = default_lexicon()
    counts: collections.Counter[str] = collections.Counter()
    seen: set[str] = set()
    paths = sorted((shared / "letters-pdf").rglob("*.pdf")) + sorted((shared / "letters").glob("*"))
    for path in paths:
        letter = read_letter(path)
        # A text copy of a published PDF is the same letter (same case number): counted once.
        case = CASE_NUMBER.search(letter.text)
        key = case.group().replace(" ", "") if case else letter.letter_id
        if key in seen:
            continue
        seen.add(key)
        counts.update({lexicon.name_of(e) for e in lexicon.spelled_entries(letter.text)})
    data = {
        "about": "How many real IMR letters name each drug of the lexicon; the suggestion list "
        "breaks near-ties by it (core/lexicon.py). Written by scripts/make_drug_prior.py.",
        "letters": len(seen),
        "source": "California DWC IMR final determination letters as published (MAXIMUS "
        "Federal Services), the copies in the project's shared folder",
        "counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
    PRIOR_PATH.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(counts)} names over {len(seen)} letters -> {PRIOR_PATH}")


if __name__ == "__main__":
    main()
