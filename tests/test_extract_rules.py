"""The extraction rules one at a time, on short texts written the ways real letters write them."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imrgold.core.extract import extract
from imrgold.core.extract_items import category, drug_detail, guidelines, keyword_category

ID = "0" * 64
SUMMARY = "CLINICAL CASE SUMMARY\nThe expert reviewer developed the following summary:\n"
ISSUES = (
    "IMR ISSUES, DECISIONS AND RATIONALES\n"
    "The Final Determination was based on decisions for the disputed items/services set forth"
    " below:\n"
)
BLOCK = (
    "Claims Administrator guideline: Decision based on MTUS.\n"
    "MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016.\n"
    "Decision rationale: The request is not medically necessary.\n"
)


def _record(text: str):
    return extract(text, ID).to_record()


@pytest.mark.parametrize(
    ("heading", "wanted", "decision"),
    [
        ("TENS unit: Upheld", "TENS unit", "upheld"),
        ("Lumbar support:  Overturned", "Lumbar support", "overturned"),
        (
            "Additional physical therapy two times four visits (8) for the lumbar and\nbilateral"
            " knees:\nUpheld",
            "Additional physical therapy two times four visits (8) for the lumbar"
            " and bilateral knees",
            "upheld",
        ),
        (
            "Acupuncture 18 sessions was the original request. Acupuncture 6"
            " sessions was authorized"
            "\nby the Claims Administrator. The remaining IMR eligible portion of the original"
            " request,\nAcupuncture 12 sessions is: Upheld",
            "Acupuncture 12 sessions",
            "upheld",
        ),
        (
            "Norco 10/325mg #120 was the original request. The Claims Administrator authorized"
            " Norco\n10/325mg #60, leaving the original request IMR eligible. The original request,"
            " Norco\n10/325mg #120 is: Overturned",
            "Norco 10/325mg #120",
            "overturned",
        ),
        ("Cervical pillow Upheld", "Cervical pillow", "upheld"),
        ("**Baclofen cream #2 120mg:** Upheld", "Baclofen cream #2 120mg", "upheld"),
    ],
)
def test_item_headings(heading: str, wanted: str, decision: str) -> None:
    text = ISSUES + "Earlier rationale ends here.\n" + heading + "\n" + BLOCK
    record = _record(text)
    assert [(i.request, i.decision) for i in record.items] == [(wanted, decision)]
    assert record.items[0].rationale == "The request is not medically necessary."


def test_prose_mentioning_upheld_is_not_an_item() -> None:
    text = (
        ISSUES
        + "MRI lumbar spine: Upheld\n"
        + BLOCK.replace("The request", "The prior decision to deny was: Upheld\nThe request")
    )
    assert [i.request for i in _record(text).items] == ["MRI lumbar spine"]


@pytest.mark.parametrize(
    ("sentence", "age", "sex"),
    [
        ("The injured worker is a 51 year old female who sustained an injury.", 51, "female"),
        ("This 45-year-old gentleman was hurt lifting boxes.", 45, "male"),
        ("The patient, aged 62, reports pain. She uses a cane. Her pain is 6/10.", 62, "female"),
        (
            "He/she reviewed it. The patient reports pain. He was seen. His pain is 5/10.",
            None,
            "male",
        ),
        ("The patient worked there for 10 years and reports pain.", None, None),
        ("He was seen by his wife's doctor; she said he improved.", None, None),
    ],
)
def test_age_and_sex(sentence: str, age, sex) -> None:
    patient = _record(SUMMARY + sentence + "\n").patient
    assert (patient.age, patient.sex) == (age, sex)


@pytest.mark.parametrize(
    ("sentence", "iso"),
    [
        ("This patient has a date of injury of 10/24/00. Seen 2014.", "2000-10-24"),
        ("The patient was injured at work on July 14, 2011.", "2011-07-14"),
        ("He sustained an industrial injury to the low back on 2/28/14.", "2014-02-28"),
        (
            "A now 42-year-old with a history of an occupational claim from 10/21/2016.",
            "2016-10-21",
        ),
        ("She has a DOI of 3-4-2015 and a visit on 4/1/2016.", "2015-03-04"),
    ],
)
def test_date_of_injury_from_the_summary(sentence: str, iso: str) -> None:
    assert _record(SUMMARY + sentence + "\n").date_of_injury.isoformat() == iso


@pytest.mark.parametrize(
    ("text", "diagnoses"),
    [
        (
            "Diagnoses (paraphrased) included lumbar radiculopathy; thoracic spine pain; and knee"
            " arthropathy.",
            ["lumbar radiculopathy", "thoracic spine pain", "knee arthropathy"],
        ),
        (
            "The current diagnosis is documented as dislocation, shoulder.",
            ["dislocation, shoulder"],
        ),
        (
            "Diagnoses include neck sprain, dizziness and giddiness, and concussion.",
            ["neck sprain", "dizziness and giddiness", "concussion"],
        ),
        (
            "Diagnoses:\n1. Lumbar disc protrusion\n2. Lumbar radiculopathy, left\nShe was seen.",
            ["Lumbar disc protrusion", "Lumbar radiculopathy, left"],
        ),
        (
            "Diagnoses, 08/14/13:- Lumbago- Pain in joint, shoulder region- Long-term use of"
            " other medicationsThe review followed.",
            ["Lumbago", "Pain in joint, shoulder region", "Long-term use of other medications"],
        ),
        ("He complains of low back pain and is being treated with medications.", []),
        (
            "The diagnoses have included neck sprain/strain, cervical radiculitis and tinnitus.",
            ["neck sprain/strain", "cervical radiculitis", "tinnitus"],
        ),
        (
            "His diagnoses have been carpal tunnel syndrome, right, and trigger finger.",
            ["carpal tunnel syndrome, right", "trigger finger"],
        ),
        (
            "Diagnoses include: 1) disc protrusion at C5-C6; 2) myelopathy; and 3) neck pain.",
            ["disc protrusion at C5-C6", "myelopathy", "neck pain"],
        ),
        (
            "Diagnoses: 1) Pain in joint, hip 2) Obesity and 3) Insomnia. She was seen.",
            ["Pain in joint, hip", "Obesity", "Insomnia"],
        ),
        (
            "Diagnoses: 1. Pain in joint, hip 2. Obesity\nand sleep apnea. She was seen.",
            ["Pain in joint, hip", "Obesity and sleep apnea"],
        ),
        (
            "Diagnoses: cervicalgia, chronic pain syndrome. She was seen.",
            ["cervicalgia", "chronic pain syndrome"],
        ),
        ("The diagnostic impression is lumbar facet arthropathy.", ["lumbar facet arthropathy"]),
        (
            "The assessment included plantar fasciitis and heel spur.",
            ["plantar fasciitis", "heel spur"],
        ),
        ("The diagnoses have changed since the last visit.", []),
        # Prose forms real letters use (the 60 unlabeled published letters).
        (
            "The injured worker was diagnosed as having lumbar radiculitis and lumbar sprain.",
            ["lumbar radiculitis", "lumbar sprain"],
        ),
        ("She has a diagnosis of neck sprain. This request is for an MRI.", ["neck sprain"]),
        (
            "The records show diagnoses of low back pain and lumbar muscle strain, subsequent.",
            ["low back pain", "lumbar muscle strain, subsequent"],
        ),
        # The sentence goes on past the diagnoses: a part with a verb of its own ends them.
        (
            "The patient is diagnosed with a contusion and initial x-rays reveal signs of"
            " degeneration.",
            ["contusion"],
        ),
        # The sentence's article is not the diagnosis's (CM16-0248655, published).
        (
            "She was diagnosed with a right shoulder sprain and right hip sprain. X-rays were"
            " unremarkable.",
            ["right shoulder sprain", "right hip sprain"],
        ),
        ("The applicant was given a diagnosis of an old ankle sprain.", ["old ankle sprain"]),
        # A ';' list: a group whose ',' pieces each name a condition is a list of its own
        # (CM17-0010728, CM17-0004039, published) ...
        (
            "Diagnoses are left shoulder labral tear, possible rotator cuff tear and impingement"
            " syndrome; left thumb non-displaced fracture. Past history included a fracture.",
            [
                "left shoulder labral tear",
                "possible rotator cuff tear",
                "impingement syndrome",
                "left thumb non-displaced fracture",
            ],
        ),
        (
            "The injured worker has diagnosis that include mild cervical strain, bilateral hand"
            " paresthesia most likely related to the neck; low back strain; left lumbar"
            " radiculopathy. The treatment to date includes meloxicam.",
            [
                "mild cervical strain",
                "bilateral hand paresthesia most likely related to the neck",
                "low back strain",
                "left lumbar radiculopathy",
            ],
        ),
        # The 7th character's wording stays with its injury, in a ';' list as in a ',' list.
        (
            "Diagnoses include nondisplaced fracture of left radial head, initial encounter for"
            " closed fracture; lumbar strain. He was seen.",
            [
                "nondisplaced fracture of left radial head, initial encounter for closed fracture",
                "lumbar strain",
            ],
        ),
        (
            "Diagnoses include left wrist sprain, subsequent encounter, and insomnia.",
            ["left wrist sprain, subsequent encounter", "insomnia"],
        ),
        # ... else its commas are inside one ICD-10-CM name (hold_d5, CM17-0003284).
        (
            "Diagnoses include post-traumatic stress disorder; major depressive disorder, single"
            " episode, moderate; and insomnia due to medical condition.",
            [
                "post-traumatic stress disorder",
                "major depressive disorder, single episode, moderate",
                "insomnia due to medical condition",
            ],
        ),
        (
            "Diagnoses include sprain of the ligaments of the cervical spine; strain of muscle,"
            " fascia, and tendon at neck level; carpal tunnel syndrome, left upper limb; other"
            " synovitis and tenosynovitis, left hand; and pain in right arm.",
            [
                "sprain of the ligaments of the cervical spine",
                "strain of muscle, fascia, and tendon at neck level",
                "carpal tunnel syndrome, left upper limb",
                "other synovitis and tenosynovitis, left hand",
                "pain in right arm",
            ],
        ),
        # "a diagnosis of" is a past condition where the current diagnoses are stated.
        (
            "Diagnoses include neck sprain and insomnia. He has a history of a diagnosis of"
            " asthma.",
            ["neck sprain", "insomnia"],
        ),
        # An ICD-10-CM name with commas inside stays whole; the list's own commas split.
        (
            "His diagnoses include strain of unspecified muscle, fascia and tendon at upper arm"
            " level, right arm, and strain of muscle, fascia and tendon at neck level.",
            [
                "strain of unspecified muscle, fascia and tendon at upper arm level, right arm",
                "strain of muscle, fascia and tendon at neck level",
            ],
        ),
        (
            "The injured worker was diagnosed as having cervical strain, lumbar strain, lumbar"
            " disc protrusion, and insomnia.",
            ["cervical strain", "lumbar strain", "lumbar disc protrusion", "insomnia"],
        ),
        (
            "Diagnoses:\n- Status post knee arthroplasty\n- Morbid obesity\nHe underwent surgery.",
            ["Status post knee arthroplasty", "Morbid obesity"],
        ),
        (
            "Diagnoses:\n- Lumbar disc displacement without\nmyelopathy\n-"
            " Insomnia\n\nHe was seen.",
            ["Lumbar disc displacement without myelopathy", "Insomnia"],
        ),
    ],
)
def test_diagnoses(text: str, diagnoses: list[str]) -> None:
    assert [d.text for d in _record(SUMMARY + text + "\n").diagnoses] == diagnoses


# Sentences of real rationales (unlabeled published letters whose summaries state no
# diagnosis), and what a rationale says that is not the patient's diagnosis.
@pytest.mark.parametrize(
    ("rationale", "diagnoses"),
    [
        (
            "The claimant is a 34 year old male who sustained an industrial injury on 10-17-2016."
            " His diagnoses include strain of unspecified muscle, fascia and tendon at upper arm"
            " level, right arm, and strain of muscle, fascia and tendon at neck level.",
            [
                "strain of unspecified muscle, fascia and tendon at upper arm level, right arm",
                "strain of muscle, fascia and tendon at neck level",
            ],
        ),
        (
            "The claimant is a 37 year old female. She has a diagnosis of neck sprain.",
            ["neck sprain"],
        ),
        (
            "The patient is\ndiagnosed with a contusion and initial x-rays reveal signs of"
            " degeneration at the L5/S1 disc.",
            ["contusion"],
        ),
        (
            "In this case, the injured worker's working diagnoses are left shoulder labral tear;"
            " left thumb non-displaced fracture.",
            ["left shoulder labral tear", "left thumb non-displaced fracture"],
        ),
        (
            "On November 3, 2016, the applicant was given diagnoses of neck and shoulder strain.",
            ["neck and shoulder strain"],
        ),
        # A guideline's words, or the patient named inside a clause: no diagnosis of the patient.
        (
            "There are physical examination findings supporting a diagnosis of radiculopathy."
            " Imaging studies should be reserved for cases in which red-flag diagnoses are being"
            " evaluated. Electrodiagnostic studies help with the diagnosis of focal nerve"
            " entrapment.",
            [],
        ),
        ("The recommended number of sessions for the patient's diagnosis is 10 visits.", []),
        # A PDF's line wrapped before the subject (CM16-0245295): no sentence starts there.
        (
            "According to the MTUS, the recommended number of sessions for the\npatient's"
            " diagnosis is 10 visits over 8 weeks.",
            [],
        ),
        ("When the diagnosis is clinically obvious, NCV testing is not helpful.", []),
    ],
)
def test_diagnoses_from_a_rationale_when_the_summary_states_none(rationale, diagnoses) -> None:
    block = BLOCK.replace("The request is not medically necessary.", rationale)
    letter = SUMMARY + "He was seen for pain.\n" + ISSUES + "MRI of the neck: Upheld\n" + block
    record = _record(letter)
    assert [d.text for d in record.diagnoses] == diagnoses
    # The summary's own statement is the record's: the rationale's retelling adds nothing.
    stated = SUMMARY + "Diagnoses include insomnia.\n" + letter[len(SUMMARY) :]
    assert [d.text for d in _record(stated).diagnoses] == ["insomnia"]


@pytest.mark.parametrize(
    ("text", "specialties", "subspecialties", "licensure"),
    [
        (
            "The physician reviewer is Board Certified in Internal Medicine & Emergency Medicine,"
            " and is licensed to practice in Florida.",
            ["Internal Medicine", "Emergency Medicine"],
            [],
            ["FL"],
        ),
        (
            "The expert reviewer is Board Certified in Physical Medicine and Rehabilitation, has a"
            "\nsubspecialty in Pain Medicine and is licensed to practice in New York and Ohio.",
            ["Physical Medicine and Rehabilitation"],
            ["Pain Medicine"],
            ["NY", "OH"],
        ),
        (
            "The physician reviewer is Board Certified in Orthopaedic Surgery. He/she is licensed"
            " to practice in Ohio and Texas.",
            ["Orthopaedic Surgery"],
            [],
            ["OH", "TX"],
        ),
        (
            "The reviewer is Board Certified in Psychiatry, has a subspecialty in Addiction"
            " Psychiatry and Forensic Psychiatry and is licensed to practice in Texas.",
            ["Psychiatry"],
            ["Addiction Psychiatry", "Forensic Psychiatry"],
            ["TX"],
        ),
        (
            "The Expert Reviewer has the following credentials:\nState(s) of Licensure:"
            " California,Texas\nCertification(s)/Specialty: Preventive Medicine, Public Health &\n"
            "General Preventive Medicine\n",
            ["Preventive Medicine", "Public Health & General Preventive Medicine"],
            [],
            ["CA", "TX"],
        ),
    ],
)
def test_reviewer_wordings(text, specialties, subspecialties, licensure) -> None:
    reviewer = _record(
        "HOW THE IMR FINAL DETERMINATION WAS MADE\n" + text + "\n" + SUMMARY
    ).reviewer
    assert (reviewer.specialties, reviewer.subspecialties, reviewer.licensure) == (
        specialties,
        subspecialties,
        licensure,
    )


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        (
            "Fexmid 7.5mg 1 po q8-12 prn #90",
            {"strength": "7.5 mg", "quantity": "90", "route": "oral", "frequency": "q8-12 prn"},
        ),
        (
            "Diclofenac Sodium 1.5% 60 gm qty 1",
            {"strength": "1.5%", "amount": "60 g", "quantity": "1"},
        ),
        ("Baclofen cream #2 120mg", {"form": "cream", "amount": "120 mg", "quantity": "2"}),
        (
            "Voltaren gel 4 times a day, #60 grams with 1 refill",
            {"form": "gel", "amount": "60 g", "frequency": "4 times a day"},
        ),
        (
            "Gabapentin 10%, Cyclobenzaprine 6%, Bupivacaine 5% in cream base",
            {"strength": "10%/6%/5%", "form": "cream"},
        ),
        (
            "Fanatrex 25mg/ml oral suspension 420ml",
            {"strength": "25 mg/ml", "form": "suspension", "amount": "420 ml", "route": "oral"},
        ),
        (
            "Tramadol ER 150mg 1 tab BID #60",
            {"strength": "150 mg", "form": "tablet", "quantity": "60", "frequency": "BID"},
        ),
    ],
)
def test_drug_detail(request_text: str, expected: dict[str, str]) -> None:
    found = {k: v.value for k, v in drug_detail(request_text).items() if v is not None}
    assert found == expected


@pytest.mark.parametrize(
    ("request_text", "drugs", "expected"),
    [
        ("Orthopedic surgery consultation for the right knee", [], "consultation"),
        ("Associated surgical service: Physical therapy, times 12", [], "therapy"),
        ("Associated surgical service: Cold therapy for one week", [], "equipment"),
        ("Functional capacity evaluation (FCE)", [], "other"),
        ("Lidocaine trigger point injections x4", ["lidocaine"], "procedure"),
        ("Toradol 60mg injection", ["ketorolac"], "medication"),
        ("Post-op Zofran", ["ondansetron"], "medication"),
        ("MARS MRI scan of right hip", [], "imaging"),
        ("Spinal cord stimulator trial", [], "procedure"),
        ("Home health aide 4 hours a day", [], "other"),
        ("Psychological evaluation", [], "consultation"),
        ("Sit-stand workstation", [], "equipment"),
        ("Psychiatric medication management visits, once a month for 6 months", [], "consultation"),
        ("Daily RN for 4 weeks for wound care and home safety, medication management", [], "other"),
        # Rented or bought: equipment, whatever the thing does.
        ("Hot/cold compression therapy, 14 day rental", [], "equipment"),
        ("Knee wrap, purchase", [], "equipment"),
        ("Hearing aid for the left ear", [], "equipment"),
        # A course of visits is therapy, even named by its machine or as a referral.
        ("Therapeutic ultrasound 3 times a week for 2 weeks", [], "therapy"),
        ("Ultrasound of the right shoulder", [], "imaging"),
        ("Electrical stimulation times 6", [], "therapy"),
        ("Referral to acupuncturist, twice a week for 4 weeks", [], "therapy"),
        ("Referral to orthopedic surgeon", [], "consultation"),
        ("Home health aide 3 times a week for 4 weeks", [], "other"),
        # An evaluation or re-examination without a course of visits is a consultation.
        ("Physical therapy re-evaluation", [], "consultation"),
        ("Re-examination by acupuncturist", [], "consultation"),
        ("Chiropractic treatment, 8 visits", [], "therapy"),
        ("Pre-operative internal medicine clearance", [], "consultation"),
        # What a prefix lists decides: "Labs to include: X" is X.
        ("Pre-op labs to include: CBC", [], "other"),
        ("Labs to include: lumbar spine x-rays", [], "imaging"),
        # Laboratory tests are "other", whatever their abbreviation.
        ("Pre-operative PT/PTT", [], "other"),
        ("CMP and INR", [], "other"),
        ("Urinalysis", [], "other"),
        ("Comprehensive metabolic panel", [], "other"),
        # Heat and cold: a pad or unit is equipment, sessions are therapy.
        ("Custom touch back heat therapy pad", [], "equipment"),
        ("Infrared heat to the low back, 6 sessions", [], "therapy"),
        ("Myofascial release 2 times a week for 3 weeks", [], "therapy"),
        ("Spine surgery evaluation", [], "consultation"),
        # What comes with the thing named first does not change what it is.
        ("Cervical facet injection with anesthesiology consultation", [], "procedure"),
        ("Consultation with a spine surgeon", [], "consultation"),
    ],
)
def test_category(request_text: str, drugs: list[str], expected: str) -> None:
    assert category(request_text, drugs)[0] == expected


def test_unknown_product_is_a_medication_when_the_rationale_says_so() -> None:
    context = "The guidelines do not recommend compound drugs. Medication in tablet form."
    assert keyword_category("Ketophene (unknown quantity)") is None
    assert category("Ketophene (unknown quantity)", [], context)[0] == "medication"
    assert category("Ketophene (unknown quantity)", [], "")[0] == "other"


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        (
            "Decision based on MTUS Chronic Pain Treatment Guidelines TOPICAL ANALGESICS Page(s):"
            " 111-113. Decision based on Non-MTUS Citation Official Disability Guidelines (ODG)"
            " Pain",
            ["MTUS", "ODG"],
        ),
        (
            "The Expert Reviewer based their decision on recommendation(s) outside of the MTUS"
            " Guidelines. Decision based on Non-MTUS Citation Official Disability Guidelines (ODG)",
            ["ODG"],
        ),
        ("Decision based on MTUS Low Back Complaints 2004, Section(s): Special Studies.", ["MTUS"]),
        ("Decision based on Non-MTUS Citation ACOEM Guidelines, Chapter 7, page 137.", ["ACOEM"]),
        (
            "Decision based on MTUS Forearm 2004. Decision based on Non-MTUS Citation Green's"
            " Operative Hand Surgery.",
            ["MTUS", "other"],
        ),
        ("The Expert Reviewer did not cite any medical evidence for its decision.", []),
        (
            "Decision based on Non-MTUS Citation Official Disability Guidelines"
            " (ODG) Pain, Opioids;"
            " U.S. Food and Drug Administration, Norco label.",
            ["ODG", "other"],
        ),
        (
            "Decision based on Non-MTUS Citation Official Disability Guidelines (ODG) Low Back;"
            " Smith AB, et al. Spine J. 2010;10(2):1-9.",
            ["ODG", "other"],
        ),
        (
            "Decision based on Non-MTUS Citation Official Disability Guidelines"
            " (ODG) Pain, Opioids,"
            " and American Society of Anesthesiologists Practice Guidelines.",
            ["ODG", "other"],
        ),
        # A topic after a semicolon is still the same source.
        (
            "Decision based on Non-MTUS Citation Official Disability Guidelines (ODG) Knee & Leg;"
            " Knee brace; Criteria for use.",
            ["ODG"],
        ),
        ("Decision based on Non-MTUS Citation ODG Pain; ACOEM Chapter 6.", ["ODG", "ACOEM"]),
        (
            "Decision based on Non-MTUS Citation Official Disability Guidelines"
            " (ODG), Mental Illness"
            " & Stress, and the American Psychiatric Association Practice Guideline.",
            ["ODG", "other"],
        ),
        # A second source with no ';' or ', and' before it: named as such, or a web address.
        (
            "Decision based on Non-MTUS Citation Official Disability Guidelines"
            " (ODG) Pain and Other"
            " Medical Treatment Guidelines.",
            ["ODG", "other"],
        ),
        (
            "Decision based on Non-MTUS Citation Official Disability Guidelines (ODG) Knee/DME and"
            " https://www.example.gov/manuals/ch15.pdf.",
            ["ODG", "other"],
        ),
        # The label introduces a source of a known family (CM16-0248655, published).
        (
            "Decision based on Non-MTUS Citation Official Disability Guidelines (ODG) Hips and"
            " Pelvis (Acute and Chronic), MRI (magnetic resonance imaging) and Other Medical"
            " Treatment Guidelines ACOEM Hip and Groin Disorders, Diagnostic Testing, MRI.",
            ["ODG", "ACOEM"],
        ),
        (
            "Decision based on Non-MTUS Citation ODG Low Back and Other Medical Treatment"
            " Guidelines www.mdguidelines.com.",
            ["ODG", "other"],
        ),
    ],
)
def test_guidelines(paragraph: str, expected: list[str]) -> None:
    assert guidelines(paragraph)[0] == expected


def test_a_label_run_on_mid_line_is_still_found() -> None:
    block = (
        "Claims Administrator guideline: Decision based on MTUS. MAXIMUS guideline: Decision"
        " based on Non-MTUS Citation Official Disability Guidelines (ODG).\n"
        "Decision rationale: The request is not medically necessary.\n"
    )
    item = _record(ISSUES + "TENS unit: Upheld\n" + block).items[0]
    assert (item.guidelines, item.rationale) == (["ODG"], "The request is not medically necessary.")


def test_licensure_list_wrapped_after_a_comma_and_an_abbreviated_age() -> None:
    text = (
        "HOW THE IMR FINAL DETERMINATION WAS MADE\nThe Expert Reviewer has the following"
        " credentials:\nState(s) of Licensure: California, Texas,\nFlorida\n"
        "Certification(s)/Specialty: Family Medicine\n" + SUMMARY + "The patient is a 45 yr. old"
        " male.\n"
    )
    record = _record(text)
    assert record.reviewer.licensure == ["CA", "TX", "FL"]
    assert (record.patient.age, record.patient.sex) == (45, "male")


@pytest.mark.parametrize(
    ("request_text", "asked"),
    [
        ("EMG bilateral lower extremities", False),
        ("Left shoulder arthroscopy with Bankart repair", False),
        ("Lumbar epidural steroid injection", False),
        ("MRI of the lumbar spine", False),
        ("Toradol injection", True),
        ("Norco after knee surgery", True),
        ("Post-op Percocet 5/325mg", True),
        ("Theramine #120", True),
    ],
)
def test_the_lexicon_is_asked_only_when_a_drug_may_be_named(request_text, asked) -> None:
    from imrgold.core.extract_items import might_be_drug

    assert might_be_drug(request_text) is asked


def test_a_drug_named_before_a_surgery_is_the_item() -> None:
    assert category("Norco after knee surgery", ["acetaminophen", "hydrocodone"])[0] == (
        "medication"
    )


def test_a_diagnosis_over_several_sites_stays_whole():
    """'strain in right hip, ankle, and foot' names one strain at three sites: the last 'and'
    would cut off a bare site, which is no diagnosis."""
    record = _record(SUMMARY + "The current diagnoses are documented as strain in right hip, "
                     "ankle, and foot. He was seen.\n")  # fmt: skip
    assert [d.text for d in record.diagnoses] == ["strain in right hip, ankle, and foot"]


# The readable statements of what the extractor's guideline searches find (core.extract_items).
_ODG_READABLE = re.compile(r"Official\s+Disability\s+Guidelines?|\bODG\b", re.I)
_ACOEM_READABLE = re.compile(r"\bACOEM\b|American\s+College\s+of\s+Occupational", re.I)
_GUIDELINE_WORDS = st.lists(
    st.sampled_from(
        [
            "ODG",
            "odg",
            "ODGs",
            "xODG",
            "ODG.",
            "(ODG)",
            "ACOEM",
            "acoem",
            "ACOEMx",
            "_ACOEM",
            "Official",
            "Disability",
            "Guideline",
            "Guidelines",
            "American",
            "College",
            "of",
            "Occupational",
            "O",
            "A",
            "DG",
            "COEM",
            "\n",
            "-",
            "9",
            "é",
        ]
    ),
    max_size=12,
)


@settings(max_examples=300)
@given(_GUIDELINE_WORDS, st.sampled_from([" ", "", "\n", "  "]))
def test_the_fast_guideline_searches_find_what_the_readable_ones_do(words, sep):
    from imrgold.core.extract_items import _ACOEM_ANY, _ODG_ANY

    text = sep.join(words)
    assert bool(_ODG_ANY.search(text)) == bool(_ODG_READABLE.search(text)), text
    assert bool(_ACOEM_ANY.search(text)) == bool(_ACOEM_READABLE.search(text)), text


@functools.cache
def _real_letter_texts() -> tuple[str, ...]:
    """The bundled real letters and the held-out ones, as text."""
    root = Path(__file__).resolve().parent.parent / "fixtures"
    return tuple(
        path.read_text(encoding="utf-8", errors="replace")
        for path in [*root.glob("letters/*.txt"), *root.glob("holdout/letters/*")]
    )


def test_the_fast_guideline_searches_agree_on_every_real_paragraph():
    from imrgold.core.extract_items import _ACOEM_ANY, _ODG_ANY

    paragraphs = [p for text in _real_letter_texts() for p in text.split("\n\n")]
    assert len(paragraphs) > 1000
    for p in paragraphs:
        assert bool(_ODG_ANY.search(p)) == bool(_ODG_READABLE.search(p))
        assert bool(_ACOEM_ANY.search(p)) == bool(_ACOEM_READABLE.search(p))


_DECISION_READABLE = re.compile(
    r"(?P<decision>Upheld|Overturned|UPHELD|OVERTURNED|upheld|overturned)\b[ \t.]*$", re.M
)


def _decision_spans(matches) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group("decision")) for m in matches]


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(
            [
                "Upheld",
                "upheld",
                "UPHELD",
                "Overturned",
                "overturned",
                "OVERTURNED",
                "UpHeld",
                "Upheldx",
                ":",
                " is",
                ".",
                " ",
                "\t",
                "\n",
                "x",
                "Decision",
            ]
        ),
        max_size=14,
    ),
    st.integers(0, 5),
    st.integers(0, 5),
)
def test_the_decision_scan_finds_what_the_alternation_does(parts, lo, cut):
    from imrgold.core.sections import _decision_words

    text = "".join(parts)
    hi = max(lo, len(text) - cut)
    assert _decision_spans(_decision_words(text, lo, hi)) == _decision_spans(
        _DECISION_READABLE.finditer(text, lo, hi)
    )


def test_the_decision_scan_agrees_on_every_real_letter():
    from imrgold.core.sections import _decision_words

    found = 0
    for text in _real_letter_texts():
        fast = _decision_spans(_decision_words(text, 0, len(text)))
        assert fast == _decision_spans(_DECISION_READABLE.finditer(text))
        found += len(fast)
    assert found > 100


# Letters copy ICD-10-CM names into their lists ("strain of unspecified muscle, fascia and tendon
# at upper arm level, right arm"): a list of the names workers' compensation letters use comes
# back as those names, commas inside them or not.
@functools.cache
def _icd_names() -> list[str]:
    from imrgold.core import icd10

    table = icd10._table()
    categories = set(re.findall(r"\w+", "S13 S16 S33 S39 S43 S46 S52 S62 S63 S82 S83 S93 M25 M47"
                                          " M50 M51 M54 M65 M75 M77 M79 G56"))  # fmt: skip
    names = (" ".join(d.split()) for c, d in zip(table.codes, table.descriptions, strict=True)
             if c[:3] in categories and " and " not in d and ";" not in d)  # fmt: skip
    return [name[0].lower() + name[1:] for name in names]


@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from([", ", "; "]))
def test_a_list_of_icd_names_splits_into_those_names(data, separator):
    names = data.draw(st.lists(st.sampled_from(_icd_names()), min_size=2, max_size=4))
    conjunction = ", and " if separator == ", " else "; "
    text = separator.join(names[:-1]) + conjunction + names[-1]
    got = [d.text for d in _record(SUMMARY + f"Diagnoses include {text}. He was seen.\n").diagnoses]
    assert got == list(dict.fromkeys(names))  # a name listed twice is one diagnosis


def test_an_icd_name_with_and_stays_whole_at_the_end_of_a_list():
    text = "Diagnoses include carpal tunnel syndrome, left upper limb; other synovitis and"
    text += " tenosynovitis, unspecified hand. He was seen.\n"
    assert [d.text for d in _record(SUMMARY + text).diagnoses] == [
        "carpal tunnel syndrome, left upper limb",
        "other synovitis and tenosynovitis, unspecified hand",
    ]
