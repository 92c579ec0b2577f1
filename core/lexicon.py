"""The drug lexicon: names a letter may use for a drug, ranked suggestions, and normalization.

Names come from drug-named-entity-recognition's dictionary (brands, synonyms, canonical generics,
DrugBank/MedlinePlus/MeSH ids), a curated supplement shipped in ``core/data`` (workers'
compensation compounded creams and kits, medical foods, brands the dictionary lacks), the user's
own supplement, and aliases learned from annotators' corrections.

Matching works on a request's *name words* (``core.lexicon_text``): strengths, forms, counts and
routes are dropped first. Fuzzy matching counts shared trigrams over the distinct words of all
names to find a few hundred candidates, then scores only those with rapidfuzz, which keeps a
query in the low milliseconds over the whole dictionary.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process

from core.lexicon_build import (
    ORIGIN_RANK,
    SUPPLEMENT_PATH,
    Tables,
    add_products,
    dictionary_path,
    entry_terms,
    grams,
    load_supplement,
    load_tables,
    product_generics,
)
from core.lexicon_text import compact, fold, name_tokens, tokens

Origin = Literal["dictionary", "supplement", "learned", "letter"]

APP = "imrgold"
USER_SUPPLEMENT_FILE = "drug_supplement.json"
LEARNED_FILE = "learned_drugs.json"

# How far a fuzzy term may be from a query word, and how many candidates a word may bring.
_TERM_CUTOFF = 62.0
_MAX_TERMS = 40
_MAX_ENTRIES_PER_TERM = 60
_LETTER_BOOST = 12.0
# generic_ingredients accepts a fuzzy name only when it is this close (or closer, given the
# letter names it elsewhere): a wrong drug in a gold record is worse than none.
_NORMALIZE_CUTOFF = 92.0
_NORMALIZE_STRICT_CUTOFF = 95.0
_NORMALIZE_LETTER_CUTOFF = 78.0
_CAPITALIZED = re.compile(r"\b[A-Z][A-Za-z]+")


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


def _user_data_dir() -> Path:
    env = os.environ.get("IMRGOLD_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def _user_cache_dir() -> Path:
    env = os.environ.get("IMRGOLD_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def user_supplement_path() -> Path:
    return _user_data_dir() / USER_SUPPLEMENT_FILE


def learned_path() -> Path:
    return _user_data_dir() / LEARNED_FILE


def _write_private(path: Path, payload: object) -> None:
    """Write JSON readable by its owner only (it records what annotators typed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    os.chmod(partial, 0o600)
    os.replace(partial, path)


class _LetterContext:
    """What a letter offers: the lexicon entries it names and its other words."""

    def __init__(self, entries: set[int], words: list[str]) -> None:
        self.entries = entries
        self.words = words


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
        cache = (cache_dir or _user_cache_dir()) if use_cache else None
        self._t: Tables = load_tables(self.dictionary, supplement, cache)
        self._postings = np.frombuffer(self._t.gram_postings, dtype=np.int32)
        self._n_base = len(self._t.names)
        self._lock = threading.Lock()
        # Entries added after the cached build (user supplement, learned aliases) are few:
        # they are searched by brute force beside the trigram index.
        self._extra_terms: list[str] = []
        self._extra_term_entries: list[list[int]] = []
        self._learned: dict[str, str] = {}
        self._letters: dict[int, tuple[str, _LetterContext]] = {}
        self._load_user_supplement()
        self._load_learned()

    # -- loading -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._t.names)

    def _add_extra(self, index: int | None) -> None:
        if index is None:
            return
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
        except (OSError, ValueError):
            return
        before = len(self._t.names)
        add_products(self._t, products, "supplement")
        for index in range(before, len(self._t.names)):
            # The user's own products come before the shipped ones for the same name.
            for table in (self._t.exact, self._t.compact_exact):
                for ids in table.values():
                    if ids and ids[-1] == index:
                        ids.insert(0, ids.pop())
            self._add_extra(index)

    def _load_learned(self) -> None:
        path = self.learned_file
        if path is None or not path.exists():
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        for alias, name in (data.get("aliases", {}) if isinstance(data, dict) else {}).items():
            if isinstance(alias, str) and isinstance(name, str):
                self._remember(alias, name)

    # -- learning and adding ------------------------------------------------------------------

    def resolve(self, name: str) -> tuple[str, tuple[str, ...], dict[str, str]] | None:
        """The best entry written exactly as ``name`` (display name, generics, ids)."""
        found = self._exact_entries(" ".join(name_tokens(name)), name)
        if not found:
            return None
        index = found[0]
        return self._t.names[index], self._t.generics[index], self._t.ids[index]

    def _remember(self, alias: str, name: str) -> int | None:
        alias_key = " ".join(name_tokens(alias))
        if not alias_key:
            return None
        self._learned[alias_key] = name
        self._learned[alias_key.replace(" ", "")] = name
        known = self.resolve(name)
        display, generics, ids = known if known else (name, (), {})
        index = self._t.add(alias, generics, "learned", ids, f"learned: {alias} -> {display}")
        if index is None:
            return None
        self._t.names[index] = display
        for table in (self._t.exact, self._t.compact_exact):
            for entries in table.values():
                if entries and entries[-1] == index:
                    entries.insert(0, entries.pop())
        self._add_extra(index)
        return index

    def learn(self, alias: str, name: str) -> None:
        """Remember that ``alias`` (as a letter wrote it) means ``name``; persisted at once."""
        if not alias.strip() or not name.strip():
            raise ValueError("alias and name must not be empty")
        with self._lock:
            self._remember(alias, name)
            path = self.learned_file
            data: dict[str, dict[str, str]] = {"aliases": {}}
            if path.exists():
                try:
                    loaded = json.loads(path.read_text(encoding="utf-8"))
                    if isinstance(loaded, dict) and isinstance(loaded.get("aliases"), dict):
                        data = loaded
                except (OSError, ValueError):
                    pass
            data["aliases"][alias.strip()] = name.strip()
            _write_private(path, data)

    def add_product(
        self, name: str, generics: Iterable[str], source: str, aliases: Iterable[str] = ()
    ) -> None:
        """Add a product to the user's own supplement (persisted, owner-only)."""
        product = {
            "name": name.strip(),
            "aliases": [a.strip() for a in aliases if a.strip()],
            "generics": sorted({fold(g).strip() for g in generics if g.strip()}),
            "source": source.strip(),
        }
        if not product["name"] or not product["generics"]:
            raise ValueError("a product needs a name and at least one generic ingredient")
        with self._lock:
            path = self.user_supplement
            products: list[dict[str, object]] = []
            if path.exists():
                products = [
                    p for p in load_supplement(path) if fold(str(p["name"])) != fold(name)
                ]
            products.append(product)
            _write_private(path, {"products": products})
            before = len(self._t.names)
            add_products(self._t, [product], "supplement")
            for index in range(before, len(self._t.names)):
                for table in (self._t.exact, self._t.compact_exact):
                    for entries in table.values():
                        if entries and entries[-1] == index:
                            entries.insert(0, entries.pop())
                self._add_extra(index)

    # -- letter context -----------------------------------------------------------------------

    def _letter(self, letter_text: str | None) -> _LetterContext | None:
        if not letter_text:
            return None
        key = hash(letter_text)
        hit = self._letters.get(key)
        if hit is not None and hit[0] == letter_text:
            return hit[1]
        words = name_tokens(letter_text)
        entries: set[int] = set()
        for n in (1, 2, 3):
            for i in range(len(words) - n + 1):
                found = self._t.exact.get(" ".join(words[i : i + n]))
                if found:
                    entries.update(found)
        distinct = sorted({w for w in words if len(w) >= 4 and w.isalpha()})
        context = _LetterContext(entries, distinct)
        if len(self._letters) > 16:
            self._letters.clear()
        self._letters[key] = (letter_text, context)
        return context

    # -- matching -----------------------------------------------------------------------------

    def _exact_entries(self, match_key: str, raw: str = "") -> list[int]:
        found = list(self._t.exact.get(match_key, ()))
        for index in self._t.compact_exact.get(match_key.replace(" ", ""), ()):
            if index not in found:
                found.append(index)
        if len(found) > 1 and raw:
            # "Terocin patch" and "Terocin" (the lotion) share a key once forms are dropped:
            # prefer the entry whose own words the request repeats.
            raw_words = set(tokens(raw))
            found.sort(
                key=lambda i: (
                    -len(set(self._t.raw_keys[i].split()) & raw_words)
                    + len(set(self._t.raw_keys[i].split()) - raw_words),
                    ORIGIN_RANK[self._t.origins[i]],
                )
            )
        return found

    def _similar_terms(self, unit: str) -> list[tuple[str, float, list[int]]]:
        """Terms near ``unit``: (term, similarity, entries), best first."""
        out: list[tuple[str, float, list[int]]] = []
        t = self._t
        chunks = [
            self._postings[span[0] : span[1]]
            for g in set(grams(unit))
            if (span := t.gram_offsets.get(g)) is not None
        ]
        if chunks:
            slots, counts = np.unique(np.concatenate(chunks), return_counts=True)
            need = max(1, min(3, len(unit) // 3))
            keep = counts >= need
            slots, counts = slots[keep], counts[keep]
            if len(slots) > 400:
                top = np.argpartition(-counts, 400)[:400]
                slots = slots[top]
            names = [t.terms[s] for s in slots.tolist()]
            found = process.extract(
                unit, names, scorer=fuzz.ratio, limit=_MAX_TERMS, score_cutoff=_TERM_CUTOFF
            )
            out = [(term, score, t.term_entries[slots[pos]]) for term, score, pos in found]
        if self._extra_terms:
            for term, score, pos in process.extract(
                unit, self._extra_terms, scorer=fuzz.ratio, limit=10, score_cutoff=_TERM_CUTOFF
            ):
                out.append((term, score, self._extra_term_entries[pos]))
        out.sort(key=lambda x: -x[1])
        return out

    def _units(self, words: list[str]) -> list[tuple[str, frozenset[int]]]:
        """What is looked up for a query's words: each word, and adjacent words joined
        (OCR splits names: "Medi derm", "cyclo benzaprine")."""
        units = [(w, frozenset({i})) for i, w in enumerate(words)]
        for n in (2, 3):
            for i in range(len(words) - n + 1):
                units.append(("".join(words[i : i + n]), frozenset(range(i, i + n))))
        return units

    def _score(
        self, words: list[str], context: _LetterContext | None
    ) -> dict[int, tuple[float, float]]:
        """Entry -> (score, coverage) for the query words."""
        if not words:
            return {}
        weights = [max(len(w), 2) for w in words]
        total = float(sum(weights))
        # term -> best (similarity, positions covered)
        term_sim: dict[str, tuple[float, frozenset[int]]] = {}
        candidates: dict[int, None] = {}
        for unit, positions in self._units(words):
            if len(unit) < 3 and len(words) > 1:
                continue
            exact = self._t.exact.get(unit)
            found = self._similar_terms(unit) if len(unit) >= 3 else []
            if exact and not any(term == unit for term, _, _ in found):
                found.insert(0, (unit, 100.0, exact))
            for term, sim, entries in found:
                best = term_sim.get(term)
                if best is None or (sim, len(positions)) > (best[0], len(best[1])):
                    term_sim[term] = (sim, positions)
                for entry in entries[:_MAX_ENTRIES_PER_TERM]:
                    candidates[entry] = None
        scores: dict[int, tuple[float, float]] = {}
        for entry in candidates:
            match_key = self._t.keys[entry]
            entry_words = [w for w in match_key.split() if len(w) >= 3] or match_key.split()
            covered: set[int] = set()
            sims = []
            for w in entry_words:
                hit = term_sim.get(w)
                sims.append(hit[0] if hit else 0.0)
                if hit and hit[0] >= 75:
                    covered |= hit[1]
            fit = sum(sims) / len(sims)
            whole = term_sim.get(match_key.replace(" ", ""))
            if whole and whole[0] >= fit:
                fit = whole[0]
                covered = set(whole[1]) if whole[0] >= 75 else covered
            coverage = sum(weights[i] for i in covered) / total
            score = fit * (0.8 + 0.2 * coverage)
            if context is not None and entry in context.entries and fit >= 70:
                score += _LETTER_BOOST
            scores[entry] = (min(score, 100.0), coverage)
        return scores

    def suggest(
        self, query: str, letter_text: str | None = None, limit: int = 10
    ) -> list[Candidate]:
        """Ranked candidates for a drug name as a letter or an annotator wrote it."""
        words = name_tokens(query)
        if not words or limit <= 0:
            return []
        context = self._letter(letter_text)
        scores = self._score(words, context)
        learned_name = self._learned.get(" ".join(words)) or self._learned.get("".join(words))
        ranked = sorted(
            scores.items(),
            key=lambda kv: (
                -round(kv[1][0], 6),
                ORIGIN_RANK[self._t.origins[kv[0]]],
                len(self._t.keys[kv[0]]),
                kv[0],
            ),
        )
        out: list[Candidate] = []
        seen: set[tuple[str, tuple[str, ...]]] = set()
        if learned_name:
            resolved = self.resolve(learned_name)
            display, generics, ids = resolved if resolved else (learned_name, (), {})
            out.append(
                Candidate(
                    name=display,
                    score=100.0,
                    generics=list(generics),
                    origin="learned",
                    ids=dict(ids),
                    in_letter=bool(context and fold(display) in fold(letter_text or "")),
                )
            )
            seen.add((fold(display), tuple(generics)))
        for entry, (score, _coverage) in ranked:
            if len(out) >= limit:
                break
            name = self._t.names[entry]
            marker = (fold(name), self._t.generics[entry])
            if marker in seen:
                continue
            seen.add(marker)
            out.append(
                Candidate(
                    name=name,
                    score=round(score, 2),
                    generics=list(self._t.generics[entry]),
                    origin=self._t.origins[entry],  # type: ignore[arg-type]
                    ids=dict(self._t.ids[entry]),
                    source=self._t.sources[entry],
                    in_letter=bool(context and entry in context.entries),
                )
            )
        if context is not None and len(out) < limit:
            out.extend(self._letter_words(words, context, out, limit - len(out)))
        return out

    def _letter_words(
        self, words: list[str], context: _LetterContext, have: list[Candidate], room: int
    ) -> list[Candidate]:
        """Words of the letter the lexicon does not know that resemble the query: a product
        the letter names, offered as written, with no known ingredients."""
        query = "".join(words)
        known = {compact(c.name) for c in have}
        out: list[Candidate] = []
        for word, score, _ in process.extract(
            query, context.words, scorer=fuzz.ratio, limit=room + 3, score_cutoff=80
        ):
            if word == query or word in known or word in self._t.exact:
                continue
            out.append(
                Candidate(
                    name=word[:1].upper() + word[1:],
                    score=round(score * 0.85, 2),
                    origin="letter",
                    in_letter=True,
                )
            )
            if len(out) >= room:
                break
        return out

    # -- normalization ------------------------------------------------------------------------

    def generic_ingredients(self, request: str, letter_text: str | None = None) -> list[str]:
        """Sorted lowercase generic ingredients of an item request; [] when none is known."""
        words = name_tokens(request)
        capitalized = {fold(w) for w in _CAPITALIZED.findall(request)}
        if request.isupper():
            capitalized = set(words)
        found: set[str] = set()
        i = 0
        while i < len(words):
            step = 0
            for n in range(min(6, len(words) - i), 0, -1):
                if n == 1 and len(words[i]) < 2:
                    break
                entries = self._exact_entries(" ".join(words[i : i + n]), request)
                if entries:
                    found.update(self._t.generics[entries[0]])
                    step = n
                    break
            if step:
                i += step
                continue
            found.update(self._fuzzy_generics(words[i], words[i] in capitalized, letter_text))
            i += 1
        return sorted(found)

    def _fuzzy_generics(
        self, word: str, capitalized: bool, letter_text: str | None
    ) -> tuple[str, ...]:
        """A misspelt name's ingredients, only when the match is beyond reasonable doubt: a
        near-identical name the letter itself uses elsewhere, or (for a capitalized word,
        as drug names are written) a very close one."""
        learned = self._learned.get(word)
        if learned:
            resolved = self.resolve(learned)
            return resolved[1] if resolved else ()
        if len(word) < 5 or not word.isalpha():
            return ()
        context = self._letter(letter_text)
        best = None
        for entry in self._score([word], context):
            if " " in self._t.keys[entry]:
                continue
            sim = fuzz.ratio(word, self._t.keys[entry])
            in_letter = context is not None and entry in context.entries
            if in_letter:
                ok = sim >= _NORMALIZE_LETTER_CUTOFF
            else:
                ok = capitalized and sim >= (
                    _NORMALIZE_CUTOFF if context is None else _NORMALIZE_STRICT_CUTOFF
                )
            if not ok:
                continue
            rank = (in_letter, sim, -ORIGIN_RANK[self._t.origins[entry]])
            if best is None or rank > best[0]:
                best = (rank, entry)
        return self._t.generics[best[1]] if best else ()


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
    the item is not a drug or the product is unknown (SPEC.md, GOLD_CONVENTIONS.md)."""
    return default_lexicon().generic_ingredients(request, letter_text)


@functools.cache
def supplement_products() -> tuple[dict[str, object], ...]:
    """The shipped supplement's products (for documentation and the CLI)."""
    return tuple(load_supplement(SUPPLEMENT_PATH))


__all__ = [
    "Candidate",
    "Lexicon",
    "default_lexicon",
    "generic_ingredients",
    "learned_path",
    "product_generics",
    "reset_default_lexicon",
    "supplement_products",
    "user_supplement_path",
]
