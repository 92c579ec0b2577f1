"""The drug lexicon: names a letter may use for a drug, ranked suggestions, and normalization.

Names come from drug-named-entity-recognition's dictionary (brands, synonyms, canonical generics,
DrugBank/MedlinePlus/MeSH ids), a curated supplement shipped in ``core/data`` (workers'
compensation compounded creams and kits, medical foods, brands the dictionary lacks), the user's
own supplement, and names learned from annotators: `Lexicon.learn` when one picks a suggestion,
`Lexicon.learn_from_items` from a saved gold record's drugs.

Matching works on a request's *name words* (``core.lexicon_text``): strengths, forms, counts and
routes are dropped first. Fuzzy matching counts shared trigrams over the distinct words of all
names to find a few hundred candidates, then scores only those with rapidfuzz, which keeps a
query in the low milliseconds over the whole dictionary.
"""

from __future__ import annotations

import bisect
import functools
import json
import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from imrgold.core.files import (
    atomic_write,
    learned_path,
    move_aside,
    user_cache_dir,
    user_supplement_path,
)
from imrgold.core.lexicon_build import (
    ORIGIN_RANK,
    SUPPLEMENT_PATH,
    Product,
    Tables,
    add_products,
    dictionary_path,
    entry_terms,
    grams,
    load_supplement,
    load_tables,
    product_generics,
)
from imrgold.core.lexicon_text import (
    NOISE_WORDS,
    SALT_WORDS,
    fold,
    form_word,
    is_noise,
    letter_words,
    name_tokens,
    tokens,
)

Origin = Literal["dictionary", "supplement", "learned", "letter"]

log = logging.getLogger(__name__)

PRIOR_PATH = Path(__file__).resolve().parent / "data" / "drug_prior.json"
"""How many real IMR letters name each drug (scripts/make_drug_prior.py)."""


@dataclass(frozen=True)
class Weights:
    """Every knob of the lexicon's search and scoring, in one place (similarities are 0-100,
    bonuses are points added to a score).  `bench/suggest.py` measures a change to any of them."""

    # A name two or more real letters use gains log2(letters) points, at most `prior_cap`:
    # enough to win a near-tie ("norko": Norco over Norkotral), never to lift a poor match over
    # a good one; a name only one letter uses says little (and would part "Ultram" from
    # "Ultram ER").
    prior_weight: float = 1.0
    prior_cap: float = 3.0
    # Candidate search: terms (name words) within `term_cutoff` of a query word, at most
    # `max_terms` per word and `max_terms_total` overall, each bringing at most
    # `max_entries_per_term` names; trigram counting reads at most `max_gram_candidates` terms;
    # terms `term_spread` below the best one bring nothing.  A pasted paragraph is not a name:
    # its first `max_query_words` words decide.
    term_cutoff: float = 62.0
    max_query_words: int = 12
    max_terms: int = 40
    max_terms_total: int = 60
    max_entries_per_term: int = 60
    max_gram_candidates: int = 400
    term_spread: float = 40.0
    # A query word counts as accounted for by a name from this similarity on.
    cover_cutoff: float = 75.0
    # How a name's fit becomes its score: `coverage_floor` of it for any match, the rest in
    # proportion to the share of the query's words the name accounts for.
    coverage_floor: float = 0.8
    # A name's words under three letters are not indexed; they weigh this much of a word, and
    # count `short_word_similarity` when the query has them too ("Senokot S" is not "Senokot").
    short_word_weight: float = 0.5
    short_word_similarity: float = 50.0
    # A name the letter uses elsewhere gains `letter_boost` once it fits `letter_fit`; the
    # letter's own names are compared whole with a damaged query from `letter_name_cutoff` on;
    # an unknown word of the letter is offered from `word_cutoff` on.
    letter_fit: float = 70.0
    letter_boost: float = 12.0
    letter_name_cutoff: float = 55.0
    word_cutoff: float = 85.0
    # Tie-breakers: a drug's main name, a drug in everyday use, forms that agree with the
    # query's; a foreign synonym gives way to the main name `synonym_slack` behind it.
    preferred_bonus: float = 1.0
    common_bonus: float = 2.0
    form_weight: float = 1.5
    synonym_slack: float = 6.0
    # Completion of a name being typed: from `prefix_min` letters, reading `max_completions`.
    prefix_min: int = 4
    max_completions: int = 150
    # Below `clear_match` a word is tried again as OCR may have misread it, `ocr_penalty` below
    # a direct match (the misreading is a guess).
    clear_match: float = 90.0
    ocr_penalty: float = 2.0
    # generic_ingredients accepts a fuzzy name only this close (`normalize_strict_cutoff` when
    # the letter is known but does not name it; `normalize_letter_cutoff` when it does): a wrong
    # drug in a gold record is worse than none.
    normalize_cutoff: float = 94.0
    normalize_strict_cutoff: float = 95.0
    normalize_letter_cutoff: float = 78.0


WEIGHTS = Weights()
_MAX_READ_CACHE = 4096
_OCR_MISREADS = (("rn", "m"), ("cl", "d"), ("ii", "u"), ("ri", "n"), ("vv", "w"), ("li", "h"))
_CAPITALIZED = re.compile(r"\b[A-Z][A-Za-z]+")


def _similarity(a: str, b: str, ratio: float) -> float:
    """The Indel ratio averaged with the Damerau (OSA) similarity: OCR substitutes letters
    ("e" read as "c") and typists swap them, one slip each where Indel counts two."""
    return (ratio + OSA.normalized_similarity(a, b) * 100.0) / 2


