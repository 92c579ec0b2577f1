"""ICD-10-CM: the code set (from `simple_icd_10_cm`, the CMS tables, no network) and the linking
of a diagnosis as a letter writes it to its code.

Letters write diagnoses in their own words ("lumbar strain", "right carpal tunnel syndrome",
"L/S sprain", "s/p right knee arthroscopy"); the code set's descriptions are long and formal
("Strain of muscle, fascia and tendon of lower back, initial encounter").  Naive fuzzy matching
over the ~74,000 billable descriptions is slow and wrong (it sends "lumbar muscle strain" to a
carnitine deficiency).  Instead:

1. the text is normalized: abbreviations and synonyms of `data/icd10_supplement.json` expanded
   ("L/S" -> lumbar, "CTS" -> carpal tunnel syndrome), laterality and encounter words kept apart;
2. a curated phrase table (the same file, each entry with its source) answers the common
   workers' compensation diagnoses directly, with the side and the encounter applied;
3. otherwise billable descriptions are ranked by weighted word overlap through an inverted
   index (rare words weigh more, every word of the diagnosis must be accounted for), with
   injuries defaulting to the initial encounter (7th character ``A``) and an unwritten side
   to the "unspecified" code.

`link` gives the best code with a confidence; `suggest` the ranked candidates for the editor.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from imrgold.core.files import atomic_write, user_cache_dir

log = logging.getLogger(__name__)

SUPPLEMENT_PATH = Path(__file__).resolve().parent / "data" / "icd10_supplement.json"
CODE_PATTERN = r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$"

_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about which condition it is.
_STOP = frozenset(
    [
        "of",
        "the",
        "and",
        "or",
        "in",
        "with",
        "without",
        "to",
        "at",
        "a",
        "an",
        "for",
        "by",
        "on",
        "as",
        "is",
        "due",
        "other",
        "not",
        "than",
        "unspecified",
        "disorder",
        "disorders",
        "condition",
        "conditions",
        "region",
        "site",
        "part",
    ]
)
_SIDES = {
    "right": "right",
    "rt": "right",
    "left": "left",
    "lt": "left",
    "bilateral": "bilateral",
    "bilat": "bilateral",
    "both": "bilateral",
}
_SIDE_WORDS = frozenset({"right", "left", "bilateral", "unilateral", "unspecified"})
_SIDED = re.compile(r"\b(?:right|left)\b", re.I)
_ENCOUNTER = {"initial": "A", "subsequent": "D", "sequela": "S", "sequelae": "S"}


@dataclass(frozen=True, slots=True)
class Candidate:
    code: str
    description: str
    score: float


@cache
def _codes() -> dict[str, str]:
    """Every billable (leaf) code with its description.

    `simple_icd_10_cm` parses the CMS tables at import (three seconds); the billable codes are
    kept in the user's cache folder as JSON, keyed by the package's version, and read back in a
    few tens of milliseconds.
    """
    from importlib.metadata import version

    cached = user_cache_dir() / f"icd10cm-{version('simple-icd-10-cm')}.json"
    try:
        data = json.loads(cached.read_bytes())
        if isinstance(data, dict) and data and all(isinstance(v, str) for v in data.values()):
            return data
        log.warning("ICD-10-CM cache %s holds no code table; rebuilding", cached)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        log.warning("ICD-10-CM cache %s unreadable (%s); rebuilding", cached, err)
    import simple_icd_10_cm as cm

    codes = {
        code: cm.get_description(code)
        for code in cm.get_all_codes(with_dots=True)
        if cm.is_leaf(code)
    }
    try:
        atomic_write(cached, json.dumps(codes, separators=(",", ":")).encode(), durable=False)
    except OSError as err:
        log.warning("ICD-10-CM cache not written to %s (%s); only speed is lost", cached, err)
    return codes


@cache
def _sorted_codes() -> list[str]:
    return sorted(_codes())


def is_code(code: str) -> bool:
    """A billable ICD-10-CM code of the code set, written with its dot."""
    return code in _codes()


def description(code: str) -> str | None:
    return _codes().get(code)


@cache
def _supplement() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(abbreviation -> expansion, [(phrase, code)]) from the curated supplement."""
    data = json.loads(SUPPLEMENT_PATH.read_text(encoding="utf-8"))
    abbreviations = {k.lower(): v["expansion"].lower() for k, v in data["abbreviations"].items()}
    phrases = [(p["phrase"].lower(), p["code"]) for p in data["phrases"]]
    return abbreviations, phrases


