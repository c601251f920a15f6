"""Reply stripping: the new part of a reply, from reply bodies as the common clients write them."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.mail.reply_strip import new_text

CASES = [
    ("gmail", "Thanks, that fixed it.\n\nOn Mon, 3 Jun 2024 at 10:12, Help Desk <ihelp@example.com> wrote:\n"
              "> Please try restarting.\n>\n> Bye\n", "Thanks, that fixed it."),
    ("gmail wrapped header", "Thanks.\n\nOn Mon, 3 Jun 2024 at 10:12, Help Desk <\nihelp@example.com> wrote:\n\n"
                             "> Please try restarting.\n", "Thanks."),
    ("apple mail", "Yes.\n\n> On 3 Jun 2024, at 10:12, Help Desk <ihelp@example.com> wrote:\n>\n> Please try.\n",
     "Yes."),
    ("outlook", "Still broken.\n\n________________________________\nFrom: Help Desk <ihelp@example.com>\n"
                "Sent: Monday, June 3, 2024 10:12 AM\nTo: Bob <bob@example.org>\nSubject: RE: [HD-12] printer\n\n"
                "Please try restarting.\n", "Still broken."),
    ("outlook bold", "Done.\r\n\r\n*From:* Help Desk <ihelp@example.com>\r\n*Sent:* Monday\r\n*To:* Bob\r\n\r\nOld",
     "Done."),
    ("original message", "Still broken.\n\n-----Original Message-----\nFrom: Help Desk\nSent: Monday\nTo: Bob\n"
                         "Subject: x\n\nPlease.\n", "Still broken."),
    ("german", "Geht nicht.\n\nAm 03.06.2024 um 10:12 schrieb Help Desk <ihelp@example.com>:\n> Bitte neu starten.\n",
     "Geht nicht."),
    ("german outlook", "Geht nicht.\n\nVon: Help Desk <ihelp@example.com>\nGesendet: Montag, 3. Juni 2024 10:12\n"
                       "An: Bob\nBetreff: AW: x\n\nBitte.\n", "Geht nicht."),
    ("ursprüngliche nachricht", "Danke.\n\n-----Ursprüngliche Nachricht-----\nVon: Help\nAn: Bob\n\nalt",
     "Danke."),
    ("french", "Ça ne marche pas.\n\nLe lun. 3 juin 2024 à 10:12, Help Desk <ihelp@example.com> a écrit :\n"
               "> Essayez.\n", "Ça ne marche pas."),
    ("spanish", "No funciona.\n\nEl lun, 3 jun 2024 a las 10:12, Help Desk (<ihelp@example.com>) escribió:\n> x\n",
     "No funciona."),
    ("dutch", "Werkt niet.\n\nOp ma 3 jun. 2024 om 10:12 schreef Help Desk <ihelp@example.com>:\n> x\n",
     "Werkt niet."),
    ("signature", "Hello\n    indented code stays indented\n\n-- \nBob\nACME Ltd\n",
     "Hello\n    indented code stays indented"),
    ("signature before history", "Fixed.\n\n-- \nBob\n\nOn Mon, 3 Jun 2024, Help <h@x.com> wrote:\n> old\n", "Fixed."),
    ("inline answers", "> you said X\nI disagree.\n> and Y\nOK.\n", "I disagree.\n\nOK."),
    ("nothing quoted", "  Just a question about invoices.\n\nRegards,\nBob  \n",
     "Just a question about invoices.\n\nRegards,\nBob"),
    ("customer says wrote", "On Monday I tried again and it wrote: nothing.\nStill broken.",
     "On Monday I tried again and it wrote: nothing.\nStill broken."),
    # A forward is content the sender passes on to us, not history: keep it whole.
    ("gmail forward", "see below\n\n---------- Forwarded message ---------\nFrom: Shop <shop@x.com>\nDate: Mon\n"
                      "Subject: order\nTo: me\n\nYour order failed.\n",
     "see below\n\n---------- Forwarded message ---------\nFrom: Shop <shop@x.com>\nDate: Mon\n"
     "Subject: order\nTo: me\n\nYour order failed."),
    # Nothing above the history: the history is what was sent, so it stays.
    ("bare outlook forward", "From: Shop <shop@x.com>\nSent: Monday\nTo: me\nSubject: FW: order\n\nFailed.\n",
     "From: Shop <shop@x.com>\nSent: Monday\nTo: me\nSubject: FW: order\n\nFailed."),
    ("all quoted", "> a\n> b\n", "> a\n> b"),
    ("empty", "", ""),
    ("blank", " \n\n ", ""),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[case[0] for case in CASES])
def test_new_text(name, text, expected):
    assert new_text(text) == expected


# Inputs that make naive reply patterns backtrack for minutes (mail-parser-reply alone takes about a
# minute on 20 kB of blank lines).
ADVERSARIAL = {
    "blank lines": "\n" * 1_000_000,
    "spaces": "x" + " " * 1_000_000 + "x",
    "one long On line": "On x " * 200_000,
    "many On … wrote lines": ("On x " * 20 + "wrote\n") * 10_000,
    "from fields": "From: a\n\n" * 110_000,
    "quoted": "> hello world\n" * 70_000,
    "underscores": "_" * 1_000_000 + "x",
    "bare CR lines": "a\r" * 500_000,
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_linear_on_one_megabyte(name):
    started = time.perf_counter()
    new_text(ADVERSARIAL[name])
    assert time.perf_counter() - started < 3.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("ab >-_:\n\r\t@") + ["On ", "wrote:", "From: ", "Sent: ", "-- \n"]),
                max_size=120).map("".join))
def test_never_raises_and_never_invents_text(text):
    result = new_text(text)
    assert isinstance(result, str)
    assert len(result) <= len(text)


def test_a_long_reply_is_searched_for_its_history_only_near_the_top():
    """A 25 MB log was scanned whole, seconds of CPU in the regex engine; now only SCAN_LIMIT of it."""
    from gateway.mail.reply_strip import SCAN_LIMIT

    log = "2026-12-06 export failed: connection reset\n" * (2 * SCAN_LIMIT // 40)
    history = "\nOn Mon, 3 Jun 2024, Help <h@x.com> wrote:\n> Try again\n"
    assert new_text("Here is the log.\n" + history + log) == "Here is the log."
    whole = "Here is the log.\n" + log + history
    assert new_text(whole) == whole.strip()  # history beyond the head is not looked for
