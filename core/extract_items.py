"""One disputed item's fields from its heading and its MAXIMUS guideline paragraph.

Pure functions over short strings (the folded heading, the folded guideline paragraph); each
returns a value and a rule strength (`core.strengths`), plus where known the (start, end) of the
value in its input so the caller can map it to the original letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from imrgold.core.strengths import ABSENT, CLEAR, DOUBT, FALLBACK, READ

# ---------------------------------------------------------------------------------------------
# Request: the heading minus what is not the request.

# "... the original request, Z, is: Upheld": Z is what was decided.
_PARTIAL = re.compile(r"\boriginal\s+request\s*,\s*(?P<z>.+?)\s*,?\s*$", re.I | re.S)
# What makes a heading a partial certification rather than a request that says "original".
_PARTIAL_CONTEXT = re.compile(r"\boriginal\s+request\b|\bIMR\s+eligible\b|\bremaining\b", re.I)


def request_range(heading: str) -> tuple[int, int]:
    """(start, end) of the request in the heading: all of it, or Z of a partial certification."""
    m = _PARTIAL.search(heading)
    if m and _PARTIAL_CONTEXT.search(heading, 0, m.start()):
        return m.span("z")
    end = len(heading.rstrip(" \t,;:"))
    start = len(heading) - len(heading.lstrip())
    return start, max(start, end)


# ---------------------------------------------------------------------------------------------
# Category.

# Category words, in priority order for ties.  The category whose words come *first* in the
# request wins: requests name their thing first and qualify it after ("Referral to orthopedic
# surgeon", "Physical therapy after arthroscopy", "Cold therapy unit").
_CATEGORY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.I))
    for name, pattern in (
        (
            "other",
            r"\burine\b|\bdrug\s+(?:screen|test)|toxicolog|\blab(?:oratory|s)?\b|\bblood\s+(?:test|work)"
            r"|\bfunctional\s+capacity|\bFCE\b|\bhome\s+health|(?-i:\bRN\b|\bLVN\b)|\bnurs(?:e|ing)\b"
            r"|\bgym\b|membership|transportation|\bhome\s+care\b|\baide\b|genetic|\bDNA\b"
            r"|\bpanel\b|\bCBC\b|weight\s+(?:loss|management)|\bdetox|housekeep|\bchores?\b"
            r"|(?-i:\bCMP\b|\bBMP\b|\bPTT?\b(?=\s*/|\s*,|\s*$)|\bINR\b|\bUA\b)|PT\s*/\s*PTT"
            r"|urinalysis|metabolic\s+panel|(?:liver|renal|kidney|thyroid)\s+function|\blipid"
            r"|\bhemoglobin\b|\bA1C\b|coagulation|\bserum\b",
        ),
        (
            "equipment",
            r"\bTENS\b|(?<![\d\s])\s*\bunits?\b(?!\s+(?:of|per))|\bbraces?\b|\bsplints?\b|\bsupports?\b"
            r"|\bpillows?\b|wheel\s?chair|\bwalker\b|\bcanes?\b|\bcommode\b|\bchairs?\b|\bbeds?\b"
            r"|mattress|orthotic|\binsoles?\b|\bsling\b|work\s?station|\bkit\b|\bcold\s+therapy|\bcryo"
            r"|\bheat(?:ing)?\s+(?:therapy\s+)?(?:pad|wrap|unit)|\bhot/cold|\bcold/hot|\bcrutch|\bcollar\b|\bshower\b"
            r"|\bDME\b|durable\s+medical|\bstimulator\b|\bcompression\s+(?:stocking|garment|device)"
            r"|\bcold\s+compression|\bwraps?\b|hearing\s+aids?"
            r"|\bice\s+(?:pack|machine)|\btraction\b|\bglove|\bshoes?\b|\bH-?wave\b|interferential"
            r"|\bdevice\b|\bmachine\b|\bscooter\b|\bbrace\b|\bgarment|\bstockings?\b|\bramp\b",
        ),
        (
            "imaging",
            r"x-?rays?\b|\bradiograph|\bMRI\b|\bMRA\b|\bMR\s+arthrogra|\bCT\b|\bCAT\s+scan|bone\s+scan"
            r"|ultrasound|sonogra|arthrogra|\bimaging\b|\bscans?\b|(?-i:\bPET\b)|myelogra|discogra"
            r"|\bfilms?\b|\bDEXA\b",
        ),
        (
            "consultation",
            # "Medication management visits" see a prescriber; within home care they stay other.
            r"\bevaluation\b|\beval\b|\bassessment\b|medication\s+management"
            r"|pharmacologic(?:al)?\s+management|\bre-?exam(?:ination)?s?\b|\bclearance\b",
        ),
        (
            "therapy",
            r"physical\s+therap|(?-i:\bPT\b)|occupational\s+therap|(?-i:\bOT\b)|chiropract|acupunct"
            r"|massage|aqua|pool\s+therap|psychotherap|(?-i:\bCBT\b)|cognitive\s+behavio|work\s+harden"
            r"|work\s+condition|functional\s+restoration|biofeedback|\bsessions?\b|therap(?:y|ies)"
            r"|hospitali[sz]ation|rehabilitation\s+program|(?-i:\bHELP\b)|manipulation\b(?!\s+under)"
            r"|\btreatments?\b|shockwave|(?-i:\bESWT\b)|\bprogram\b|counsel"
            r"|electrical\s+(?:muscle\s+)?stimulation|\bE-?stim\b|(?-i:\bEMS\b)|infrared|diathermy"
            r"|myofascial\s+release|soft\s+tissue\s+mobili[sz]ation"
            r"|(?:pulsed|therapeutic)\s+ultrasound",
        ),
        (
            "procedure",
            r"surg|arthroscop|repair|release\b|fixation|fusion|\binjections?\b|\bblocks?\b|ablation"
            r"|(?-i:\bEMG\b|\bNCV\b|\bNCS\b)|electrodiagnost|nerve\s+conduction|electromyogra"
            r"|sleep\s+stud|polysomnogra|ectomy\b|otomy\b|plasty\b|scopy\b|replacement|decompression"
            r"|tenodesis|(?-i:\bORIF\b|\bESI\b|\bPRP\b|\bMUA\b)|epidural|radiofrequency|rhizotomy"
            r"|implant|debridement|reduction|platelet|\bprocedure\b|\boperation\b|under\s+anesthesia"
            r"|spinal\s+cord\s+stimulat|neurotomy|\bbiopsy\b|aspiration|\bEKG\b|\bECG\b|\bstudy\b",
        ),
    )
)
# A consultation about anything is a consultation ("Orthopedic surgery consultation").
_CONSULTATION = re.compile(
    r"consult|referral|\brefer\b|follow[\s-]?ups?\b|office\s+visits?|second\s+opinion"
    r"|\bvisits?\s+(?:with|to)\b",
    re.I,
)
_WITH = re.compile(r"\S\s+with\s", re.I)
# "Associated surgical service: Physical therapy" is physical therapy; "Labs to include: Chest
# X-ray" is the X-ray.
_SERVICE_PREFIX = re.compile(
    r"^[^:]{0,40}?\b(?:surgical\s+services?|retrospective|prospective|request(?:ed)?|to\s+include)\b"
    r"[^:]{0,20}:\s*",
    re.I,
)
# What is rented or bought is equipment, whatever it does ("Cold compression therapy 30 day
# rental", "Shoulder wrap for purchase").
_RENTED = re.compile(r"\brental\b|\bpurchase\b|\brent\b", re.I)
# A course of visits ("2 times a week for 4 weeks", "twice a week", "2x4", "x 6 sessions"): what
# is given that way is therapy, even when it is named as a referral or by its machine ("Pulsed
# ultrasound 2 times a week", "Referral to chiropractor ... twice a week for 3 weeks").
_COURSE = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|once|twice)\s*(?:x|times)\s*(?:a|per|/)?\s*(?:weeks?|wk)\b"
    r"|\b(?:once|twice)\s+(?:a|per)\s+week|\b\d\s*x\s*\d\b|\b\d+\s+(?:sessions|visits|treatments)\b"
    r"|\b(?:sessions|visits|treatments)\s*(?:,|x|of|:)?\s*#?\d",
    re.I,
)
# A surgeon's evaluation is a consultation, whatever surgery it names ("Spine surgery
# evaluation").
_SURGICAL_EVALUATION = re.compile(r"\bsurg\w*\s+(?:evaluation|eval|assessment)\b", re.I)
# An evaluation or re-examination is a consultation even by a therapist ("Chiropractic
# evaluation", "Re-exam with chiropractor"), unless it comes with a course of visits.
_EVALUATION = re.compile(r"\bevaluations?\b|\beval\b|\bre-?exam(?:ination)?s?\b", re.I)
# A drug injected at a site or by a technique is a procedure ("Lidocaine trigger point injection").
_SITE_PROCEDURE = re.compile(
    r"trigger\s+point|epidural|facet|\bnerve\b|\bblocks?\b|\bjoint\b|intra-?articular|guided"
    r"|fluoroscop|\bknees?\b|\bshoulders?\b|\bhips?\b|lumbar|cervical|thoracic|\bspine\b"
    r"|\bL\d|\bC\d|\bT\d|ablation|sacroiliac|\bSI\b|bursa|tendon|sheath|carpal|tunnel|wrist"
    r"|\belbow|\bankle|\bfoot\b|\bhand\b|\bneck\b|extremit|bilateral|\bleft\b|\bright\b",
    re.I,
)
_INJECTED = re.compile(r"inject|infusion|\bshots?\b|\bIM\b|\bIV\b", re.I)
_DOSE = re.compile(
    r"\d\s*(?:%|percent\b|mg\b|mcg\b|ml\b|mls\b|cc\b|gm?s?\b|grams?\b|units?/)", re.I
)
FORM_WORDS = (
    r"cream|gel|patch(?:es)?|pads?|tablets?|tabs?|capsules?|caps?|solution|suspension|injection"
    r"|ointment|lotion|spray|powder|liquid"
)
_FORM = re.compile(rf"\b(?P<form>{FORM_WORDS})\b", re.I)
_MED_WORDS = re.compile(r"\bcompound|\bmedication|\brefills?\b|\bprescription\b|\bdrug\b", re.I)


_MED_CONTEXT = re.compile(
    r"\b(?:compound(?:ed)?\s+(?:drugs?|products?|creams?)|medications?|analgesics?|NSAIDs?|opioids?"
    r"|muscle\s+relaxants?|pill|tablet|dos(?:e|age)|proton\s+pump|antidepressants?"
    r"|anticonvulsants?|topical|prescri(?:be|bed|ption)|medical\s+foods?)\b",
    re.I,
)


@lru_cache(maxsize=8192)
def keyword_category(request: str) -> str | None:
    """The category whose words come first in the request (rule order breaks ties)."""
    prefix = _SERVICE_PREFIX.match(request)
    text = request[prefix.end() :] if prefix and prefix.end() < len(request) else request
    consult = _CONSULTATION.search(request)
    # "Lumbar epidural steroid injection with pain interventionist consult": what comes with
    # the thing named first does not make it a consultation.
    if consult and not _WITH.search(request, 0, consult.start()):
        return "therapy" if _COURSE.search(text) else "consultation"
    best: tuple[int, int, str] | None = None
    for rank, (category_name, pattern) in enumerate(_CATEGORY_RULES):
        m = pattern.search(text)
        if m and (best is None or (m.start(), rank) < best[:2]):
            best = (m.start(), rank, category_name)
    name = best[2] if best else None
    if name in ("equipment", "therapy", "other") and _RENTED.search(text):
        return "equipment"
    if name == "imaging" and _COURSE.search(text):
        return "therapy"
    if name == "therapy" and _EVALUATION.search(text) and not _COURSE.search(text):
        return "consultation"
    if name == "procedure" and _SURGICAL_EVALUATION.search(text):
        return "consultation"  # "Spine surgery evaluation": a surgeon sees the patient
    return name


def _named_before_procedure(request: str) -> bool:
    """A capitalized name, not a body site, before the procedure word: "Norco after knee
    surgery" is about Norco."""
    word = _CATEGORY_RULES[-1][1].search(request)
    if word is None or re.match(r"inject|block|infusion", word.group(), re.I):
        return False  # a drug named before an injection is what is injected: a procedure
    before = re.findall(r"[A-Z][\w-]{3,}", request[: word.start()])
    return any(not _SITE_PROCEDURE.search(w) for w in before)


