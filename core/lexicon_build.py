"""Building the lexicon's tables from the drug dictionary and the curated supplement.

The dictionary is drug-named-entity-recognition's shipped data file (read directly: importing
that package loads it eagerly and wires up network helpers we must never call). Building takes
a few seconds, so the finished tables are pickled to the user's cache folder, keyed by the
inputs' identity, and later loads only unpickle them.
"""

from __future__ import annotations

import bz2
import gc
import hashlib
import importlib.util
import io
import json
import logging
import pickle
import re
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

from imrgold.core import environment
from imrgold.core.files import atomic_write, private_dir
from imrgold.core.lexicon_text import (
    compact,
    fold,
    name_tokens,
    split_components,
    strip_salts,
    tokens,
)

log = logging.getLogger(__name__)

BUILD_VERSION = "lexicon-17"
DICTIONARY_FILE = "drug_ner_dictionary.pkl.bz2"
SUPPLEMENT_PATH = Path(__file__).resolve().parent / "data" / "drug_supplement.json"

ORIGIN_RANK = {"learned": 0, "supplement": 1, "dictionary": 2, "letter": 3}

# MeSH tree roots of proteins, enzymes, nucleic acids, biological factors and pharmacologic
# classes: names under only these roots are not products an IMR letter requests.
_NON_PRODUCT_MESH = ("D05", "D08", "D12", "D13", "D23", "D27")
# Research codes ("MEDI3506", "EDI-200"): once numbers are dropped as doses, "medi" and "edi"
# would be left to match anything.
_CODE_NAME = re.compile(r"[a-z]-?\d", re.IGNORECASE)
# Dictionary spellings that are everyday words ("[he]", "...''more''"), never a request's drug.
_STOP_KEYS = frozenset({
    "he", "she", "it", "more", "most", "no", "not", "all", "any", "one", "issue", "agent",
    "factor", "secondary", "heat", "cold", "ice", "water", "air", "salt", "alcohol", "pain",
    "relief", "night", "day",
})  # fmt: skip
_CLASS_NAME = re.compile(r"(?<![su])s\b(?!.*\w)|\b(derivatives|compounds|agents)\b", re.IGNORECASE)


TableOrigin = Literal["learned", "supplement", "dictionary"]
ORIGINS: tuple[TableOrigin, ...] = ("learned", "supplement", "dictionary")
_MIN_COMPACT = 5
_ID_FIELDS = ("drugbank_id", "medline_plus_id", "mesh_id")


@dataclass
class Tables:
    """Per-entry lists and the lookup indexes, laid out to unpickle fast (flat int arrays
    rather than many small lists): a load must stay well under a third of a second.

    An *entry* is one way of writing a name (its display ``names[i]`` and match key
    ``keys[i]``); a *group* is what the name means (generics, origin, ids, source), shared by
    every spelling of the same product or canonical drug.
    """

    names: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    group: array = field(default_factory=lambda: array("i"))
    # 1 for a drug's main names (its canonical name, a brand, a curated product), 0 for the
    # dictionary's many foreign and chemical synonyms: ties go to the name people write.
    preferred: bytearray = field(default_factory=bytearray)
    # Per group, as flat lists of plain strings (thousands of small dicts unpickle slowly).
    group_generics: list[tuple[str, ...]] = field(default_factory=list)
    group_origin: bytearray = field(default_factory=bytearray)
    group_ids: list[str] = field(default_factory=list)
    group_source: list[str | None] = field(default_factory=list)
    exact_index: dict[str, int] = field(default_factory=dict)
    compact_index: dict[str, int] = field(default_factory=dict)
    multi: list[list[int]] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    term_offsets: array = field(default_factory=lambda: array("i"))
    term_members: array = field(default_factory=lambda: array("i"))
    # Slots of the terms of everyday names, in alphabetical order: prefix completion.
    term_order: array = field(default_factory=lambda: array("i"))
    gram_index: dict[str, int] = field(default_factory=dict)
    gram_offsets: array = field(default_factory=lambda: array("i"))
    gram_postings: bytes = b""

    # -- building ----------------------------------------------------------------------------

    def add_group(
        self,
        generics: tuple[str, ...],
        origin: TableOrigin,
        ids: dict[str, str] | None = None,
        source: str | None = None,
    ) -> int:
        self.group_generics.append(generics)
        self.group_origin.append(ORIGINS.index(origin))
        self.group_ids.append("|".join(f"{k}={v}" for k, v in (ids or {}).items()))
        self.group_source.append(source)
        return len(self.group_generics) - 1

    def add(
        self, name: str, spelled: str, group: int, *, first: bool = False, preferred: bool = True
    ) -> int | None:
        """Add ``spelled`` (matched) meaning group ``group`` (shown as ``name``)."""
        match_key = " ".join(name_tokens(spelled))
        if not match_key:
            return None
        index = len(self.names)
        self.names.append(name)
        self.keys.append(match_key)
        self.group.append(group)
        self.preferred.append(1 if preferred else 0)
        self._post(self.exact_index, match_key, index, first)
        joined = match_key.replace(" ", "")
        # Written without spaces a short name turns into a word ("Sam-e" into "same").
        if joined != match_key and len(joined) >= _MIN_COMPACT:
            self._post(self.compact_index, joined, index, first)
        return index

    def _post(self, table: dict[str, int], key: str, index: int, first: bool) -> None:
        have = table.get(key)
        if have is None:
            table[key] = index
        elif have >= 0:
            self.multi.append([index, have] if first else [have, index])
            table[key] = -len(self.multi)
        elif first:
            self.multi[-have - 1].insert(0, index)
        else:
            self.multi[-have - 1].append(index)

    # -- reading -----------------------------------------------------------------------------

    def _get(self, table: dict[str, int], key: str) -> list[int]:
        have = table.get(key)
        if have is None:
            return []
        return [have] if have >= 0 else list(self.multi[-have - 1])

    def exact(self, match_key: str) -> list[int]:
        return self._get(self.exact_index, match_key)

    def compact(self, joined: str) -> list[int]:
        return self._get(self.compact_index, joined)

    def generics(self, entry: int) -> tuple[str, ...]:
        return self.group_generics[self.group[entry]]

    def origin(self, entry: int) -> TableOrigin:
        return ORIGINS[self.group_origin[self.group[entry]]]

    def ids(self, entry: int) -> dict[str, str]:
        packed = self.group_ids[self.group[entry]]
        return dict(item.split("=", 1) for item in packed.split("|")) if packed else {}

    def source(self, entry: int) -> str | None:
        return self.group_source[self.group[entry]]

    def term_entries(self, slot: int) -> array:
        return self.term_members[self.term_offsets[slot] : self.term_offsets[slot + 1]]


