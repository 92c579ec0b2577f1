"""Text handling for drug names: normalization, tokens, and what is dose noise rather than a name.

Letters write drugs with strengths, counts, forms and routes glued on ("Norco10/325#60",
"Cyclophene 5% in PLO gel dosage 120 grams"); matching works on the *name words* left once that
noise is gone, so "Fexmid 7.5mg 1 po q8-12 prn #90" is looked up as "fexmid".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz.distance import Levenshtein


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Trailing salt and ester words: "diclofenac sodium" and "diclofenac" are the same active
# ingredient for the gold record (docs/gold-record.md: salts dropped).
SALT_WORDS = _wordset(
    """
    sodium potassium calcium magnesium hcl hydrochloride hydrobromide bitartrate tartrate
    sulfate sulphate bisulfate citrate maleate mesylate besylate succinate fumarate phosphate
    acetate epolamine benzathine dihydrate monohydrate trihydrate hemihydrate anhydrous hyclate
    disodium dipropionate propionate acetonide valerate furoate napsylate pamoate tosylate
    lysinate trometamol tromethamine hbr enacarbil
    """
)

# Words of a request that describe the dose, form, route, count or schedule, never the drug.
NOISE_WORDS = _wordset(
    """
    mg mcg ug g gm gms gr gram grams kg ml cc meq oz iu unit units percent pct mgs mls
    cream creams creme gel gels patch patches tablet tablets tab tabs capsule capsules cap caps
    caplet caplets solution soln suspension susp injection injections inj injectable ointment
    lotion spray sprays powder liquid drops drop syrup elixir film lozenge suppository suppositories
    kit kits pak pack box boxes bottle bottles tube tubes container containers jar vial vials
    base pluronic plo lipoderm vehicle emollient topical topically transdermal oral orally po
    iv im sq subq sc intramuscular intravenous subcutaneous sublingual sl pr rectal nasal
    ophthalmic er xr sr cr xl la ir ec dr ds cd odt qd bid tid qid qhs hs prn qam qpm daily
    nightly weekly monthly times time day days week weeks hour hours hrs hr per every
    qty quantity refill refills supply month months one two three four five six seven eight
    nine ten compounded compound compounding med meds medication medications post pre op
    unknown apply applied thin layer affected area areas dos dosage dose doses take use as
    needed directed at bedtime night morning with without in of and or to for the a an x w
    on off by from plus per up q
    """
)

# Generic-name tails that name a form or route in the dictionary's canonical names
# ("lidocaine patch", "miconazole vaginal"); the ingredient is what is left.
FORM_TAIL_WORDS = _wordset(
    """
    patch patches transdermal topical oral injection injectable ophthalmic otic nasal spray
    inhalation inhaled vaginal rectal sublingual buccal extended-release extended release
    delayed-release lotion cream gel powder solution suppositories suppository intrauterine
    system urogenital dermal skin tablets tablet capsules capsule liposomal implant ointment
    foam shampoo film
    """
)

# Forms long enough that a one-letter slip still names them and no drug.
_FORMS = (
    "patch", "patches", "cream", "tablet", "tablets", "capsule", "capsules", "lotion",
    "ointment", "suspension", "solution", "powder", "liquid", "injection",
)  # fmt: skip
_ABBREV_Q = re.compile(r"^q\d+(-\d+)?h?$|^q\d*h$")
# Letters and digits glued together are separate tokens ("norco10" -> norco 10).
_TOKEN = re.compile(r"(?:[a-z]+|[0-9]+)(?:\.[0-9]+)?")
_WORD3 = re.compile(r"[a-z]{3,}(?:\.[0-9]+)?")
# The `_WORD3` tokens without a ".5" tail, found directly: the run of letters is taken whole
# (possessive), so a run before ".5" is skipped rather than cut short; every shorter suffix
# of it meets the same ".5".
_WORD3_NOT_NUMBER = re.compile(r"[a-z]{3,}+(?!\.[0-9])")
# "Tylenol #3" is the usual shorthand for acetaminophen with codeine; the number is not a count.
_TYLENOL_NUMBER = re.compile(r"\btylenol\s*(?:#|no\.?\s*)\s*[234]\b", re.IGNORECASE)
_PAREN = re.compile(r"\([^)]*\)")
# OCR reads o as 0 and l as 1 inside words ("Cyc1obenzaprine", "Effex0r", "0meprazole").
# A run of 0/1 between letters, or a lone 0 (not after a word character or a dot) before three
# letters: `(?<=[a-z])[01]+(?=[a-z])|(?<![\w.])0(?=[a-z]{3})`, found five times faster on a
# whole letter, as a pattern that starts with a lookbehind is tried at every position.
_OCR_LETTER = str.maketrans("01", "ol")
_OCR_RUN = re.compile(r"[01]+(?=[a-z])")


def _ocr_letters(m: re.Match[str]) -> str:
    run, text, start = m.group(), m.string, m.start()
    prev = text[start - 1] if start else ""
    if "a" <= prev <= "z":
        return run.translate(_OCR_LETTER)
    if run == "0" and (prev == "" or not (prev.isalnum() or prev in "_.")):
        after = text[m.end() : m.end() + 3]
        if len(after) == 3 and all("a" <= c <= "z" for c in after):
            return "o"
    return run


def fold(text: str) -> str:
    """Lowercase ASCII: accents and ligatures folded, so "Ibuprofène" meets "ibuprofene"."""
    text = unicodedata.normalize("NFKD", text)
    return text.encode("ascii", "ignore").decode("ascii").lower()


def tokens(text: str) -> list[str]:
    """Word and number tokens; letters glued to digits are split ("norco10" -> norco 10)."""
    text = _OCR_RUN.sub(_ocr_letters, fold(text))
    return _TOKEN.findall(text)


def letter_tokens(text: str) -> list[str]:
    """The tokens `name_tokens` starts from ("Tylenol #3" read as its ingredients)."""
    if "tylenol" in text.lower():
        text = _TYLENOL_NUMBER.sub("tylenol with codeine", text)
    return tokens(text)


def letter_words(text: str) -> list[str]:
    """The all-letter tokens of ``letter_tokens(text)`` three letters or longer, found without
    splitting out the numbers (a whole letter is long): a run of letters before ".5" is part
    of a number-like token ("abc.5"), not a word."""
    if "tylenol" in text.lower():
        text = _TYLENOL_NUMBER.sub("tylenol with codeine", text)
    return _WORD3_NOT_NUMBER.findall(_OCR_RUN.sub(_ocr_letters, fold(text)))


def key(text: str) -> str:
    """The matching key of a name: its tokens joined by single spaces."""
    return " ".join(tokens(text))


def compact(text: str) -> str:
    """The key without spaces: "Medi-derm", "Medi derm" and "Mediderm" all give "mediderm"."""
    return "".join(tokens(text))


# Letters repeat the same few thousand words; the edit-distance test runs once for each.
@lru_cache(maxsize=65536)
def form_word(token: str) -> str | None:
    """The form a token names, allowing one slip ("pafch", "creme", "tablts"), else None."""
    if token in NOISE_WORDS:
        return token
    if len(token) < 5 or not token.isalpha():
        return None
    for form in _FORMS:
        if (
            abs(len(form) - len(token)) <= 1
            and Levenshtein.distance(form, token, score_cutoff=1) <= 1
        ):
            return form
    return None


@lru_cache(maxsize=65536)
def is_noise(token: str) -> bool:
    """True for dose, form, route, count and schedule tokens."""
    if form_word(token):
        return True
    if not token.isalpha():
        # Numbers, "10/325"-style fragments and units glued to numbers are split already;
        # what remains with a digit is a dose ("1.5") or a schedule ("q8").
        return any(c.isdigit() for c in token)
    return bool(_ABBREV_Q.match(token))


def name_tokens(text: str) -> list[str]:
    """The tokens of a request that can be part of a drug name, in order."""
    raw = letter_tokens(text)
    words = [
        t
        for i, t in enumerate(raw)
        if not is_noise(t)
        # A letter glued to a number is a unit ("q8-12h", "2x"), not a name.
        and not (len(t) == 1 and i > 0 and raw[i - 1][-1].isdigit())
    ]
    # A salt word after a drug's name is its salt ("Diclofenac Sodium", "Bupropion HCL");
    # one that leads names the drug itself ("Magnesium oxide", "Sodium bicarbonate").
    kept: list[str] = []
    for t in words:
        if t in SALT_WORDS and kept and kept[-1] not in SALT_WORDS:
            continue
        kept.append(t)
    return kept


def strip_salts(name: str) -> str:
    """Drop trailing salt/ester words: "diclofenac sodium" -> "diclofenac"."""
    words = name.split()
    while len(words) > 1 and words[-1] in SALT_WORDS:
        words.pop()
    return " ".join(words)


def strip_form_tail(name: str) -> str:
    words = name.split()
    while len(words) > 1 and words[-1] in FORM_TAIL_WORDS:
        words.pop()
    # "buprenorphine sublingual and buccal": the form words can sit in the middle too.
    kept = [w for w in words if w not in FORM_TAIL_WORDS]
    return " ".join(kept or words)


def split_components(canonical: str) -> list[str]:
    """A combination's ingredients: "abacavir, dolutegravir, and lamivudine" -> three names."""
    text = _PAREN.sub(" ", canonical.lower())
    parts = re.split(r"\s*/\s*|\s*,\s*(?:and\s+)?|\s+and\s+|\s*\+\s*|\s+with\s+", text)
    out: list[str] = []
    for part in parts:
        part = " ".join(part.split()).strip(" ,.-")
        if not part:
            continue
        part = strip_salts(strip_form_tail(part))
        if part and part not in FORM_TAIL_WORDS:
            out.append(part)
    return out