def might_be_drug(request: str) -> bool:
    """Whether the lexicon is worth asking: its fuzzy search costs milliseconds per word, and
    imaging, therapy, consultations, services and most equipment never name a drug."""
    name = keyword_category(request)
    if name == "procedure":
        if _named_before_procedure(request):
            return True
        if _SITE_PROCEDURE.search(request):
            return False  # a procedure at a body site stays a procedure whatever it injects
        return bool(_INJECTED.search(request) or _DOSE.search(request))  # "Toradol injection"
    if _DOSE.search(request) or _FORM.search(request):
        return True
    return name is None or (name == "equipment" and "kit" in request.lower())


def category(request: str, drugs: list[str], context: str = "") -> tuple[str | None, float]:
    """(category, confidence) from the request's words and whether the lexicon knows a drug.

    ``context`` (the item's guideline paragraph and rationale) only decides a request whose own
    words say nothing, such as an unknown brand name.
    """
    if not request.strip():
        return None, ABSENT.no_request
    name = keyword_category(request)
    if (
        name == "procedure"
        and _SITE_PROCEDURE.search(request)
        and not (drugs and _named_before_procedure(request))
    ):
        # "Lidocaine trigger point injection": injected at a site, a procedure even with a drug.
        return "procedure", FALLBACK.site_procedure
    dose = bool(_DOSE.search(request) or _FORM.search(request))
    if drugs and dose:
        return "medication", READ.drug_with_dose
    if _DOSE.search(request):
        return "medication", FALLBACK.dose_only
    if name is not None:
        if drugs and name in ("procedure", "other"):
            # "Toradol injection": a drug given by injection is a medication.
            return "medication", FALLBACK.injected_drug
        return name, CLEAR.keyword_category if not drugs else FALLBACK.category_against_drug
    if drugs:
        return "medication", CLEAR.known_drug
    if dose or _MED_WORDS.search(request):
        return "medication", FALLBACK.medication_words
    if len(_MED_CONTEXT.findall(context)) >= 2:
        return "medication", DOUBT.medication_context
    return "other", DOUBT.other_by_default