def dictionary_path() -> Path:
    """The data file shipped inside drug-named-entity-recognition (found without importing it)."""
    env = environment.get(environment.Var.DRUG_DICTIONARY)
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
    if _CLASS_NAME.search(str(data.get("name", ""))):
        # A MeSH-only plural ("Cyclopentanes", "Glucocorticoids") names a chemical class.
        return False
    return any(not t.startswith(_NON_PRODUCT_MESH) for t in trees)


def _ids(data: dict[str, Any]) -> dict[str, str]:
    return {k: str(data[k]) for k in _ID_FIELDS if data.get(k)}


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


def _usable_spelling(variant: str, canonical: str, generics: tuple[str, ...]) -> bool:
    """Whether a dictionary spelling can stand for its drug once doses and forms are dropped.

    "Diclofenac sodium" and "Lidocaine patch" leave the drug's own name; "Heat spray",
    "Injectable no. 1" or "Secondary potassium phosphate" would leave a common word that
    matches requests naming no drug at all."""
    if _CODE_NAME.search(variant):
        return False
    match_key = " ".join(name_tokens(variant))
    if not match_key or match_key in _STOP_KEYS:
        return False
    if match_key == " ".join(tokens(variant)):
        return True
    own = {" ".join(name_tokens(canonical))} | {" ".join(name_tokens(g)) for g in generics}
    return match_key in own


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


class Product(TypedDict):
    """A product of the user's own supplement, as `Lexicon.add_product` writes it."""

    name: str
    aliases: list[str]
    generics: list[str]
    source: str


def product_generics(product: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({strip_salts(fold(g).strip()) for g in product.get("generics", []) if g}))


