"""Building the lexicon's tables from the drug dictionary and the curated supplement.

The dictionary is drug-named-entity-recognition's shipped data file (read directly: importing
that package loads it eagerly and wires up network helpers we must never call). Building takes
about a second, so the finished tables are pickled to the user's cache folder, keyed by the
inputs' identity, and later loads only unpickle them.
"""

from __future__ import annotations

import bz2
import hashlib
import importlib.util
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.lexicon_text import compact, fold, name_tokens, split_components, strip_salts, tokens

BUILD_VERSION = "lexicon-3"
DICTIONARY_FILE = "drug_ner_dictionary.pkl.bz2"
SUPPLEMENT_PATH = Path(__file__).resolve().parent / "data" / "drug_supplement.json"

ORIGIN_RANK = {"learned": 0, "supplement": 1, "dictionary": 2, "letter": 3}

# MeSH tree roots of proteins, enzymes, nucleic acids, biological factors and pharmacologic
# classes: names under only these roots are not products an IMR letter requests.
_NON_PRODUCT_MESH = ("D05", "D08", "D12", "D13", "D23", "D27")


@dataclass
class Tables:
    """Parallel per-entry lists plus the lookup indexes; everything here pickles."""

    names: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    raw_keys: list[str] = field(default_factory=list)
    generics: list[tuple[str, ...]] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    ids: list[dict[str, str]] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)
    exact: dict[str, list[int]] = field(default_factory=dict)
    compact_exact: dict[str, list[int]] = field(default_factory=dict)
    terms: list[str] = field(default_factory=list)
    term_entries: list[list[int]] = field(default_factory=list)
    gram_offsets: dict[str, tuple[int, int]] = field(default_factory=dict)
    gram_postings: bytes = b""

    def add(
        self,
        name: str,
        generics: tuple[str, ...],
        origin: str,
        ids: dict[str, str] | None = None,
        source: str | None = None,
    ) -> int | None:
        match_key = " ".join(name_tokens(name))
        if not match_key:
            return None
        index = len(self.names)
        self.names.append(name)
        self.keys.append(match_key)
        self.raw_keys.append(" ".join(tokens(name)))
        self.generics.append(generics)
        self.origins.append(origin)
        self.ids.append(ids or {})
        self.sources.append(source)
        self.exact.setdefault(match_key, []).append(index)
        joined = match_key.replace(" ", "")
        if joined != match_key:
            self.compact_exact.setdefault(joined, []).append(index)
        return index