# ---------------------------------------------------------------------------------------------
# Drug detail: strength, form, amount, quantity, route, frequency (medication requests only).

_NUM = r"\d+(?:\.\d+)?"


@dataclass(frozen=True, slots=True)
class Found:
    value: str
    start: int
    end: int


_FORM_NORMAL = {
    "tab": "tablet",
    "tabs": "tablet",
    "tablets": "tablet",
    "cap": "capsule",
    "caps": "capsule",
    "capsules": "capsule",
    "patches": "patch",
    "pad": "patch",  # "Salonpas pad": a medicated pad is a patch
    "pads": "patch",
}


def find_form(request: str) -> Found | None:
    m = _FORM.search(request)
    if not m:
        return None
    word = m.group("form").lower()
    return Found(_FORM_NORMAL.get(word, word), m.start(), m.end())


_STRENGTH = re.compile(
    rf"(?<![\w#.])(?P<num>{_NUM}(?:\s*[-/]\s*{_NUM})*)\s*(?P<unit>%|percent\b|mg/ml\b|mg/\d+\s*ml\b"
    rf"|mcg/hr?\b|mcg\b|mg\b|meq\b|iu\b|units?\b(?=/))",
    re.I,
)
_AMOUNT = re.compile(
    rf"(?<![\w.])#?\s*(?P<num>{_NUM})\s*(?P<unit>grams?\b|gms?\b|g\b|ml\b|mls\b|cc\b|oz\b|ounces?\b|mg\b)",
    re.I,
)
_QUANTITY = re.compile(
    r"(?:#\s*(?P<a>\d+)(?!\s*(?:grams?|gms?|g|ml|mg|oz)\b)(?![\d.%/])"
    r"|\b(?:qty|quantity)\s*[:#]?\s*(?P<b>\d+)\b)",
    re.I,
)
_ROUTE = re.compile(
    r"\b(?P<route>p\.?o\.?|by\s+mouth|oral(?:ly)?|topical(?:ly)?|transdermal(?:ly)?|intramuscular(?:ly)?"
    r"|i\.?m\.?|intravenous(?:ly)?|i\.?v\.?|subcutaneous(?:ly)?|sub-?q|sublingual(?:ly)?|s\.?l\.?"
    r"|rectal(?:ly)?|nasal(?:ly)?|intranasal|ophthalmic|inhal(?:ed|ation))(?![\w])",
    re.I,
)
_ROUTE_NORMAL = {
    "po": "oral",
    "by mouth": "oral",
    "orally": "oral",
    "topically": "topical",
    "transdermally": "transdermal",
    "im": "intramuscular",
    "intramuscularly": "intramuscular",
    "iv": "intravenous",
    "intravenously": "intravenous",
    "subq": "subcutaneous",
    "sub-q": "subcutaneous",
    "subcutaneously": "subcutaneous",
    "sl": "sublingual",
    "sublingually": "sublingual",
    "rectally": "rectal",
    "nasally": "nasal",
    "intranasal": "nasal",
    "inhaled": "inhalation",
}
_FREQUENCY = re.compile(
    r"(?P<freq>\bq\.?\s?\d+(?:\s?-\s?\d+)?(?:\s?(?:h|hrs?|hours?)\b\.?)?(?:\s+(?:prn|as\s+needed))?"
    r"|\b(?:q\.?d|q\.?h\.?s|b\.?i\.?d|t\.?i\.?d|q\.?i\.?d|q\.?a\.?m|q\.?p\.?m|q\.?o\.?d|h\.?s)\b\.?"
    r"(?:\s+(?:prn|as\s+needed))?"
    r"|\b(?:once|twice|one|two|three|four|five|six|\d+(?:\s?-\s?\d+)?)\s+(?:times?\s+)?"
    r"(?:(?:a|per|every|each)\s+(?:day|week|night|month)|daily|weekly|nightly)\b"
    r"(?:\s+(?:prn|as\s+needed))?"
    r"|\b(?:\d+|one|two|three|four|five|six)\s*(?:x|times)\s*(?:a|per)?\s*(?:day|daily|week|wk)\b"
    r"|\b\d+\s+hours?\s+on\s*(?:,|and)?\s*\d+\s+hours?\s+off\b"
    r"|\bevery\s+\d+(?:\s?-\s?\d+)?\s+(?:hours?|days?)(?:\s+(?:prn|as\s+needed))?"
    r"|\b(?:daily|nightly|at\s+bedtime|as\s+needed|prn)\b)",
    re.I,
)


