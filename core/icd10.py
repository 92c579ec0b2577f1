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

import heapq
import itertools
import json
import logging
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import orjson

from imrgold.core.files import atomic_write, user_cache_dir

log = logging.getLogger(__name__)

SUPPLEMENT_PATH = Path(__file__).resolve().parent / "data" / "icd10_supplement.json"

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
        # "not elsewhere classified": the code set's boilerplate, not a condition.
        "elsewhere",
        "classified",
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


CACHE_FORMAT = 8
"""Bump when `_Table`'s cached shape or what it is built from (`_STOP`, `_stem`) changes: an
older cache is rebuilt, not misread."""


@dataclass(frozen=True, slots=True, eq=False)
class _Table:
    """The billable codes and the inverted index over their descriptions, by code number.

    ``postings``: word stem -> numbers of the codes whose description holds it; ``totals``: each
    code's summed word weight; ``sides``: one character a code, ``R``/``L`` when its description
    names that side, else ``-``; ``groups``: each code's group of codes under the same four
    characters that read alike but for the side (an injury's with the same encounter);
    ``sided``: each group's first code naming the right, left and both sides (-1: none), what
    `_sided` looks up.
    """

    codes: list[str]
    descriptions: list[str]
    postings: dict[str, list[int]]
    totals: list[float]
    sides: str
    groups: list[int]
    sided: list[list[int]]
    weight: dict[str, float]
    """Not cached: rare words weigh more (inverse document frequency), from ``postings``."""
    number: dict[str, int]
    """Not cached: code -> its number."""

    CACHED = ("codes", "descriptions", "postings", "totals", "sides", "groups", "sided")


def _weights(n: int, postings: dict[str, list[int]]) -> dict[str, float]:
    return {w: math.log(n / len(ids)) + 1.0 for w, ids in postings.items()}


def _build(codes: dict[str, str]) -> _Table:
    """The table from the code set; ~0.5 s, so its result is cached (`_table`)."""
    names, descriptions = list(codes), list(codes.values())
    postings: dict[str, list[int]] = defaultdict(list)
    code_words: list[frozenset[str]] = []
    # ~600,000 words over ~15,000 distinct ones: each is stemmed once.
    stem_of: dict[str, str] = {}
    for number, desc in enumerate(descriptions):
        words = set()
        for word in _WORD.findall(_fold_prefixes(_stated(desc.lower()))):
            stem = stem_of.get(word)
            if stem is None:
                stem = stem_of[word] = "" if word in _STOP else _stem(word)
            if stem:
                words.add(stem)
        code_words.append(frozenset(words))
        for word in words:
            postings[word].append(number)
    weight = _weights(len(names), postings)
    # Rounded: the cache is read at every start, and six decimals decide no ranking.
    totals = [round(sum(weight[w] for w in words), 6) for words in code_words]
    sides = "".join(
        found.group()[0].upper() if (found := _SIDED.search(d)) else "-" for d in descriptions
    )
    groups, sided = _side_groups(names, descriptions)
    return _Table(
        names, descriptions, dict(postings), totals, sides, groups, sided, weight, _numbers(names)
    )


def _stated(lowered: str) -> str:
    """What a description says its code is: a closing "without mention of X" is the default
    variant's mark, not X ("Other intervertebral disc degeneration, lumbar region without mention
    of lumbar back pain or lower extremity pain" is plain lumbar disc degeneration, M51.369)."""
    return lowered.partition("without mention of")[0]


def _numbers(codes: list[str]) -> dict[str, int]:
    """Code -> its number in the table."""
    return dict(zip(codes, range(len(codes)), strict=True))


_SIDE_SLOT = {"right": 0, "left": 1, "bilateral": 2}
_OTHER_COST = 0.04
"""What an "other ..." code costs when the diagnosis does not say "other": enough to put the
unspecified code first on a near-tie ("sleep disorder": G47.9, not G47.8)."""