def add_products(
    tables: Tables,
    products: Sequence[Mapping[str, Any]],
    origin: TableOrigin,
    *,
    first: bool = False,
) -> list[int]:
    """Add each product under its name and aliases (all shown as the product's name)."""
    added = []
    for product in products:
        ids = {k: str(v) for k, v in (product.get("ids") or {}).items()}
        group = tables.add_group(product_generics(product), origin, ids, product.get("source"))
        name = str(product["name"])
        for spelled in [name, *product.get("aliases", [])]:
            index = tables.add(name, str(spelled), group, first=first)
            if index is not None:
                added.append(index)
    return added


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
    group_of: dict[str, int] = {}
    for canonical, data in kept.items():
        generics = _canonical_generics(canonical, v2c)
        if generics:
            group_of[canonical] = tables.add_group(generics, "dictionary", _ids(data))
    seen: set[tuple[str, tuple[str, ...]]] = set()

    def add(variant: str, canonical: str) -> None:
        group = group_of.get(canonical)
        if group is None or not _usable_spelling(variant, canonical, tables.group_generics[group]):
            return
        marker = (" ".join(name_tokens(variant)), tables.group_generics[group])
        if marker in seen:
            return
        seen.add(marker)
        is_brand = bool(vdata.get(variant, {}).get("is_brand"))
        display = _display(variant, canonical, kept[canonical], is_brand)
        tables.add(display, variant, group, preferred=is_brand or variant == canonical)

    pairs = [(c, c) for c in kept] + [(v, c) for v, cs in v2c.items() for c in cs]
    # Of two spellings with the same key and drug, the one written in full is kept: the
    # canonical "lidocaine" rather than "lidocaine patch" for a request saying "lidocaine".
    pairs.sort(key=lambda pair: " ".join(tokens(pair[0])) != " ".join(name_tokens(pair[0])))
    for variant, canonical in pairs:
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
    """The fuzzy index: distinct terms, the entries holding each (few, specific names first,
    so a common word such as "acid" keeps its most specific entries when the search caps how
    many it looks at), and trigram posting lists from which candidates are counted."""
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
        return (ORIGIN_RANK[tables.origin(entry)], tables.keys[entry].count(" "), entry)

    tables.terms = list(term_index)
    offsets = array("i", [0])
    flat_members = array("i")
    for group in members:
        flat_members.extend(sorted(group, key=entry_order))
        offsets.append(len(flat_members))
    tables.term_offsets, tables.term_members = offsets, flat_members

    def common(entry: int) -> bool:
        return tables.origin(entry) != "dictionary" or "medline_plus_id" in tables.ids(entry)

    # Completion offers only names in everyday use (a MedlinePlus page, or curated): "cyclob"
    # should complete to cyclobenzaprine, not to the dictionary's cyclobarbital.
    everyday = [slot for slot, group in enumerate(members) if any(map(common, group))]
    tables.term_order = array("i", sorted(everyday, key=tables.terms.__getitem__))
    postings: dict[str, list[int]] = {}
    for slot, term in enumerate(tables.terms):
        for gram in set(grams(term)):
            postings.setdefault(gram, []).append(slot)
    flat = array("i")
    gram_offsets = array("i", [0])
    for number, (gram, slots) in enumerate(postings.items()):
        tables.gram_index[gram] = number
        flat.extend(slots)
        gram_offsets.append(len(flat))
    tables.gram_offsets = gram_offsets
    tables.gram_postings = flat.tobytes()


def cache_key(dictionary: Path, supplement: Path | None) -> str:
    digest = hashlib.sha256(BUILD_VERSION.encode())
    stat = dictionary.stat()
    digest.update(f"{dictionary.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    if supplement is not None and supplement.exists():
        digest.update(supplement.read_bytes())
    return digest.hexdigest()[:20]


class _TablesUnpickler(pickle.Unpickler):
    """Unpickles `Tables` and the plain containers inside them, nothing else: a cache file
    someone else crafted can name no other callable, so loading it cannot run code
    (the "restricting globals" of the `pickle` documentation)."""

    _ALLOWED = frozenset(
        {
            (__name__, "Tables"),
            ("array", "array"),
            ("array", "_array_reconstructor"),
            ("builtins", "bytearray"),
            ("copyreg", "_reconstructor"),
            ("builtins", "object"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of the lexicon tables")
        return super().find_class(module, name)


def _unpickle(data: bytes) -> object:
    """Unpickle with the cyclic collector paused: the tables are tens of thousands of fresh
    containers, none of them garbage, and collecting while they arrive doubles the load."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return _TablesUnpickler(io.BytesIO(data)).load()
    finally:
        if paused:
            gc.enable()


def load_tables(dictionary: Path, supplement: Path | None, cache_dir: Path | None) -> Tables:
    """The tables from the cache when it matches the inputs, else built (and cached).

    The cache is read by `_TablesUnpickler`, which builds the tables and nothing else; a file it
    refuses, or one that does not parse, is rebuilt with a warning.
    """
    if cache_dir is None:
        return build_tables(dictionary, supplement)
    cached = cache_dir / f"lexicon-{cache_key(dictionary, supplement)}.pkl"
    try:
        data: bytes | None = cached.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError as err:
        log.warning("lexicon cache %s unreadable (%s); rebuilding", cached, err)
        data = None
    if data is not None:
        try:
            tables = _unpickle(data)
        except Exception as err:  # any damage: pickle raises many types; never trusted
            log.warning("lexicon cache %s refused (%s); rebuilding", cached, err)
        else:
            if isinstance(tables, Tables):
                return tables
            log.warning("lexicon cache %s holds no tables; rebuilding", cached)
    tables = build_tables(dictionary, supplement)
    try:
        private_dir(cache_dir)
        for stale in cache_dir.glob("lexicon-*.pkl"):
            if stale != cached:
                stale.unlink(missing_ok=True)
        body = pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(cached, body, durable=False)
    except OSError as err:
        log.warning("lexicon cache not written to %s (%s); only speed is lost", cache_dir, err)
    return tables


__all__ = [
    "ORIGINS",
    "ORIGIN_RANK",
    "SUPPLEMENT_PATH",
    "Product",
    "TableOrigin",
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