# A spinal level names its region: "at L4-L5" is lumbar, "C5-C6" cervical.
_LEVELS = (
    (re.compile(r"\bL\d(?:\s*-\s*(?:L\d|S1))?\b|\bL5\s*-\s*S1\b", re.I), "lumbar"),
    (re.compile(r"\bC\d(?:\s*-\s*C\d)?\b", re.I), "cervical"),
    (re.compile(r"\bT\d{1,2}(?:\s*-\s*T\d{1,2})?\b", re.I), "thoracic"),
)


def _normalize(text: str) -> str:
    abbreviations, _ = _supplement()
    for pattern, region in _LEVELS:
        if pattern.search(text) and region not in text.lower():
            text = f"{region} {pattern.sub(' ', text)}"
    lowered = _abbreviation_pattern().sub(lambda m: abbreviations[m.group()], text.lower())
    return " ".join(lowered.split())


@cache
def _abbreviation_pattern() -> re.Pattern[str]:
    """Every abbreviation of the supplement as a whole word, longest first, in one pattern."""
    abbreviations, _ = _supplement()
    alternatives = "|".join(re.escape(a) for a in sorted(abbreviations, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9/])(?:{alternatives})(?![a-z0-9/])")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def normalize_words(text: str) -> list[str]:
    """The content words of a diagnosis as the linker reads it: lower case, abbreviations and
    spinal levels spelled out, filler and side words dropped."""
    return [
        w
        for w in _words(_normalize(text))
        if w not in _STOP and w not in _SIDE_WORDS and w not in _ENCOUNTER
    ]


def _stem(word: str) -> str:
    """A plural's singular, crudely but alike for query and descriptions ("headaches",
    "injuries", "limbs")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@cache
def _index() -> tuple[dict[str, list[str]], dict[str, float], dict[str, float]]:
    """Inverted index over the billable descriptions: word -> codes, word -> weight (rare words
    weigh more), and each code's total word weight."""
    postings: dict[str, list[str]] = defaultdict(list)
    code_words: dict[str, frozenset[str]] = {}
    # ~600,000 words over ~15,000 distinct ones: each is stemmed once.
    stem_of: dict[str, str] = {}
    for code, desc in _codes().items():
        words = set()
        for word in _WORD.findall(desc.lower()):
            stem = stem_of.get(word)
            if stem is None:
                stem = stem_of[word] = "" if word in _STOP else _stem(word)
            if stem:
                words.add(stem)
        code_words[code] = frozenset(words)
        for word in words:
            postings[word].append(code)
    n = len(code_words)
    weight = {w: math.log(n / len(codes)) + 1.0 for w, codes in postings.items()}
    totals = {code: sum(weight[w] for w in words) for code, words in code_words.items()}
    return dict(postings), weight, totals


def _side_and_encounter(words: list[str]) -> tuple[str | None, str]:
    side = next((_SIDES[w] for w in words if w in _SIDES), None)
    encounter = next((_ENCOUNTER[w] for w in words if w in _ENCOUNTER), "A")
    return side, encounter


def _with_encounter(code: str, encounter: str) -> str:
    """An injury code with the encounter as written (the phrase table keeps ``A``)."""
    if code[0] in "ST" and len(code) == 8 and code[-1] == "A" and encounter != "A":
        other = code[:-1] + encounter
        return other if is_code(other) else code
    return code


def _side_of(code: str) -> str | None:
    """ "right" or "left" when the code's description names that side, else None."""
    sides = _sides()
    return sides.get(code)


@cache
def _sides() -> dict[str, str]:
    out = {}
    for code, desc in _codes().items():
        found = _SIDED.search(desc)
        if found:
            out[code] = found.group().lower()
    return out


@lru_cache(maxsize=65536)
def _sideless(desc: str) -> str:
    """A description's content words but its side: "Pain in right arm" ~ "Pain in arm,
    unspecified", "bilateral upper limbs" ~ "right upper limb"."""
    return " ".join(
        _stem(w) for w in _words(desc.lower()) if w not in _STOP and w not in _SIDE_WORDS
    )


def _sided(code: str, side: str | None) -> str:
    """The same condition on the side the text names: a sibling code in the same category
    whose description differs only by that side."""
    if side is None:
        return code
    desc = description(code) or ""
    if side in desc.lower():
        return code
    target = _sideless(desc)
    for sibling, sibling_desc in _siblings(code[:4]):
        if sibling[0] in "ST" and sibling[-1] != code[-1]:
            continue
        lowered = sibling_desc.lower()
        named = (
            "bilateral" in lowered
            if side == "bilateral"
            else (re.search(rf"\b{side}\b", lowered) is not None and "bilateral" not in lowered)
        )
        if named and _sideless(sibling_desc) == target:
            return sibling
    return code