def _prefix_score(unit: str, term: str) -> float:
    """A completion's score: more of the name typed, more certain; never a whole match."""
    return min(95.0, 75.0 + 20.0 * len(unit) / len(term))


def _ocr_readings(unit: str) -> set[str]:
    """What a damaged word may have been before OCR misread letter shapes."""
    readings = {unit.replace(seen, meant) for seen, meant in _OCR_MISREADS if seen in unit}
    undone = unit
    for seen, meant in _OCR_MISREADS:
        undone = undone.replace(seen, meant)
    readings.add(undone)
    readings.discard(unit)
    return readings


_TermMatch = tuple[str, float, "int | list[int]"]
"""A term near a query unit: (term, similarity, where its entries are: a slot of the fuzzy
index, or for user additions and the letter's names a list of entries)."""
_TermSim = tuple[float, frozenset[int], "int | list[int]"]
"""A term's best similarity to the query, the query words it covers, where its entries are."""


def _best_few(
    scores: dict[int, tuple[float, int]], room: int
) -> list[tuple[int, tuple[float, int]]]:
    """The entries scoring at least the ``room``-th best score, best first."""
    ordered = sorted(scores.items(), key=lambda kv: -kv[1][0])
    if len(ordered) > room:
        floor = ordered[room][1][0]
        ordered = [kv for kv in ordered if kv[1][0] >= floor]
    return ordered


def _word_fit(
    match_key: str, words: list[str], term_sim: dict[str, _TermSim]
) -> tuple[float, set[int]]:
    """The mean similarity of a name's words to the query's, and the query words they cover.
    Short words are not indexed: they count, at a part of a word's weight, only when the query
    has them too."""
    covered: set[int] = set()
    total_sim = weight = 0.0
    for w in match_key.split():
        if len(w) < 3:
            weight += WEIGHTS.short_word_weight
            total_sim += WEIGHTS.short_word_similarity if w in words else 0.0
            continue
        weight += 1.0
        hit = term_sim.get(w)
        if hit:
            total_sim += hit[0]
            if hit[0] >= WEIGHTS.cover_cutoff:
                covered |= hit[1]
    return total_sim / weight, covered


class Candidate(BaseModel):
    """One suggestion for a drug name."""

    name: str
    score: float = Field(ge=0.0, le=100.0)
    generics: list[str] = Field(default_factory=list)
    origin: Origin = "dictionary"
    ids: dict[str, str] = Field(default_factory=dict)
    source: str | None = Field(
        default=None, description="Where a supplement product's ingredients were taken from"
    )
    in_letter: bool = Field(default=False, description="The name also appears in the letter")