def dictionary_path() -> Path:
    """The data file shipped inside drug-named-entity-recognition (found without importing it)."""
    env = os.environ.get("IMRGOLD_DRUG_DICTIONARY")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("drug-named-entity-recognition is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / DICTIONARY_FILE


def _keep_canonical(data: dict[str, Any]) -> bool:
    if data.get("drugbank_id") or data.get("medline_plus_id"):
        return True
    trees = data.get("mesh_tree") or []
    if not trees:
        return True
    return any(not t.startswith(_NON_PRODUCT_MESH) for t in trees)


def _ids(data: dict[str, Any]) -> dict[str, str]:
    keep = ("drugbank_id", "medline_plus_id", "mesh_id")
    return {k: str(data[k]) for k in keep if data.get(k)}


def _canonical_generics(
    canonical: str, variant_to_canonical: dict[str, list[str]]
) -> tuple[str, ...]:
    """Ingredients of a canonical name, each brought to its own canonical ("paracetamol" ->
    "acetaminophen") when the dictionary knows it as a single-ingredient drug."""
    out: set[str] = set()
    for part in split_components(canonical):
        target = variant_to_canonical.get(part)
        if target and len(target) == 1:
            resolved = split_components(target[0])
            if len(resolved) == 1:
                part = resolved[0]
        out.add(strip_salts(part))
    return tuple(sorted(out))


def _display(variant: str, canonical: str, data: dict[str, Any], is_brand: bool) -> str:
    if variant == canonical and data.get("name"):
        return str(data["name"])
    if is_brand:
        return " ".join(w[:1].upper() + w[1:] for w in variant.split(" "))
    return variant[:1].upper() + variant[1:]


def load_supplement(path: Path) -> list[dict[str, Any]]:
    """Products of a supplement file: ``{"products": [{name, aliases, generics, source}]}``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    products = data.get("products", data) if isinstance(data, dict) else data
    return [p for p in products if isinstance(p, dict) and p.get("name")]


def product_generics(product: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({strip_salts(fold(g).strip()) for g in product.get("generics", []) if g}))


def add_products(tables: Tables, products: list[dict[str, Any]], origin: str) -> None:
    for product in products:
        generics = product_generics(product)
        source = product.get("source")
        ids = {k: str(v) for k, v in (product.get("ids") or {}).items()}
        for name in [product["name"], *product.get("aliases", [])]:
            tables.add(name, generics, origin, ids, source)


def build_tables(dictionary: Path, supplement: Path | None) -> Tables:
    tables = Tables()
    # The supplement goes in first: for the same key its entry is found before the
    # dictionary's ("methylsulfonylmethane" stays itself rather than "dimethyl sulfone").
    if supplement is not None and supplement.exists():
        add_products(tables, load_supplement(supplement), "supplement")
    with bz2.open(dictionary, "rb") as handle:
        raw = pickle.load(handle)
    v2c: dict[str, list[str]] = raw["drug_variant_to_canonical"]
    c2d: dict[str, dict[str, Any]] = raw["drug_canonical_to_data"]
    vdata: dict[str, dict[str, Any]] = raw.get("drug_variant_to_variant_data", {})
    kept = {c: d for c, d in c2d.items() if _keep_canonical(d)}
    generics_of = {c: _canonical_generics(c, v2c) for c in kept}
    seen: set[tuple[str, tuple[str, ...]]] = set()

    def add(variant: str, canonical: str) -> None:
        data = kept[canonical]
        generics = generics_of[canonical]
        if not generics:
            return
        marker = (" ".join(name_tokens(variant)), generics)
        if marker in seen:
            return
        seen.add(marker)
        is_brand = bool(vdata.get(variant, {}).get("is_brand"))
        tables.add(_display(variant, canonical, data, is_brand), generics, "dictionary", _ids(data))

    for canonical in kept:
        add(canonical, canonical)
    for variant, canonicals in v2c.items():
        for canonical in canonicals:
            if canonical in kept:
                add(variant, canonical)
    index_terms(tables)
    return tables


def entry_terms(match_key: str) -> list[str]:
    """What the fuzzy index holds for an entry: its words and, for a multi-word name, the
    whole name without spaces (so "medi derm", "mediderm" and "medi-derm" meet)."""
    words = [w for w in match_key.split() if len(w) >= 3]
    whole = match_key.replace(" ", "")
    if whole not in words and len(whole) <= 40:
        words.append(whole)
    return words


def grams(term: str) -> list[str]:
    padded = f"^{term}$"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


def index_terms(tables: Tables) -> None:
    """The fuzzy index: distinct terms, the entries holding each, and a trigram posting list
    (one int32 array, sliced by offsets) from which candidates are counted."""
    from array import array

    term_index: dict[str, int] = {}
    members: list[list[int]] = []
    for entry, match_key in enumerate(tables.keys):
        for term in entry_terms(match_key):
            slot = term_index.get(term)
            if slot is None:
                slot = term_index[term] = len(members)
                members.append([])
            members[slot].append(entry)

    def entry_order(entry: int) -> tuple[int, int, int]:
        return (ORIGIN_RANK[tables.origins[entry]], tables.keys[entry].count(" "), entry)

    tables.terms = list(term_index)
    # Few, specific names first: a common word ("acid") keeps only its most specific entries
    # when the search caps how many it looks at.
    tables.term_entries = [sorted(m, key=entry_order) for m in members]
    postings: dict[str, list[int]] = {}
    for slot, term in enumerate(tables.terms):
        for gram in set(grams(term)):
            postings.setdefault(gram, []).append(slot)
    flat = array("i")
    offsets: dict[str, tuple[int, int]] = {}
    for gram, slots in postings.items():
        offsets[gram] = (len(flat), len(flat) + len(slots))
        flat.extend(slots)
    tables.gram_offsets = offsets
    tables.gram_postings = flat.tobytes()


def cache_key(dictionary: Path, supplement: Path | None) -> str:
    digest = hashlib.sha256(BUILD_VERSION.encode())
    stat = dictionary.stat()
    digest.update(f"{dictionary.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    if supplement is not None and supplement.exists():
        digest.update(supplement.read_bytes())
    return digest.hexdigest()[:20]


def load_tables(dictionary: Path, supplement: Path | None, cache_dir: Path | None) -> Tables:
    """The tables from the cache when it matches the inputs, else built (and cached)."""
    if cache_dir is None:
        return build_tables(dictionary, supplement)
    cached = cache_dir / f"lexicon-{cache_key(dictionary, supplement)}.pkl"
    try:
        with cached.open("rb") as handle:
            tables = pickle.load(handle)
        if isinstance(tables, Tables):
            return tables
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError):
        pass
    tables = build_tables(dictionary, supplement)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for stale in cache_dir.glob("lexicon-*.pkl"):
            stale.unlink(missing_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            pickle.dump(tables, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, cached)
    except OSError:
        # A read-only cache folder only costs speed.
        pass
    return tables


__all__ = [
    "ORIGIN_RANK",
    "SUPPLEMENT_PATH",
    "Tables",
    "add_products",
    "build_tables",
    "compact",
    "dictionary_path",
    "entry_terms",
    "grams",
    "load_supplement",
    "load_tables",
    "product_generics",
]