def _side_groups(codes: list[str], descriptions: list[str]) -> tuple[list[int], list[list[int]]]:
    """`_Table.groups` and `_Table.sided`, in code order so each side's first code wins."""
    group_of: dict[tuple[str, str, str], int] = {}
    groups, sided = [-1] * len(codes), list[list[int]]()
    for number in sorted(range(len(codes)), key=codes.__getitem__):
        code, desc = codes[number], descriptions[number]
        key = (code[:4], _sideless(desc), code[-1] if code[0] in "ST" else "")
        group = groups[number] = group_of.setdefault(key, len(sided))
        if group == len(sided):
            sided.append([-1, -1, -1])
        named = (
            {"bilateral"}
            if "bilateral" in desc.lower()
            else {m.lower() for m in _SIDED.findall(desc)}
        )
        for side in named:
            if sided[group][_SIDE_SLOT[side]] < 0:
                sided[group][_SIDE_SLOT[side]] = number
    return groups, sided


def _valid(data: object) -> _Table | None:
    """The cached table if it has the shape this version writes, else None.

    Every check runs in C over whole lists (this is most of the start-up's 200 ms)."""
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return None
    codes, descriptions = data.get("codes"), data.get("descriptions")
    postings, totals, sides = data.get("postings"), data.get("totals"), data.get("sides")
    groups, sided = data.get("groups"), data.get("sided")
    if not (
        isinstance(codes, list)
        and codes
        and isinstance(descriptions, list)
        and isinstance(postings, dict)
        and isinstance(totals, list)
        and isinstance(sides, str)
        and isinstance(groups, list)
        and isinstance(sided, list)
        and set(map(type, sided)) <= {list}
        and set(map(len, sided)) <= {3}
        and len(codes) == len(descriptions) == len(totals) == len(sides) == len(groups)
        and set(map(type, codes)) == set(map(type, descriptions)) == {str}
        and set(map(type, postings.values())) == {list}
    ):
        return None
    # A code number out of range would fail a later query: check the whole index once.
    flat = list(itertools.chain.from_iterable(postings.values()))
    triples = list(itertools.chain.from_iterable(sided))
    n = len(codes)
    if not (
        _in_range(flat, 0, n) and _in_range(triples, -1, n) and _in_range(groups, 0, len(sided))
    ):
        return None
    weight = _weights(n, postings)
    return _Table(
        codes, descriptions, postings, totals, sides, groups, sided, weight, _numbers(codes)
    )


def _in_range(numbers: list[int], low: int, high: int) -> bool:
    """Whole numbers, each from ``low`` up to (not including) ``high``."""
    return not numbers or (
        set(map(type, numbers)) == {int} and low <= min(numbers) and max(numbers) < high
    )


@cache
def _table() -> _Table:
    """The code set and its index.

    `simple_icd_10_cm` parses the CMS tables at import (three seconds) and the index takes half a
    second more: both are kept in the user's cache folder as JSON (0600), keyed by the package's
    version, and read back in about a fifth of a second.  A cache that does not read as this
    version's table is rebuilt with a warning.
    """
    from importlib.metadata import version

    cached = user_cache_dir() / f"icd10cm-{version('simple-icd-10-cm')}.json"
    try:
        # orjson: the 12 MB table in a twentieth of a second, paid by every command that
        # validates a record.
        table = _valid(orjson.loads(cached.read_bytes()))
        if table is not None:
            return table
        log.warning("ICD-10-CM cache %s is not this version's code table; rebuilding", cached)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        log.warning("ICD-10-CM cache %s unreadable (%s); rebuilding", cached, err)
    import simple_icd_10_cm as cm

    table = _build(
        {
            code: cm.get_description(code)
            for code in cm.get_all_codes(with_dots=True)
            if cm.is_leaf(code)
        }
    )
    data = {"format": CACHE_FORMAT, **{f: getattr(table, f) for f in _Table.CACHED}}
    try:
        atomic_write(cached, json.dumps(data, separators=(",", ":")).encode(), durable=False)
    except OSError as err:
        log.warning("ICD-10-CM cache not written to %s (%s); only speed is lost", cached, err)
    return table


@cache
def _codes() -> dict[str, str]:
    """Every billable (leaf) code with its description."""
    table = _table()
    return dict(zip(table.codes, table.descriptions, strict=True))