def _norm_unit(unit: str) -> str:
    u = unit.lower().replace(" ", "")
    if u in ("percent", "%"):
        return "%"
    if u in ("g", "gm", "gms", "gram", "grams"):
        return "g"
    if u in ("ml", "mls", "cc"):
        return "ml"
    if u in ("oz", "ounce", "ounces"):
        return "oz"
    return u


_SPACES = re.compile(r"\s+")
_DOTS_SPACES = re.compile(r"[.\s]")


def _fmt(num: str, unit: str) -> str:
    unit = _norm_unit(unit)
    num = _SPACES.sub("", num)
    return f"{num}%" if unit == "%" else f"{num} {unit}"


def drug_detail(request: str) -> dict[str, Found | None]:
    """strength, form, amount, quantity, route, frequency found in a medication request."""
    form = find_form(request)
    quantity = _quantity(request)
    strength, amount = _strength_and_package(request, form, quantity)
    return {
        "strength": strength,
        "form": form,
        "amount": amount or _amount(request),
        "quantity": quantity,
        "route": _route(request),
        "frequency": _frequency(request),
    }


def _quantity(request: str) -> Found | None:
    qm = _QUANTITY.search(request)
    if not qm:
        return None
    group = "a" if qm.group("a") else "b"
    return Found(qm.group(group), qm.start(), qm.end())


