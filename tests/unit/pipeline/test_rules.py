"""Classification and priority rules: what the help desk means by bug, change, misc and urgent."""
import pytest

from gateway.pipeline.rules import CLASSIFY_RULES, PRIORITY_RULES, decide, evaluate
from gateway.pipeline.steps.thread import subject_tag

CATEGORY = [
    ("Invoice report crashes", "It fails with error 500 since this morning.", "bug"),
    ("Totals wrong", "The monthly report shows wrong totals for March.", "bug"),
    ("New column please", "Could you add a new column for the cost centre to the export?", "change"),
    ("Feature request", "It would be nice to have a filter by region instead of scrolling.", "change"),
    ("New starter", "Please create an account for our new employee Jane from Monday.", "misc"),
    ("Password", "I forgot my password and I am locked out.", "misc"),
    ("Where do I find the holiday form?", "Thanks.", "misc"),
    ("Hello", "Just saying thanks for last week.", "misc"),
]

PRIORITY = [
    ("Mail server down", "The mail server is down for the whole office.", "urgent"),
    ("Cannot log in", "25 users cannot log in to the ERP since 9am.", "urgent"),
    ("Shop", "We are losing money: customers cannot process payments at checkout.", "urgent"),
    ("Security", "I think we have a data breach, customer data was exposed on the web.", "urgent"),
    ("Printer", "Please fix this urgently, it is critical for the board meeting.", "high"),
    ("Report layout", "No rush, whenever convenient.", "low"),
    ("Report layout", "The logo is a bit blurry.", "medium"),
    ("Three users", "3 users cannot print.", "medium"),
]


@pytest.mark.parametrize("subject,body,expected", CATEGORY)
def test_category(subject, body, expected):
    hits = evaluate(CLASSIFY_RULES, subject=subject, body=body)
    assert decide(hits, threshold=1.0, default="misc", order=("bug", "change", "misc")) == expected


@pytest.mark.parametrize("subject,body,expected", PRIORITY)
def test_priority(subject, body, expected):
    hits = evaluate(PRIORITY_RULES, subject=subject, body=body)
    assert decide(hits, threshold=1.0, default="medium", order=("urgent", "high", "medium", "low")) == expected


def test_hits_say_why():
    [hit] = [h for h in evaluate(CLASSIFY_RULES, subject="x", body="it crashed") if h.value == "bug"]
    assert hit.rule == "error-words" and hit.detail == "crashed"


@pytest.mark.parametrize("subject,number", [
    ("Re: [HD-12] Printer", 12), ("AW: SV: VS: [hd-7] x", 7), ("RE : Fwd: [ HD-3 ] y", 3),
    ("[HDX-1] no", None), ("HD-4 without brackets", None),
])
def test_subject_tag(subject, number):
    assert subject_tag(subject, "HD") == number