def warm() -> None:
    """Load the code table and its index now (an app does it before the first keystroke)."""
    _others()


_OTHER = re.compile(r"\bother\b", re.I)


@cache
def _others() -> frozenset[int]:
    """Codes for "other" forms of a condition: the residual code for a specified variant the
    code set does not name, not what a letter means by the bare condition."""
    return frozenset(i for i, d in enumerate(_table().descriptions) if _OTHER.search(d))


@cache
def _code_set() -> frozenset[str]:
    """Every billable code, alone: what validating a record needs.  The table with its
    descriptions and index is 80 MB in memory; a command that only validates records (an export
    and each of its workers, doctor) reads this list instead, kept beside the table's cache
    (0600) and rebuilt from the table with a warning when it does not read as one."""
    if _table.cache_info().currsize:  # the table is here already: nothing more to hold
        return frozenset(_table().codes)
    from importlib.metadata import version

    cached = user_cache_dir() / f"icd10cm-codes-{version('simple-icd-10-cm')}.json"
    try:
        data = orjson.loads(cached.read_bytes())
        if (
            isinstance(data, dict)
            and data.get("format") == CACHE_FORMAT
            and isinstance(codes := data.get("codes"), list)
            and codes
            and all(isinstance(c, str) for c in codes)
        ):
            return frozenset(codes)
        log.warning("ICD-10-CM code list %s is not this version's; rebuilding", cached)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        log.warning("ICD-10-CM code list %s unreadable (%s); rebuilding", cached, err)
    codes = list(_table().codes)
    try:
        atomic_write(cached, orjson.dumps({"format": CACHE_FORMAT, "codes": codes}), durable=False)
    except OSError as err:
        log.warning("ICD-10-CM code list not written to %s (%s); only speed is lost", cached, err)
    return frozenset(codes)


def is_code(code: str) -> bool:
    """A billable ICD-10-CM code of the code set, written with its dot."""
    return code in _code_set()


def description(code: str) -> str | None:
    return _codes().get(code)


def is_name_tail(piece: str) -> bool:
    """Whether the code set writes ``piece`` after a comma inside a name ("thoracolumbar
    region", "right middle finger", "anterior horn of medial meniscus"): in a list of diagnoses
    such a piece ends the name before it, it is no diagnosis of its own."""
    return " ".join(piece.split()).lower().rstrip(".") in _name_tails()


@cache
def _name_tails() -> frozenset[str]:
    tails = set()
    for desc in _table().descriptions:
        for part in desc.lower().split(",")[1:]:
            tails.add(" ".join(part.split()))
    tails.discard("")
    return frozenset(tails)


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
    lowered = _fold_prefixes(lowered)
    # A sprain is of ligaments; of a muscle or tendon the code set calls it a strain ("sprain
    # of the muscle, fascia, and tendon of the left hip" is S76.012-).
    if _MUSCLE.search(lowered) and "ligament" not in lowered:
        lowered = _SPRAIN.sub("strain", lowered)
    return " ".join(lowered.split())


_MUSCLE = re.compile(r"\b(?:muscles?|tendons?|fascia)\b")
_NON = re.compile(r"\bnon[\s-]+(?=[a-z])")


def _fold_prefixes(lowered: str) -> str:
    """ "non-displaced", "non displaced" and "nondisplaced" are one word, in a diagnosis as in
    the code set (which writes "Nondisplaced fracture" but "Non-follicular lymphoma"): as two words,
    "displaced" would pick the opposite codes."""
    return _NON.sub("non", lowered)


_SPRAIN = re.compile(r"\bsprain\b")


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
    "injuries", "limbs"); "-ative" and "-ation" alike, as letters write the adjective where the
    code set has the noun ("degenerative lumbar disc", "disc degeneration")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 7 and word.endswith(("ation", "ative")):
        return word[:-3]
    return word


def _side_and_encounter(words: list[str]) -> tuple[str | None, str]:
    side = next((_SIDES[w] for w in words if w in _SIDES), None)
    return side, _encounter(words)