def _strength_and_package(
    request: str, form: Found | None, quantity: Found | None
) -> tuple[Found | None, Found | None]:
    """The strength (one per ingredient of a compound, joined in heading order: "10%/6%/5%"),
    and a package size given in mg after the form or the quantity."""
    strengths: list[Found] = []
    amount: Found | None = None
    for m in _STRENGTH.finditer(request):
        unit = _norm_unit(m.group("unit"))
        num = m.group("num")
        compound = "-" in num or "/" in num
        after_form = form is not None and m.start() > form.start
        after_qty = quantity is not None and m.start() > quantity.start
        if unit == "mg" and not compound and not strengths and (after_form or after_qty):
            # "Baclofen cream #2 120mg": a plain mg figure after the form is the package size.
            if amount is None:
                amount = Found(_fmt(m.group("num"), unit), m.start(), m.end())
            continue
        strengths.append(Found(_fmt(m.group("num"), m.group("unit")), m.start(), m.end()))
    if not strengths:
        return None, amount
    joined = Found("/".join(f.value for f in strengths), strengths[0].start, strengths[-1].end)
    return joined, amount


def _amount(request: str) -> Found | None:
    """The first amount not in mg (mg is a strength, or a package size read with it)."""
    for m in _AMOUNT.finditer(request):
        unit = _norm_unit(m.group("unit"))
        if unit != "mg":
            return Found(_fmt(m.group("num"), unit), m.start("num"), m.end())
    return None