@lru_cache(maxsize=4096)
def _siblings(stem: str) -> tuple[tuple[str, str], ...]:
    """The billable codes under ``stem``, found by bisection in the sorted codes."""
    codes, found = _sorted_codes(), []
    for code in codes[bisect.bisect_left(codes, stem) :]:
        if not code.startswith(stem):
            break
        found.append((code, _codes()[code]))
    return tuple(found)


def _content(text: str) -> str:
    """The words that name the condition, in order and without plurals: "contusion to the
    head" and "contusion of head" read alike, so do "headache" and "headaches"."""
    return " ".join(_stem(w) for w in _words(text) if w not in _STOP and w != "from")


@cache
def _phrases() -> tuple[tuple[str, str], ...]:
    """The supplement's phrases as content words, longest first."""
    _, phrases = _supplement()
    return tuple(sorted(((_content(p), c) for p, c in phrases), key=lambda pc: -len(pc[0])))


def _phrase_code(normalized: str) -> tuple[str, int] | None:
    """The curated code of the longest phrase of the supplement the text contains, with the
    number of the text's content words that phrase leaves unexplained."""
    content = f" {_content(normalized)} "
    for phrase, code in _phrases():
        if f" {phrase} " in content:
            rest = set(content.split()) - set(phrase.split()) - set(_SIDES) - set(_ENCOUNTER)
            return code, len(rest - {"encounter"})
    return None


def suggest(text: str, limit: int = 10) -> list[Candidate]:
    """Billable codes for a diagnosis as written, best first, scored 0-100."""
    normalized = _normalize(text)
    words = _words(normalized)
    side, encounter = _side_and_encounter(words)
    out: dict[str, float] = {}
    phrase = _phrase_code(normalized)
    if phrase is not None:
        code = _sided(_with_encounter(phrase[0], encounter), side)
        if is_code(code):
            out[code] = 100.0 - 10.0 * phrase[1]
    postings, weight, totals = _index()
    # The side is applied to the best codes afterwards; as a word it only blurs the ranking.
    query = {_stem(w) for w in words if w not in _STOP and w not in _ENCOUNTER and w not in _SIDES}
    known = sorted((w for w in query if w in postings), key=lambda w: -weight[w])
    query_weight = sum(weight.get(w, 0.0) for w in query) or 1.0
    scores: dict[str, float] = defaultdict(float)
    # Only codes holding one of the two rarest words are candidates: the common words ("pain",
    # "strain") then only add to their scores, instead of touching thousands of codes.
    for code in {c for w in known[:2] for c in postings[w]}:
        scores[code] = 0.0
    for word in known:
        for code in postings[word]:
            if code in scores:
                scores[code] += weight[word]
    ranked = []
    for code, hit in scores.items():
        extra = totals[code] - hit
        # What the query says that the code explains, less what the code adds unasked; injuries
        # prefer the encounter as written (initial by default).
        fit = hit / query_weight - 0.15 * extra / query_weight
        if code[0] in "ST" and len(code) == 8 and code[-1] != encounter:
            fit -= 0.5
        if hit < query_weight - 1e-9:
            fit = min(fit, 0.85)  # a word of the diagnosis the code does not explain
        sided = _side_of(code)
        if side is None and sided:
            fit -= 0.1  # a side the letter did not write
        elif side in ("right", "left") and sided and sided != side:
            fit -= 0.3  # the other side
        ranked.append((fit, code))
    ranked.sort(key=lambda t: (-t[0], len(t[1]), t[1]))
    for fit, code in ranked[: limit * 3]:
        out.setdefault(_sided(code, side), round(max(0.0, min(99.0, 100.0 * fit)), 1))
    best = sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Candidate(code, description(code) or "", score) for code, score in best]


LINK_THRESHOLD = 70.0
"""Below this score `link` proposes no code: a wrong code is worse than none."""


def link(text: str) -> tuple[str | None, float]:
    """(code or None, confidence) for one diagnosis as written."""
    found = suggest(text, limit=2)
    if not found or found[0].score < LINK_THRESHOLD:
        return None, 0.5
    margin = found[0].score - (found[1].score if len(found) > 1 else 0.0)
    confidence = 0.9 if found[0].score >= 95 else 0.75 if margin >= 10 else 0.6
    return found[0].code, confidence