def _encounter(words: list[str]) -> str:
    """The 7th character an injury's wording asks for: the code set's own encounter wording
    where the text has it ("subsequent encounter for fracture with nonunion" is K, "initial
    encounter for open fracture" B), else initial (A), subsequent (D) or sequela (S) by word."""
    text = f" {' '.join(words)} "
    for phrase, character in _encounter_phrases():
        if phrase in text:
            return character
    return next((_ENCOUNTER[w] for w in words if w in _ENCOUNTER), "A")


_ENCOUNTER_TAIL = re.compile(r"\b(?:(?:initial|subsequent) encounter\b.*|sequela)$")


@cache
def _encounter_phrases() -> tuple[tuple[str, str], ...]:
    """(" wording ", 7th character) of the code set's injury encounters, longest first: each
    wording's most frequent character (open fractures of type I/II and NOS share B)."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    table = _table()
    for code, desc in zip(table.codes, table.descriptions, strict=True):
        if len(code) == 8 and code[0] in "STM":
            tail = _ENCOUNTER_TAIL.search(desc.lower())
            if tail:
                found[f" {' '.join(_words(tail.group()))} "][code[-1]] += 1
    pairs = ((phrase, counts.most_common(1)[0][0]) for phrase, counts in found.items())
    return tuple(sorted(pairs, key=lambda pc: -len(pc[0])))


def _with_encounter(code: str, encounter: str) -> str:
    """An injury code with the encounter as written (the phrase table keeps ``A``)."""
    if code[0] in "ST" and len(code) == 8 and code[-1] == "A" and encounter != "A":
        other = code[:-1] + encounter
        return other if is_code(other) else code
    return code


def _sideless(desc: str) -> str:
    """A description's content words but its side: "Pain in right arm" ~ "Pain in arm,
    unspecified", "bilateral upper limbs" ~ "right upper limb".  "Other" stays: "Other internal
    derangements of right knee" is not the right side of "Unspecified internal derangement of
    unspecified knee"; nor "with" and "without": a fracture "with intraarticular extension" is
    not a side of one "without"."""
    return " ".join(
        _stem(w)
        for w in _words(desc.lower())
        if (w not in _STOP or w in _KEPT_SIDELESS) and w not in _SIDE_WORDS
    )


_KEPT_SIDELESS = frozenset({"other", "with", "without"})


def _sided(code: str, side: str | None) -> str:
    """The same condition on the side the text names: a sibling code in the same category
    whose description differs only by that side."""
    if side is None:
        return code
    desc = description(code) or ""
    if side in desc.lower():
        return code
    table = _table()
    sibling = table.sided[table.groups[table.number[code]]][_SIDE_SLOT[side]]
    return code if sibling < 0 else table.codes[sibling]


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
    # Side and encounter are applied to the phrase's code: "status post right total knee
    # arthroplasty" reads as the phrase without "right".
    words = [w for w in _content(normalized).split() if w not in _SIDES and w not in _ENCOUNTER]
    content = f" {' '.join(words)} "
    for phrase, code in _phrases():
        if f" {phrase} " in content:
            return code, len(set(words) - set(phrase.split()) - {"encounter"})
    return None


def suggest(text: str, limit: int = 10, context: str | None = None) -> list[Candidate]:
    """Billable codes for a diagnosis as written, best first, scored 0-100; with ``context``
    (its letter), a side the diagnosis leaves open is taken from the letter (see `link`)."""
    found = _ranked(text, limit)
    return _with_context_sides(text, found, context) if context else found


def _ranked(text: str, limit: int) -> list[Candidate]:
    normalized = _normalize(text)
    words = _words(normalized)
    side, encounter = _side_and_encounter(words)
    out = _phrase_candidates(normalized, side, encounter)
    table = _table()
    # What the diagnosis rules out ("without myelopathy") names no word to look for: a code
    # that has it (and does not say "without") is marked down instead.
    negated = _negated(words)
    # The side is applied to the best codes afterwards; as a word it only blurs the ranking.
    query = {
        _stem(w)
        for w in words
        if w not in _STOP and w not in _ENCOUNTER and w not in _SIDES and _stem(w) not in negated
    }
    scores = _word_hits(table, query)
    contradicts = {
        n
        for word in negated
        for n in table.postings.get(word, ())
        if n in scores and "without" not in table.descriptions[n].lower()
    }
    asked = _Asked(
        weight=sum(table.weight.get(w, 0.0) for w in query) or 1.0,
        encounter=encounter,
        side_cost=_side_costs(side),
        contradicts=contradicts,
        query=frozenset(query),
        other="other" in words,
        others=_others(),
    )
    for fit, code in _best_fits(table, scores, asked, limit * 3):
        out.setdefault(_sided(code, side), round(max(0.0, min(99.0, 100.0 * fit)), 1))
    best = sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Candidate(code, description(code) or "", score) for code, score in best]


def _best_fits(
    table: _Table, scores: dict[int, float], asked: _Asked, k: int
) -> list[tuple[float, str]]:
    """The ``k`` best (fit, code) of the candidates, best first (ties: the shorter code, then
    the code).  A candidate's fit is at most its words' share (`_fit` only takes away from it),
    so candidates are fitted best share first and the rest skipped once no share reaches the
    ``k``-th fit: about a dozen `_fit` calls a diagnosis instead of ~800 (`tests/test_icd10.py`
    holds it equal to fitting all)."""
    bounds = sorted(
        ((_share(table, n, hit, asked), n, hit) for n, hit in scores.items()), reverse=True
    )
    fitted: list[tuple[float, str]] = []
    best: list[float] = []  # the k best fits so far, a min-heap
    for bound, number, hit in bounds:
        if len(best) == k and bound < best[0]:
            break
        fit = _fit(table, number, hit, asked)
        fitted.append((fit, table.codes[number]))
        if len(best) < k:
            heapq.heappush(best, fit)
        elif fit > best[0]:
            heapq.heapreplace(best, fit)
    return heapq.nsmallest(k, fitted, key=lambda t: (-t[0], len(t[1]), t[1]))


def _phrase_candidates(normalized: str, side: str | None, encounter: str) -> dict[str, float]:
    """The code a known phrase of the letters names ("CTS"), first, if it is a code."""
    out: dict[str, float] = {}
    phrase = _phrase_code(normalized)
    if phrase is not None:
        code = _sided(_with_encounter(phrase[0], encounter), side)
        if is_code(code):
            out[code] = 100.0 - 10.0 * phrase[1]
    return out


def _word_hits(table: _Table, query: set[str]) -> dict[int, float]:
    """Code number -> the summed weight of the query's words it holds.  Only codes holding one
    of the two rarest words are candidates: the common words ("pain", "strain") then only add
    to their scores, instead of touching thousands of codes."""
    postings, weight = table.postings, table.weight
    known = sorted((w for w in query if w in postings), key=lambda w: -weight[w])
    scores: dict[int, float] = {}
    for word in known[:2]:
        scores.update(dict.fromkeys(postings[word], 0.0))
    for word in known:
        w = weight[word]
        for number in postings[word]:
            if number in scores:
                scores[number] += w
    return scores


def _side_costs(side: str | None) -> dict[str, float]:
    """What a code's side ("R", "L", or "-" for none written) costs: an unwritten side a
    little, the other side more; a side the diagnosis gives as both or bilateral, nothing."""
    if side in ("right", "left"):
        return {"R": 0.0 if side == "right" else 0.3, "L": 0.0 if side == "left" else 0.3, "-": 0.0}
    if side is not None:
        return {"R": 0.0, "L": 0.0, "-": 0.0}
    return {"R": 0.1, "L": 0.1, "-": 0.0}


@dataclass(frozen=True)
class _Asked:
    """What a diagnosis asks of a code, beyond its words."""

    weight: float  # the query words' summed weight
    encounter: str
    side_cost: dict[str, float]
    contradicts: set[int]  # codes holding a word the diagnosis rules out
    query: frozenset[str]  # the diagnosis's words, as looked for
    other: bool  # the diagnosis says "other"
    others: frozenset[int]  # the "other ..." codes


def _share(table: _Table, number: int, hit: float, asked: _Asked) -> float:
    """What the query says that the code explains, less what the code adds unasked."""
    return (hit - 0.15 * (table.totals[number] - hit)) / asked.weight


def _fit(table: _Table, number: int, hit: float, asked: _Asked) -> float:
    """What the query says that the code explains, less what the code adds unasked; injuries
    prefer the encounter as written (initial by default); a side the letter did not write costs
    a little, the other side more."""
    code = table.codes[number]
    # `_best_fits` bounds a fit by its share: every later term only takes away.
    fit = _share(table, number, hit, asked)
    # Injuries (S, T) and the fractures of chapter M (stress, fragility) carry the encounter.
    if len(code) == 8 and code[-1] != asked.encounter and code[0] in "STM":
        fit -= 0.5
    if hit < asked.weight - 1e-9:
        fit = min(fit, 0.85)  # a word of the diagnosis the code does not explain
    # "Other" either way: the code and the diagnosis say it, or neither does.
    if (number in asked.others) != asked.other:
        fit -= _OTHER_COST
    if number in asked.contradicts or not _rules_out(number).isdisjoint(asked.query):
        fit -= 0.3
    return fit - asked.side_cost[table.sides[number]]


@lru_cache(maxsize=4096)
def _rules_out(number: int) -> frozenset[str]:
    """What a code's description rules out ("without intraarticular extension", "without
    damage to nail"): a diagnosis that names it is not that code."""
    return frozenset(_negated(_words(_stated(_table().descriptions[number].lower()))))