def _route(request: str) -> Found | None:
    rm = _ROUTE.search(request)
    if not rm:
        return None
    word = rm.group("route").lower()
    if len(rm.group()) <= 5:
        # An abbreviation ("p.o.", "i. m."): dots and spaces are not part of it.
        word = _DOTS_SPACES.sub("", word)
    word = _SPACES.sub(" ", word)
    return Found(_ROUTE_NORMAL.get(word, word), rm.start(), rm.end())


def _frequency(request: str) -> Found | None:
    fm = _FREQUENCY.search(request)
    if not fm:
        return None
    return Found(_SPACES.sub(" ", fm.group("freq").strip()), fm.start(), fm.end())


# ---------------------------------------------------------------------------------------------
# Guidelines cited in the MAXIMUS guideline paragraph.

_CLAUSE = re.compile(
    r"\b(?:Decision\s+based\s+on|based\s+(?:their|its|his/her|his|her)\s+decision\s+on)\b", re.I
)
# In the first letters one paragraph gives both reviews; only the MAXIMUS reviewer's counts.
_CLAIMS_SENTENCE = re.compile(r"The\s+Claims\s+Administrator\s+based[^.]*(?:\.|$)", re.I)
_MTUS = re.compile(
    r"(?<![-\w])MTUS\b|Medical\s+Treatment\s+Utilization\s+Schedule|Chronic\s+Pain\s+(?:Medical\s+)?"
    r"Treatment\s+Guidelines",
    re.I,
)
_NOT_MTUS = re.compile(r"outside\s+(?:of\s+)?the\s+MTUS|Non-?\s?MTUS|not\s+(?:in|address)", re.I)
# Whether ODG / ACOEM is named anywhere: ``Official Disability Guidelines?|\bODG\b`` and
# ``\bACOEM\b|American College of Occupational`` (tests/test_extract_rules.py holds them to
# these), three times faster: a common first letter lets the engine skip ahead, and
# ``(?<!\w.)`` after it is the word boundary before it.
_ODG_ANY = re.compile(r"O(?:fficial\s+Disability\s+Guideline|(?<!\w.)DG\b)", re.I)
_ACOEM_ANY = re.compile(r"A(?:merican\s+College\s+of\s+Occupational|(?<!\w.)COEM\b)", re.I)
_CITATION = re.compile(r"Non-?\s?MTUS\s+Citation\s*:?\s*(?P<rest>.*)", re.I | re.S)
_NO_SOURCE = re.compile(
    r"^\W*(?:recommendation\(s\)\s+outside\s+of\s+the\s+MTUS(?:\s+Guidelines)?|the\s+expert\s+reviewer"
    r"|none|did\s+not\s+cite)\W*$",
    re.I,
)