def _read_learned(path: Path) -> dict[str, Any] | None:
    """The learned names file; a damaged one is moved aside (with a warning) so the next name
    learned starts a new file instead of overwriting it; None when there is nothing to use."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        log.warning("learned drug names %s cannot be read (%s); not used", path, err)
        return None
    except ValueError as err:
        _move_aside(path, err)
        return None
    if not isinstance(data, dict):
        _move_aside(path, ValueError("not a JSON object"))
        return None
    return data


def _move_aside(path: Path, err: Exception) -> None:
    aside = move_aside(path)
    log.warning("%s is damaged (%s): kept as %s, a new one is started", path, err, aside.name)


def _write_private(path: Path, payload: object) -> None:
    """Write JSON readable by its owner only (it records what annotators typed)."""
    text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    atomic_write(path, text.encode("utf-8"))


class _LetterContext:
    """What a letter offers: the lexicon entries it names (and their spellings without
    spaces, to compare damaged queries with) and its other words.

    Built in parts, each on first use: normalizing a request only needs the letter's
    one-word names, which cost a tokenization and a dictionary lookup per distinct word; the
    full index of every one-to-three-word name (suggestions) costs far more on a long letter."""

    def __init__(self, tables: Tables, text: str) -> None:
        self._t = tables
        self._text = text

    @cached_property
    def _tokens(self) -> list[str]:
        return name_tokens(self._text)

    @cached_property
    def _unigrams(self) -> frozenset[str]:
        return frozenset(w for w in self._tokens if len(w) >= 3)

    @cached_property
    def _words(self) -> frozenset[str]:
        """The letter's words of three letters or more, as `name_tokens` reads them but
        before its noise and salt rules (which `_kept` applies to the few words asked about)."""
        return frozenset(letter_words(self._text))

    def _kept(self, word: str) -> bool:
        """Whether `name_tokens` keeps ``word`` somewhere in the letter. A word other than a
        salt is kept wherever it is not noise; a salt depends on the word before it, so it is
        looked up in the full token list."""
        if word in SALT_WORDS:
            return word in self._unigrams
        return word in self._words and not is_noise(word)

    @cached_property
    def _index(self) -> tuple[set[int], dict[str, list[int]]]:
        words = self._tokens
        grams = set(self._unigrams)
        for n in (2, 3):
            grams.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        entries: set[int] = set()
        for gram in grams:
            entries.update(self._t.exact(gram))
        keys: dict[str, list[int]] = {}
        for entry in sorted(entries):
            joined = self._t.keys[entry].replace(" ", "")
            if len(joined) >= 4:
                keys.setdefault(joined, []).append(entry)
        return entries, keys

    @property
    def entries(self) -> set[int]:
        return self._index[0]

    @property
    def keys(self) -> dict[str, list[int]]:
        return self._index[1]

    @cached_property
    def key_list(self) -> list[str]:
        return list(self.keys)

    def names_near(self, unit: str) -> list[_TermMatch]:
        """The letter's own names near ``unit``, compared whole: they are few, so however
        damaged the query is ("Efdex0r" where the letter says Effexor)."""
        near = process.extract(
            unit, self.key_list, scorer=fuzz.ratio, limit=5, score_cutoff=WEIGHTS.letter_name_cutoff
        )
        return [(key, sim, self.keys[key]) for key, sim, _ in near]

    @cached_property
    def words(self) -> list[str]:
        return sorted({w for w in self._tokens if len(w) >= 4 and w.isalpha()})

    @cached_property
    def _one_word_keys(self) -> dict[str, list[int]]:
        """One-word names the letter may write (salts not yet confirmed), each with its
        entries, in the order of the full index (by first entry)."""
        # The letter's words that name something, found by a C-level set intersection (a
        # letter has hundreds of words, a handful of names); the sort below fixes the order.
        named = self._t.exact_index.keys() & self._words
        found = {
            w: sorted(self._t.exact(w))
            for w in named
            if len(w) >= 4 and (w in SALT_WORDS or not is_noise(w))
        }
        return {w: e for e, w in sorted((e, w) for w, e in found.items() if e)}

    def one_word_names_near(self, word: str, cutoff: float) -> list[int]:
        """Entries of the letter's one-word names within ``cutoff`` of ``word``: what a fuzzy
        search of the full index would bring, less its names of several words."""
        keys = self._one_word_keys
        out: list[int] = []
        near = process.extract(word, list(keys), scorer=fuzz.ratio, score_cutoff=cutoff)
        for key, _sim, _ in near:
            if key not in SALT_WORDS or key in self._unigrams:
                out.extend(keys[key])
        return out

    def names_one_word(self, entry: int) -> bool:
        """Whether the letter names ``entry``, for an entry whose key is one word."""
        return self._kept(self._t.keys[entry])


def _form_fit(entry_words: Iterable[str], query_words: set[str]) -> int:
    """How well an entry's form words agree with the query's: "Terocin patch" suits
    "Terocin patch #30" better than "Terocin" (the lotion) does, and worse than it suits
    "Terocin"."""
    own = {w for w in entry_words if w in NOISE_WORDS}
    return len(own & query_words) - len(own - query_words)


@functools.cache
def _prior() -> dict[str, float]:
    """Folded name -> its bonus, from `PRIOR_PATH` (none when the file is absent)."""
    try:
        counts = json.loads(PRIOR_PATH.read_text(encoding="utf-8"))["counts"]
    except FileNotFoundError:
        return {}
    return {
        fold(name): min(WEIGHTS.prior_cap, WEIGHTS.prior_weight * math.log2(count))
        for name, count in counts.items()
        if count >= 2
    }


class Lexicon:
    """Drug names with their generic ingredients; see the module docstring."""

    def __init__(
        self,
        *,
        dictionary: Path | None = None,
        supplement: Path | None = SUPPLEMENT_PATH,
        user_supplement: Path | None = None,
        learned: Path | None = None,
        cache_dir: Path | None = None,
        use_cache: bool = True,
    ) -> None:
        self.dictionary = dictionary or dictionary_path()
        self.supplement = supplement
        self.user_supplement = user_supplement or user_supplement_path()
        self.learned_file = learned or learned_path()
        cache = (cache_dir or user_cache_dir()) if use_cache else None
        self._t: Tables = load_tables(self.dictionary, supplement, cache)
        self._postings = np.frombuffer(self._t.gram_postings, dtype=np.int32)
        # Suggestions, normalization and learning may come from different threads (the
        # interface learns in a worker while the next suggestion is computed).
        self._lock = threading.RLock()
        # Entries added after the cached build (user supplement, learned aliases) are few:
        # they are searched by brute force beside the trigram index.
        self._extra_terms: list[str] = []
        self._extra_term_entries: list[list[int]] = []
        self._learned: dict[str, str] = {}
        self._letters: dict[int, tuple[str, _LetterContext]] = {}
        # A batch of letters repeats its requests ("Norco 10/325mg #60"): what each spells
        # exactly is read once, until the tables change.
        self._read: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {}
        self._near: dict[str, tuple[int, ...]] = {}
        self._load_user_supplement()
        self._load_learned()

    def __len__(self) -> int:
        return len(self._t.names)

    # -- user additions -------------------------------------------------------------------------

    def _index_extra(self, entries: Iterable[int]) -> None:
        # Every addition to the tables comes through here: what was read before may change.
        self._read.clear()
        self._near.clear()
        self._letters.clear()
        for index in entries:
            for term in entry_terms(self._t.keys[index]):
                if term in self._extra_terms:
                    self._extra_term_entries[self._extra_terms.index(term)].insert(0, index)
                else:
                    self._extra_terms.append(term)
                    self._extra_term_entries.append([index])

    def _load_user_supplement(self) -> None:
        path = self.user_supplement
        if path is None or not path.exists():
            return
        try:
            products = load_supplement(path)
        except OSError as err:
            log.warning("your drug supplement %s cannot be read (%s); not used", path, err)
            return
        except ValueError as err:
            _move_aside(path, err)
            return
        # The user's own products come before the shipped ones for the same name.
        self._index_extra(add_products(self._t, products, "supplement", first=True))

    def _load_learned(self) -> None:
        path = self.learned_file
        if path is None or not path.exists():
            return
        data = _read_learned(path)
        if data is None:
            return
        aliases = data.get("aliases", {})
        for alias, name in aliases.items() if isinstance(aliases, dict) else ():
            if isinstance(alias, str) and isinstance(name, str):
                self._remember(alias, name)
        ingredients = data.get("ingredients", {})
        for alias, generics in ingredients.items() if isinstance(ingredients, dict) else ():
            if isinstance(alias, str) and isinstance(generics, list):
                self._remember_generics(alias, [str(g) for g in generics])

    def resolve(self, name: str) -> tuple[str, tuple[str, ...], dict[str, str], str] | None:
        """The entry written exactly as ``name``: (display name, generics, ids, origin)."""
        found = self._exact_entries(name_tokens(name), tokens(name))
        if not found:
            return None
        i = found[0]
        return self._t.names[i], self._t.generics(i), self._t.ids(i), self._t.origin(i)

    def _remember(self, alias: str, name: str) -> None:
        alias_words = name_tokens(alias)
        if not alias_words:
            return
        self._learned[" ".join(alias_words)] = name
        self._learned["".join(alias_words)] = name
        known = self.resolve(name)
        display, generics, ids = known[:3] if known else (name, (), {})
        group = self._t.add_group(generics, "learned", dict(ids), f"learned: {alias} -> {display}")
        index = self._t.add(display, alias, group, first=True)
        if index is not None:
            self._index_extra([index])

    def _remember_generics(self, alias: str, generics: list[str]) -> None:
        alias_words = name_tokens(alias)
        if not alias_words:
            return
        display = alias.strip()
        self._learned[" ".join(alias_words)] = display
        self._learned["".join(alias_words)] = display
        generics_key = tuple(sorted({fold(g).strip() for g in generics if g.strip()}))
        source = f"learned from a gold record: {display} -> {', '.join(generics_key) or '-'}"
        group = self._t.add_group(generics_key, "learned", {}, source)
        index = self._t.add(display, alias, group, first=True)
        if index is not None:
            self._index_extra([index])

    def _persist(self, section: str, alias: str, value: object) -> None:
        data: dict[str, dict[str, object]] = {"aliases": {}, "ingredients": {}}
        if self.learned_file.exists():
            loaded = _read_learned(self.learned_file)
            if loaded is None and self.learned_file.exists():
                # Unreadable, not damaged: never overwrite what could not be read.
                log.warning("%s not updated: it cannot be read", self.learned_file)
                return
            for key in data:
                if isinstance((loaded or {}).get(key), dict):
                    data[key] = (loaded or {})[key]
        data[section][alias.strip()] = value
        _write_private(self.learned_file, data)

    def learn(self, alias: str, name: str) -> None:
        """Remember that ``alias`` (as a letter wrote it) means ``name``; persisted at once, so
        the next ``suggest(alias)`` puts ``name`` first, in this process and the next. The
        beginning of a name (a completion picked while typing) is not remembered."""
        if not alias.strip() or not name.strip():
            raise ValueError("alias and name must not be empty")
        typed, meant = "".join(name_tokens(alias)), "".join(name_tokens(name))
        if not typed or (meant.startswith(typed) and len(typed) < 0.75 * len(meant)):
            # The start of the name, picked from completions ("gaba" -> Gabapentin), is no
            # misspelling to remember: "GABA" elsewhere means something else.
            return
        with self._lock:
            self._remember(alias, name)
            self._persist("aliases", alias, name.strip())

    def learn_generics(self, alias: str, generics: Iterable[str]) -> None:
        """Remember that ``alias`` names a product with these generic ingredients (what a
        gold record says an unknown name holds); persisted like `learn`."""
        clean = sorted({fold(g).strip() for g in generics if g and g.strip()})
        if not alias.strip():
            raise ValueError("alias must not be empty")
        with self._lock:
            self._remember_generics(alias, clean)
            self._persist("ingredients", alias, clean)

    def add_product(
        self, name: str, generics: Iterable[str], source: str, aliases: Iterable[str] = ()
    ) -> Product:
        """Add a product to the user's own supplement (persisted, owner-only); returns it."""
        product: Product = {
            "name": name.strip(),
            "aliases": [a.strip() for a in aliases if a.strip()],
            "generics": sorted({fold(g).strip() for g in generics if g.strip()}),
            "source": source.strip(),
        }
        if not product["name"] or not name_tokens(name):
            raise ValueError("a product needs a name")
        with self._lock:
            products: list[Mapping[str, object]] = []
            if self.user_supplement.exists():
                products = [
                    p
                    for p in load_supplement(self.user_supplement)
                    if fold(str(p["name"])) != fold(name.strip())
                ]
            products.append(product)
            _write_private(self.user_supplement, {"products": products})
            self._index_extra(add_products(self._t, [product], "supplement", first=True))
        return product

    # -- letter context -----------------------------------------------------------------------

    def _letter(self, letter_text: str | None) -> _LetterContext | None:
        if not letter_text:
            return None
        key = hash(letter_text)
        hit = self._letters.get(key)
        if hit is not None and hit[0] == letter_text:
            return hit[1]
        context = _LetterContext(self._t, letter_text)
        if len(self._letters) > 16:
            self._letters.clear()
        self._letters[key] = (letter_text, context)
        return context

    # -- matching -----------------------------------------------------------------------------

    def _exact_entries(self, words: list[str], raw_words: Iterable[str] = ()) -> list[int]:
        """Entries spelled exactly as ``words`` (spaces optional), best suited first."""
        if not words:
            return []
        found = self._t.exact(" ".join(words))
        for index in self._t.compact("".join(words)):
            if index not in found:
                found.append(index)
        if len(found) > 1:
            query = set(raw_words)
            found.sort(
                key=lambda i: (
                    -_form_fit(tokens(self._t.names[i]), query),
                    ORIGIN_RANK[self._t.origin(i)],
                )
            )
        return found

    def _similar_terms(
        self, unit: str, complete: bool = False
    ) -> list[tuple[str, float, int | list[int]]]:
        """Terms near ``unit`` (and, with ``complete``, terms it begins): (term, similarity,
        where its entries are), best first; the entries are a slot of the fuzzy index or, for
        user additions, a list."""
        t = self._t
        out: list[tuple[str, float, int | list[int]]] = []
        offsets = t.gram_offsets
        chunks = []
        for gram in set(grams(unit)):
            number = t.gram_index.get(gram)
            if number is not None:
                chunks.append(self._postings[offsets[number] : offsets[number + 1]])
        if chunks:
            tally = np.bincount(np.concatenate(chunks))
            slots = np.flatnonzero(tally >= max(1, min(3, len(unit) // 3)))
            if len(slots) > WEIGHTS.max_gram_candidates:
                top = np.argpartition(-tally[slots], WEIGHTS.max_gram_candidates)
                slots = slots[top[: WEIGHTS.max_gram_candidates]]
            slot_list = slots.tolist()
            found = process.extract(
                unit,
                [t.terms[s] for s in slot_list],
                scorer=fuzz.ratio,
                limit=WEIGHTS.max_terms,
                score_cutoff=WEIGHTS.term_cutoff,
            )
            out = [(term, _similarity(unit, term, r), slot_list[pos]) for term, r, pos in found]
        complete = complete and len(unit) >= WEIGHTS.prefix_min
        if complete:
            out += self._completions(unit)
        if self._extra_terms:
            for term, score, pos in process.extract(
                unit,
                self._extra_terms,
                scorer=fuzz.ratio,
                limit=10,
                score_cutoff=WEIGHTS.term_cutoff,
            ):
                out.append((term, score, self._extra_term_entries[pos]))
            out += [
                (term, _prefix_score(unit, term), self._extra_term_entries[pos])
                for pos, term in enumerate(self._extra_terms)
                if complete and term.startswith(unit) and term != unit
            ]
        out.sort(key=lambda x: -x[1])
        return out

    def _completions(self, unit: str) -> list[tuple[str, float, int | list[int]]]:
        """Terms that begin with ``unit``: an annotator types "cyclob" and means
        cyclobenzaprine. The shortest completions come first; a capped number is read."""
        t = self._t
        order = t.term_order
        start = bisect.bisect_left(order, unit, key=t.terms.__getitem__)
        out: list[tuple[str, float, int | list[int]]] = []
        for i in range(start, min(start + WEIGHTS.max_completions, len(order))):
            slot = order[i]
            term = t.terms[slot]
            if not term.startswith(unit):
                break
            if term != unit:
                out.append((term, _prefix_score(unit, term), slot))
        return out

    def _entries(self, where: int | list[int]) -> Iterable[int]:
        if isinstance(where, int):
            return self._t.term_entries(where)[: WEIGHTS.max_entries_per_term]
        return where[: WEIGHTS.max_entries_per_term]

    @staticmethod
    def _units(words: list[str]) -> list[tuple[str, frozenset[int]]]:
        """What is looked up for a query's words: each word, and neighbours joined (OCR and
        typing split names: "Medi derm", "cyclo benzaprine")."""
        units = [(w, frozenset({i})) for i, w in enumerate(words)]
        for n in (2, 3):
            for i in range(len(words) - n + 1):
                units.append(("".join(words[i : i + n]), frozenset(range(i, i + n))))
        return units

    def _score(
        self, words: list[str], context: _LetterContext | None
    ) -> dict[int, tuple[float, int]]:
        """Entry -> (score, first query word it accounts for) for the query's name words.

        An entry's fit is the mean similarity of its words to the query's (or of its whole
        name to joined query words); the score scales the fit by how much of the query the
        entry accounts for, and lifts names the letter uses elsewhere."""
        term_sim = self._term_similarities(words, context)
        return {
            entry: self._entry_score(entry, words, term_sim, context)
            for entry in self._candidate_entries(term_sim)
        }

    def _term_similarities(
        self, words: list[str], context: _LetterContext | None
    ) -> dict[str, _TermSim]:
        """Each term near a unit of the query (a word, or neighbours joined): its best
        similarity, the query words that unit covers, and where its entries are."""
        term_sim: dict[str, _TermSim] = {}
        known = {w for w in words if len(w) >= 4 and self._t.exact(w)}
        for unit, positions in self._units(words):
            if len(unit) < 3 and len(words) > 1:
                continue
            for term, sim, where in self._unit_matches(unit, positions, words, known, context):
                best = term_sim.get(term)
                if best is None or (sim, len(positions)) > (best[0], len(best[1])):
                    term_sim[term] = (sim, positions, where)
        return term_sim

    def _unit_matches(
        self,
        unit: str,
        positions: frozenset[int],
        words: list[str],
        known: set[str],
        context: _LetterContext | None,
    ) -> list[_TermMatch]:
        """Terms matching one unit of the query: spelled exactly, near it (or near what OCR
        may have misread), or a name of the letter near it."""
        exact = self._t.exact(unit)
        if len(positions) > 1:
            exact = exact or self._t.compact(unit)
            if not exact and all(words[i] in known for i in positions):
                # Known names side by side ("Flurbiprofen 20%, Baclofen 5%") are a list, not
                # one name split apart.
                return []
        found: list[_TermMatch]
        if exact and len(words) > 1:
            found = [(unit, 100.0, exact)]
        else:
            # Only the last word can be a name still being typed.
            last = max(positions) == len(words) - 1
            found = self._similar_terms(unit, complete=last) if len(unit) >= 3 else []
            if exact and (not found or found[0][0] != unit):
                found.insert(0, (unit, 100.0, exact))
            if len(unit) >= 4 and (not found or found[0][1] < WEIGHTS.clear_match):
                found += self._misread_matches(unit)
        if context is not None and len(unit) >= 4:
            found += context.names_near(unit)
        return found

    def _misread_matches(self, unit: str) -> list[_TermMatch]:
        """Terms near what OCR may have misread as ``unit``, a little below a direct match
        (the misreading is a guess)."""
        return [
            (term, sim - WEIGHTS.ocr_penalty, where)
            for reading in _ocr_readings(unit)
            for term, sim, where in self._similar_terms(reading)
        ]

    def _candidate_entries(self, term_sim: dict[str, _TermSim]) -> dict[int, None]:
        """The entries of the closest terms, in order: a long tail of 60-ish lookalikes costs
        time and never wins."""
        ranked = sorted(term_sim.values(), key=lambda v: -v[0])[: WEIGHTS.max_terms_total]
        floor = ranked[0][0] - WEIGHTS.term_spread if ranked else 0.0
        candidates: dict[int, None] = {}
        for sim, _positions, where in ranked:
            if sim < floor:
                break
            candidates.update(dict.fromkeys(self._entries(where)))
        return candidates

    def _entry_score(
        self,
        entry: int,
        words: list[str],
        term_sim: dict[str, _TermSim],
        context: _LetterContext | None,
    ) -> tuple[float, int]:
        """(score, first query word it accounts for) of one entry."""
        match_key = self._t.keys[entry]
        fit, covered = _word_fit(match_key, words, term_sim)
        whole = term_sim.get(match_key.replace(" ", ""))
        if whole and whole[0] >= fit:
            fit = whole[0]
            covered = set(whole[1]) if whole[0] >= WEIGHTS.cover_cutoff else covered
        share = WEIGHTS.coverage_floor
        score = fit * (share + (1 - share) * len(covered) / len(words))
        if context is not None and entry in context.entries and fit >= WEIGHTS.letter_fit:
            score += WEIGHTS.letter_boost
        return min(score, 100.0), min(covered, default=len(words))

    def _common(self, entry: int) -> bool:
        """A drug in everyday US use (it has a MedlinePlus page) or a curated product."""
        return self._t.origin(entry) != "dictionary" or "medline_plus_id" in self._t.ids(entry)

    def _candidate(self, entry: int, score: float, in_letter: bool) -> Candidate:
        return Candidate(
            name=self._t.names[entry],
            score=round(score, 2),
            generics=list(self._t.generics(entry)),
            origin=self._t.origin(entry),
            ids=dict(self._t.ids(entry)),
            source=self._t.source(entry),
            in_letter=in_letter,
        )

    def suggest(
        self, query: str, letter_text: str | None = None, limit: int = 10
    ) -> list[Candidate]:
        """Ranked candidates for a drug name as a letter or an annotator wrote it.

        Strength, form, count and route words do not take part in the match; a name learned
        for this spelling comes first, then names the letter uses elsewhere when they fit."""
        # A pasted paragraph is not a drug name: its first words decide, in bounded time.
        words = name_tokens(query)[: WEIGHTS.max_query_words]
        if not words or limit <= 0:
            return []
        with self._lock:
            return self._suggest(query, words, letter_text, limit)

    def _suggest(
        self, query: str, words: list[str], letter_text: str | None, limit: int
    ) -> list[Candidate]:
        context = self._letter(letter_text)
        scores = self._score(words, context)
        weigh = self._weigher(query, words)
        learned = " ".join(words) in self._learned or "".join(words) in self._learned

        def rank(item: tuple[int, tuple[float, int]]) -> tuple[float, ...]:
            entry, (score, first) = item
            origin = self._t.origin(entry)
            return (
                0 if learned and origin == "learned" and score >= 100 else 1,
                -round(weigh(entry, score), 4),
                first,
                ORIGIN_RANK[origin],
                len(self._t.keys[entry]),
                entry,
            )

        out: list[Candidate] = []
        if len(words) > 1 and (combined := self._combination(query)) is not None:
            out.append(combined)
        extra = self._letter_words(words, context, limit) if context is not None else []
        ordered = _best_few(scores, 4 * limit)  # only they need the full ranking key
        main_names = self._main_names(ordered)
        seen: set[tuple[str, object]] = set()
        for entry, (score, _first) in sorted(ordered, key=rank):
            if len(out) >= limit:
                break
            while extra and extra[0].score > weigh(entry, score):
                out.append(extra.pop(0))
            shown_entry = self._distinct(entry, score, main_names, seen)
            if shown_entry is not None:
                # 100 says the name was written exactly: tie-breakers never claim it for a typo.
                shown = max(0.0, min(100.0 if score >= 100 else 99.0, weigh(entry, score)))
                in_letter = context is not None and shown_entry in context.entries
                out.append(self._candidate(shown_entry, shown, in_letter))
        out.extend(extra)
        return out[:limit]

    def _weigher(self, query: str, words: list[str]) -> Callable[[int, float], float]:
        """A score with the tie-breakers that make one spelling likelier than another: a main
        name, a drug in everyday use, one real letters name, forms that agree with the
        query's."""
        raw_words = {form_word(t) or t for t in tokens(query)}
        # The prior settles which name one misspelt word means; in a longer query the order
        # the names are written in says more (a compound's first ingredient first).
        prior = _prior() if len(words) == 1 else {}

        def weigh(entry: int, score: float) -> float:
            name = self._t.names[entry]
            return (
                score
                + WEIGHTS.preferred_bonus * self._t.preferred[entry]
                + WEIGHTS.common_bonus * self._common(entry)
                # Only between inexact readings: an exact name needs no prior to win.
                + (prior.get(fold(name), 0.0) if score < 100 else 0.0)
                + WEIGHTS.form_weight * _form_fit(tokens(name), raw_words)
            )

        return weigh

    def _main_names(
        self, ordered: list[tuple[int, tuple[float, int]]]
    ) -> dict[tuple[str, ...], tuple[float, int]]:
        """Ingredients -> (score, entry) of the best-scoring main name of a dictionary drug."""
        main_names: dict[tuple[str, ...], tuple[float, int]] = {}
        for entry, (score, _first) in ordered:
            if self._t.preferred[entry] and self._t.origin(entry) == "dictionary":
                generics = self._t.generics(entry)
                if generics not in main_names or main_names[generics][0] < score:
                    main_names[generics] = (score, entry)
        return main_names

    def _distinct(
        self,
        entry: int,
        score: float,
        main_names: dict[tuple[str, ...], tuple[float, int]],
        seen: set[tuple[str, object]],
    ) -> int | None:
        """The entry to show for ``entry`` (its main name for a near foreign synonym), or None
        when an earlier suggestion already stands for it: every spelling of a dictionary drug
        is the same suggestion; distinct products with the same ingredients (Medrox,
        Medi-Derm) are not."""
        generics = self._t.generics(entry)
        origin = self._t.origin(entry)
        by_name = ("n", fold(self._t.names[entry]))
        marker = ("g", generics) if origin == "dictionary" else by_name
        if marker in seen or by_name in seen:
            return None
        seen.update((marker, by_name))
        if origin == "dictionary" and not self._t.preferred[entry] and score < 100:
            # A damaged "Tizaniclinc" is as near the foreign spelling "Tizanidin" as the name
            # people write; show the latter.
            near = main_names.get(generics)
            if near is not None and near[0] >= score - WEIGHTS.synonym_slack:
                entry = near[1]
                seen.add(("n", fold(self._t.names[entry])))
        return entry

    def _letter_words(
        self, words: list[str], context: _LetterContext, room: int
    ) -> list[Candidate]:
        """Words of the letter the lexicon does not know that resemble the query: a product
        the letter names, offered as written, with no known ingredients."""
        query = "".join(words)
        out: list[Candidate] = []
        for word, score, _ in process.extract(
            query,
            context.words,
            scorer=fuzz.ratio,
            limit=room + 3,
            score_cutoff=WEIGHTS.word_cutoff,
        ):
            if word == query or self._t.exact(word) or self._t.compact(word):
                continue
            out.append(
                Candidate(
                    name=word[:1].upper() + word[1:],
                    score=round(score, 2),
                    origin="letter",
                    in_letter=True,
                )
            )
            if len(out) >= room:
                break
        return out

    # -- normalization ------------------------------------------------------------------------

    def generic_ingredients(self, request: str, letter_text: str | None = None) -> list[str]:
        """Sorted lowercase generic ingredients of an item request; [] when none is known.

        Names are read left to right, longest known spelling first; a word no spelling
        explains is given a misspelling's benefit of the doubt only sparingly (see
        ``_fuzzy_generics``)."""
        with self._lock:
            return self._generic_ingredients(request, letter_text)

    def read_drugs(self, text: str) -> tuple[list[str], list[str]]:
        """(generic ingredients of the names ``text`` spells exactly, words none explains): how
        a drug typed by hand is resolved, with no guess at a misspelling."""
        with self._lock:
            found, unknown = self._read_names(text)
        return sorted(found), unknown

    def _generic_ingredients(self, request: str, letter_text: str | None) -> list[str]:
        found, unknown = self._read_names(request)
        capitalized = {fold(w) for w in _CAPITALIZED.findall(request)}
        if request.isupper():
            capitalized = set(unknown)
        for word in unknown:
            found.update(self._fuzzy_generics(word, word in capitalized, letter_text))
        return sorted(found)

    def _read_names(self, request: str) -> tuple[set[str], list[str]]:
        """The generics of the names a request spells exactly (left to right, longest
        spelling first), and the words no spelling explains."""
        hit = self._read.get(request)
        if hit is None:
            entries, unknown = self._spelled_names(request)
            generics = frozenset(g for entry in entries for g in self._t.generics(entry))
            hit = (generics, tuple(unknown))
            if len(self._read) >= _MAX_READ_CACHE:
                self._read.clear()
            self._read[request] = hit
        return set(hit[0]), list(hit[1])

    def _spelled_names(self, request: str) -> tuple[list[int], list[str]]:
        words = name_tokens(request)
        raw_words = [form_word(t) or t for t in tokens(request)]
        spelled: list[int] = []
        unknown: list[str] = []
        exact_index, compact_index = self._t.exact_index, self._t.compact_index
        i = 0
        while i < len(words):
            step = 0
            for n in range(min(6, len(words) - i), 0, -1):
                if n == 1 and len(words[i]) < 2:
                    break
                span = words[i : i + n]
                # Most word runs spell nothing: two dictionary probes before any list is built.
                if " ".join(span) not in exact_index and "".join(span) not in compact_index:
                    continue
                entries = self._exact_entries(span, raw_words)
                if entries:
                    spelled.append(entries[0])
                    step = n
                    break
            if step:
                i += step
            else:
                unknown.append(words[i])
                i += 1
        return spelled, unknown

    def spelled_entries(self, text: str) -> list[int]:
        """The entries whose names ``text`` spells exactly, left to right."""
        with self._lock:
            return self._spelled_names(text)[0]

    def name_of(self, entry: int) -> str:
        return self._t.names[entry]

    def _combination(self, query: str) -> Candidate | None:
        """One candidate for a compound written as its ingredients ("Flurbiprofen 20%,
        Baclofen 5%, Menthol 2%"): every name spelled in it, so one choice fills them all."""
        spelled, _unknown = self._spelled_names(query)
        parts: list[int] = []
        for entry in spelled:
            if self._t.generics(entry) and all(
                self._t.generics(entry) != self._t.generics(e) for e in parts
            ):
                parts.append(entry)
        if len(parts) < 2:
            return None
        generics = sorted({g for e in parts for g in self._t.generics(e)})
        origins = {self._t.origin(e) for e in parts}
        origin: Origin = "dictionary" if origins == {"dictionary"} else "supplement"
        return Candidate(
            name=" + ".join(self._t.names[e] for e in parts),
            score=100.0,
            generics=generics,
            origin=origin,
            source="the names this query spells, together",
        )

    def learn_from_items(
        self, items: Iterable[tuple[str, Iterable[str]]], letter_text: str | None = None
    ) -> list[tuple[str, list[str]]]:
        """Learn from a saved gold record's (request, drugs) pairs where the person's drugs
        differ from what the lexicon reads: a request with a single unknown name word
        ("Cyclopean 5% PLO gel" -> cyclobenzaprine) teaches that word those ingredients, so
        the next letter that writes it is normalized and suggested right. Returns what was
        learned; requests it cannot attribute safely teach nothing."""
        learned: list[tuple[str, list[str]]] = []
        for request, drugs in items:
            wanted = sorted({fold(d).strip() for d in drugs if d and d.strip()})
            if not wanted or self.generic_ingredients(request, letter_text) == wanted:
                continue
            with self._lock:
                known, unknown = self._read_names(request)
            names = [w for w in unknown if w.isalpha() and len(w) >= 4]
            if len(names) != 1 or not known <= set(wanted):
                continue
            rest = [g for g in wanted if g not in known] or wanted
            match = re.search(re.escape(names[0]), fold(request))
            alias = request[match.start() : match.end()] if match else names[0]
            self.learn_generics(alias, rest)
            learned.append((alias, rest))
        return learned

    def _near_names(self, word: str) -> tuple[int, ...]:
        """Entries whose whole name is near ``word`` in the lexicon, letter aside; the same
        misspelling recurs across a batch of letters, so each is searched once."""
        hit = self._near.get(word)
        if hit is None:
            near: dict[int, None] = {}
            for term, sim, where in self._similar_terms(word):
                if sim >= WEIGHTS.normalize_letter_cutoff - 10:
                    near.update(
                        dict.fromkeys(e for e in self._entries(where) if self._t.keys[e] == term)
                    )
            hit = tuple(near)
            if len(self._near) >= _MAX_READ_CACHE:
                self._near.clear()
            self._near[word] = hit
        return hit

    def _fuzzy_generics(
        self, word: str, capitalized: bool, letter_text: str | None
    ) -> tuple[str, ...]:
        """A misspelt name's ingredients, only when the match is beyond reasonable doubt: a
        close name the letter itself uses elsewhere, or (for a capitalized word, as drug
        names are written) a near-identical one. A wrong drug in gold is worse than none."""
        learned = self._learned.get(word)
        if learned:
            resolved = self.resolve(learned)
            return resolved[1] if resolved else ()
        if len(word) < 5 or not word.isalpha():
            return ()
        context = self._letter(letter_text)
        # Only whole one-word names this close can pass below, so the direct lookups suffice
        # (no OCR readings, no joined words): this runs for every unknown word of a request.
        near = dict.fromkeys(self._near_names(word))
        if context is not None:
            # Only one-word names can pass below, so the letter's one-word names suffice.
            near.update(
                dict.fromkeys(context.one_word_names_near(word, WEIGHTS.normalize_letter_cutoff))
            )
        best = None
        for entry in near:
            if " " in self._t.keys[entry]:
                continue
            sim = fuzz.ratio(word, self._t.keys[entry])
            in_letter = context is not None and context.names_one_word(entry)
            if in_letter:
                ok = sim >= WEIGHTS.normalize_letter_cutoff
            else:
                cutoff = (
                    WEIGHTS.normalize_cutoff if context is None else WEIGHTS.normalize_strict_cutoff
                )
                ok = capitalized and sim >= cutoff
            if not ok:
                continue
            rank = (in_letter, sim, -ORIGIN_RANK[self._t.origin(entry)])
            if best is None or rank > best[0]:
                best = (rank, entry)
        return self._t.generics(best[1]) if best else ()


_default: Lexicon | None = None
_default_lock = threading.Lock()


def default_lexicon() -> Lexicon:
    """The process-wide lexicon (dictionary + supplement + user supplement + learned names)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Lexicon()
        return _default


def reset_default_lexicon() -> None:
    """Forget the process-wide lexicon (tests that change its files or environment)."""
    global _default
    with _default_lock:
        _default = None


def generic_ingredients(request: str, letter_text: str | None = None) -> list[str]:
    """An item request's sorted lowercase generic active ingredients, salts dropped; [] when
    the item is not a drug or the product is unknown (docs/gold-record.md, GOLD_CONVENTIONS.md)."""
    return default_lexicon().generic_ingredients(request, letter_text)


__all__ = [
    "Candidate",
    "Lexicon",
    "default_lexicon",
    "generic_ingredients",
    "learned_path",
    "product_generics",
    "reset_default_lexicon",
    "user_supplement_path",
]
