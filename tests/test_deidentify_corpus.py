"""A seeded-identifier corpus built from the real letters: every identifier a party's copy of a
letter carries is removed (recall 100% per kind) and the clinical content stays.

Each real letter gets a header as the letters sent to the parties have one, and mentions of the
same identifiers in its clinical case summary, in the spellings letters use.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from imrgold.core.deidentify import Deidentifier
from imrgold.core.models import GoldRecord

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PEOPLE = [
    ("Maria", "Gonzalvez", "Orlinda Packaging LLC", "Kessler Claims Services", "Harlan", "Pryce"),
    ("Dwayne", "Ostrowski", "Bayview Logistics Inc", "Sentinel Comp Group", "Elena", "Vukovich"),
    ("Priya", "Ramaswell", "Golden Harvest Foods", "Redwood Adjusting", "Tobias", "Lindqvist"),
    ("Jerome", "Achterberg", "Pacific Rim Freight", "Cornerstone TPA", "Ines", "Marchetti"),
    ("Svetlana", "Korolenko", "Sunridge Hospitality", "Allied Risk Partners", "Omar", "Haddadin"),
]


def _seeded(i: int, text: str, case_number: str) -> tuple[str, dict[str, list[str]]]:
    first, last, employer, administrator, doc_first, doc_last = PEOPLE[i]
    number = case_number.split("-")[1] if case_number and "-" in case_number else "0237844"
    seeds = {
        "name": [f"{first} {last}", last, employer, administrator, f"{doc_first} {doc_last}",
                 doc_last],
        "address": [f"{1200 + i * 7} Mariposa Canyon Road, Suite 4B"],
        "city": ["Rancho Cordova"],
        "zip": [f"9567{i}"],
        "phone": [f"(916) 555-01{i}2", f"916.555.88{i}1", f"1-800-555-23{i}4"],
        "email": [f"{first.lower()}.{last.lower()}@example-mail.com"],
        "url": ["https://portal.example-claims.com/case/88123"],
        "ip": [f"192.168.{i}.44"],
        "ssn": [f"52{i}-44-1937", f"52{i}441937"],
        "id": [f"MRN-0099{i}21", f"WC-55{i}9-7781", f"POL88{i}310", f"ADJ{1070700 + i}"],
        "case number": [f"CM{case_number[2:4]} {number}", f"CM{case_number[2:4]}{number}"],
        "date": [f"3-{4 + i}-2016", f"03.{10 + i}.2016", f"2016/03/{14 + i:02d}", "03/2016",
                 f"0{1 + i}-1{i}-16"],
        "old age": ["ninety-three-year-old", "93 y/o"],
        "birth date": ["02/11/1923"],
    }  # fmt: skip
    header = (
        f"Employee: {first} {last}\n"
        f"Employer: {employer}\n"
        f"Claims Administrator: {administrator}\n"
        f"Claim #: {seeds['id'][1]}   Policy No.: {seeds['id'][2]}\n"
        f"WCAB Case: {seeds['id'][3]}   MRN: {seeds['id'][0]}\n"
        f"Address: {seeds['address'][0]}, Rancho Cordova, CA {seeds['zip'][0]}\n"
        f"Phone: {seeds['phone'][0]}  Fax: {seeds['phone'][1]}  Toll free: {seeds['phone'][2]}\n"
        f"E-mail: {seeds['email'][0]}  Portal: {seeds['url'][0]} (from {seeds['ip'][0]})\n"
        f"SSN: {seeds['ssn'][0]}  DOB: {seeds['birth date'][0]}\n"
        f"Re: {seeds['case number'][0]} (also filed as {seeds['case number'][1]})\n\n"
    )
    mention = (
        f" Mr. {last} was seen by Dr. {doc_last} on {seeds['date'][0]} and again on "
        f"{seeds['date'][1]}, {seeds['date'][2]} and in {seeds['date'][3]} ({seeds['date'][4]}). "
        f"{first} {last} is described as a {seeds['old age'][0]} worker elsewhere a "
        f"{seeds['old age'][1]}; social security number {seeds['ssn'][1]}. {employer} and "
        f"{administrator} were notified. "
    )
    at = text.find("CLINICAL CASE SUMMARY")
    at = text.find("\n", text.find("\n", at) + 1) + 1 if at >= 0 else 0
    return header + text[:at] + mention + text[at:], seeds


def _cases():
    out = []
    for i, letter in enumerate(sorted((FIXTURES / "letters").glob("CM1*.txt"))[:5]):
        gold = GoldRecord.model_validate_json(
            (FIXTURES / "gold" / f"{letter.stem}.json").read_text(encoding="utf-8")
        )
        text, seeds = _seeded(i, letter.read_text(encoding="utf-8"), gold.case_number or "")
        out.append((letter.stem, text, seeds, gold))
    return out


CASES = _cases()


def test_every_seeded_identifier_is_removed_recall_100_percent_per_kind():
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missed = []
    for stem, text, seeds, gold in CASES:
        deid = Deidentifier("corpus-key")
        out, _ = deid.free_text(text, gold.letter_id, 2017)
        for kind, values in seeds.items():
            for value in values:
                found[kind][1] += 1
                # As a whole value: "12/03/2016" (a shifted date) does not hold "03/2016".
                if re.search(rf"(?<![\w/.-]){re.escape(value)}(?![\w/-])", out):
                    missed.append((stem, kind, value))
                else:
                    found[kind][0] += 1
    recall = {kind: hit / total for kind, (hit, total) in found.items()}
    assert missed == [], json.dumps(recall)
    assert all(r == 1.0 for r in recall.values())


@pytest.mark.parametrize(("stem", "text", "seeds", "gold"), CASES, ids=[c[0] for c in CASES])
def test_the_clinical_content_stays(stem, text, seeds, gold):
    out, _ = Deidentifier("corpus-key").free_text(text, gold.letter_id, 2017)
    for item in gold.items:
        for drug_word in item.request.split()[:3]:
            if drug_word[0].isalpha() and len(drug_word) > 3:
                assert drug_word in out, (stem, drug_word)
        assert ("Upheld" in out) == (item.decision == "upheld" or "Upheld" in text)
    for diagnosis in gold.diagnoses:
        assert diagnosis.text.split()[0] in out, (stem, diagnosis.text)
    assert "Decision rationale" in out and "MAXIMUS" in out


def test_a_record_with_its_letter_loses_the_names_its_header_labels():
    _, text, seeds, gold = CASES[0]
    last = seeds["name"][1]
    record = gold.model_copy(
        update={
            "items": [
                gold.items[0].model_copy(update={"rationale": f"Mr. {last}'s pain. {last} had PT."})
            ]
        }
    )
    out = Deidentifier("corpus-key").record(record, text)
    assert last not in out.items[0].rationale and "[NAME]" in out.items[0].rationale