# A second source cited in the same sentence: "ODG Pain; FDA prescribing information".
_SOURCE_SPLIT = re.compile(r";|,\s+and\s+(?=(?:the\s+)?[A-Z])")
# What names a publication or publisher rather than an ODG/ACOEM chapter or topic.
_SOURCE_CUE = re.compile(
    r"\b(?:Administration|Association|Society|College|Academy|Institute|Agency|Department"
    r"|Manual|Guidelines?|Reference|Journal|Compendium|Cochrane|University|Medicare|Medicaid"
    r"|FDA|et\s+al|prescribing\s+information|label|J\.|Review|Consensus|Statement"
    r"|Centers?\s+for|Practice\s+Parameters?)\b",
)


# A web address or "Other Medical Treatment Guidelines" after an ODG chapter, with no ';' or
# ', and' between them, is a further source; but "Other Medical Treatment Guidelines ACOEM Hip
# and Groin Disorders" is the label of a source of a family the rules know, ACOEM.
_OTHER_SOURCE = re.compile(
    r"\bhttps?://|\bwww\.|\bOther\s+Medical\s+Treatment\s+Guidelines?\b"
    r"(?![\s:,]*(?:the\s+)?(?:ACOEM|ODG|MTUS|Official\s+Disability|American\s+College\s+of\s+"
    r"Occupational))",
    re.I,
)


def _further_sources(rest: str) -> list[str]:
    """The segments after the first source that do not name a guideline family themselves."""
    segments = _SOURCE_SPLIT.split(rest)[1:]
    return [
        s for s in segments if not (_ODG_ANY.search(s) or _ACOEM_ANY.search(s) or _MTUS.search(s))
    ]


def guidelines(paragraph: str) -> tuple[list[str], float]:
    """Guideline families cited, in SPEC order, and a confidence."""
    found: set[str] = set()
    paragraph = _CLAIMS_SENTENCE.sub(" ", paragraph)
    clauses = [c for c in _CLAUSE.split(paragraph) if c.strip()]
    unread = 0  # clauses that cite something none of the rules recognized
    for clause in clauses:
        cited = _CITATION.search(clause)
        if cited:
            found |= _cited_families(cited.group("rest"))
            continue
        before = len(found)
        found |= _named_families(clause)
        # A clause that adds no family, yet names something: a source the rules cannot read.
        if len(found) == before and _names_a_source(clause):
            unread += 1
    order = ("MTUS", "ODG", "ACOEM", "other")
    value = [g for g in order if g in found]
    if value:
        return value, FALLBACK.guidelines_partly_read if unread else CLEAR.guidelines_read
    return value, ABSENT.no_family if paragraph.strip() else ABSENT.empty_paragraph


def _cited_families(rest: str) -> set[str]:
    """The families after "Non-MTUS Citation:"; "other" for a further source, or for a
    citation that names no family at all."""
    found = set()
    if _ODG_ANY.search(rest):
        found.add("ODG")
    if _ACOEM_ANY.search(rest):
        found.add("ACOEM")
    if _MTUS.search(rest) and not _NOT_MTUS.search(rest):
        found.add("MTUS")
    further = bool(found) and (
        any(_SOURCE_CUE.search(s) for s in _further_sources(rest))
        or bool(_OTHER_SOURCE.search(rest))
    )
    if further or (not found and re.search(r"[A-Za-z]{3,}", rest)):
        found.add("other")
    return found


def _named_families(clause: str) -> set[str]:
    """The families a clause of prose names ("recommendations outside the MTUS" is not MTUS;
    ACOEM counts only when MTUS does not: MTUS incorporates it)."""
    found = set()
    if _MTUS.search(_NOT_MTUS.sub(" ", clause)):
        found.add("MTUS")
    elif _ACOEM_ANY.search(clause):
        found.add("ACOEM")
    if _ODG_ANY.search(clause):
        found.add("ODG")
    return found


def _names_a_source(clause: str) -> bool:
    """Whether a clause holds words beyond a stock "no source" phrase."""
    return not _NO_SOURCE.match(clause) and bool(
        re.search(r"[A-Za-z]{3,}", _NOT_MTUS.sub(" ", clause))
    )