def _negated(words: list[str]) -> set[str]:
    """Stems of the words a diagnosis rules out: after "without"/"no", up to "and"/"with"."""
    found, negating = set(), False
    for word in words:
        if word in ("without", "no"):
            negating = True
        elif word in ("and", "with", "or"):
            negating = False
        elif negating and word not in _STOP:
            found.add(_stem(word))
    return found


LINK_THRESHOLD = 70.0
"""Below this score `link` proposes no code: a wrong code is worse than none."""


def link(text: str, context: str | None = None) -> tuple[str | None, float]:
    """(code or None, confidence) for one diagnosis as written.

    With ``context`` (the letter), a diagnosis written without a side ("shoulder impingement")
    whose code has sided siblings takes the side the letter gives that body part, when it gives
    only one ("right shoulder arthroscopy" in the request): coders code laterality from the
    record, not from the diagnosis line alone.
    """
    found = suggest(text, limit=2, context=context)
    if not found or found[0].score < LINK_THRESHOLD:
        return None, 0.5
    margin = found[0].score - (found[1].score if len(found) > 1 else 0.0)
    confidence = 0.9 if found[0].score >= 95 else 0.75 if margin >= 10 else 0.6
    return found[0].code, confidence


def _with_context_sides(text: str, found: list[Candidate], context: str) -> list[Candidate]:
    """``found`` with the side the letter gives each code's body part, where the diagnosis
    leaves it open (see `link`); candidates that become the same code are kept once."""
    words = _words(_normalize(text))
    # "pain in unspecified knee" says the side is not known: the letter's context stays out.
    if _side_and_encounter(words)[0] is not None or "unspecified" in words:
        return found
    out: dict[str, Candidate] = {}
    for candidate in found:
        side = side_in_context(candidate.code, context)
        code = _sided(candidate.code, side) if side else candidate.code
        if code not in out:
            out[code] = Candidate(code, description(code) or "", candidate.score)
    return list(out.values())


def side_in_context(code: str, context: str) -> str | None:
    """ "right" or "left" when ``context`` writes only that side before a body part the code's
    description names (and the code has a sibling on that side); else None."""
    desc = description(code) or ""
    if _SIDED.search(desc) or "bilateral" in desc.lower():
        return None  # the code already has a side
    parts = {w for w in _words(desc.lower()) if len(w) > 3 and w not in _STOP} - _SIDE_WORDS
    if not parts or all(_sided(code, side) == code for side in ("right", "left")):
        return None
    lowered = context.lower()
    found = {
        side
        for side in ("right", "left", "bilateral")
        if re.search(rf"\b{side}\s+(?:{'|'.join(map(re.escape, sorted(parts)))})", lowered)
    }
    return found.pop() if len(found) == 1 and "bilateral" not in found else None
