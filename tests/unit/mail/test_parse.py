"""The mail parser, tested from the nasty sample mails in tests/data/nasty/ and from fuzzed bytes."""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import UTC
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import Quarantine
from gateway.mail.parse import ParseLimits, normalise_message_id, parse, parse_id_list

NASTY = Path(__file__).resolve().parents[2] / "data" / "nasty"
USABLE = sorted(NASTY.glob("*.eml"))
UNUSABLE = sorted((NASTY / "unusable").glob("*.eml"))


@dataclass(frozen=True)
class Case:
    file: str
    subject: str
    from_addr: str
    message_id: str | None
    text: tuple[str, ...] = ()  # substrings the body text must contain
    attachments: tuple[tuple[str, str, bool], ...] = ()  # (filename, content_type, inline), in order


CASES = [
    Case("latin1-labelled-utf8.eml", "Drucker im Büro defekt", "hans@example.de",
         "20260203091500.4711@mail.example.de", ("Grüße aus Köln", "Café ist auch leer")),
    Case("unknown-8bit.eml", "Problème de connexion – urgent", "renee@example.fr", "unknown8bit-1@example.fr",
         ("mise à jour", "— Renée")),
    Case("gb2312.eml", "账户无法登录", "xiaoming@example.cn", "gb2312-sample@example.cn", ("我的账户无法登录",)),
    Case("big5-qp.eml", "發票", "chen@example.tw", "big5-sample@example.tw", ("請問發票什麼時候會寄出",)),
    Case("iso-2022-jp.eml", "パスワード再設定", "yamada@example.jp", "jp-sample@example.jp", ("パスワードの再設定ができません",)),
    Case("x-user-defined.eml", "Contraseña olvidada", "jose@example.es", "xud@example.es",
         ("Olvidé mi contraseña", "“otra vez”")),
    Case("html-only.eml", "Your order #5521 could not be shipped", "noreply@shop.example",
         "html-only-5521@shop.example",
         ("Order problem", "order #5521 & need your address", "€12.50")),
    Case("alternative-empty-plain.eml", "Account locked", "marketing@example.com", "alt-empty@example.com",
         ("My account is locked after 3 attempts.",)),
    Case("outlook-related-inline.eml", "Fehlermeldung beim Öffnen", "anna.mueller@corp.example",
         "AM0PR07MB1234ABCD5678EF90@AM0PR07MB1234.eurprd07.prod.outlook.com",
         ("beim Öffnen der Datei", "Gruß Anna"),
         (("image001.png", "image/png", True), ("attachment-2.jpg", "image/jpeg", True),
          ("unused-photo.png", "image/png", False))),
    Case("rfc2231-continuation.eml", "Candidature", "claire@example.fr", "rfc2231@example.fr",
         ("mon CV ci-joint",), (("Résumé année 2026.pdf", "application/pdf", False),)),
    Case("rfc2047-filename.eml", "Übersicht März", "buchhaltung@example.de", "rfc2047-file@example.de",
         ("Anbei die Übersicht.",),
         (("Übersicht März 2026.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False),)),
    Case("forwarded-rfc822.eml", "Fwd: Original problem report", "lead@corp.example", "fwd-outer@corp.example",
         ("see the customer's mail below",), (("Original problem report.eml", "message/rfc822", False),)),
    Case("rfc822-base64.eml", "forwarding", "y@example.org", "rfc822-b64@example.org", ("outer text",),
         (("Inner été.eml", "message/rfc822", False),)),
    Case("base64-bad-padding.eml", "VPN drops", "bob@example.com", "b64pad@example.com",
         ("disconnects every 5 minutes", "Please help."), (("vpn.log", "text/plain", False),)),
    Case("qp-soft-breaks.eml", "QP test", "printer-admin@example.com", "qp-soft@example.com",
         ("mail program with a soft line break in the middle.", "100=ZZ off", "Café crème brûlée",
          "ends with an equals sign")),
    Case("missing-close-boundary.eml", "Screenshot attached", "alice@example.net", "noclose@example.net",
         ("login page shows an error",), (("shot.png", "image/png", False),)),
    Case("boundary-not-declared.eml", "Nightly job failed", "legacy-app@example.net", "noboundary@example.net",
         ("failed with exit code 3",), (("report.csv", "text/csv", False),)),
    Case("wrong-boundary.eml", "Wrong boundary", "carol@example.org", "wrongboundary@example.org",
         ("The calendar sync stopped working.",)),
    Case("no-message-id.eml", "disk full on db-3", "ops@example.com", None, ("/var is at 100%.",)),
    Case("multiple-message-ids.eml", "Re: [HD-42] Printer again", "dave@example.com", "first-id@example.com",
         ("Still broken.",)),
    Case("subject-crlf-injection.eml", "hello Bcc: evil@x", "eve@evil.example", "inject@evil.example", ("body",)),
    Case("empty-body.eml", "", "frank@example.com", "empty@example.com"),
    Case("winmail-tnef.eml", "Meeting notes", "grace@navy.example", "tnef-1@navy.example",
         ("Notes are in the attachment.",), (("winmail.dat", "application/ms-tnef", False),)),
    Case("octet-stream-only.eml", "Scan", "scanner@example.com", "scan-0001@example.com", (),
         (("attachment-1.bin", "application/octet-stream", False),)),
    Case("dsn-report.eml", "Undelivered Mail Returned to Sender", "mailer-daemon@mx.example.net",
         "dsn-1@mx.example.net", ("could not be delivered",),
         (("attachment-1.txt", "message/delivery-status", False), ("attachment-2.txt", "text/rfc822-headers", False))),
    Case("evil-filenames.eml", "invoices", "mallory@evil.example", "evil-names@evil.example", ("see attached",),
         ((".._.._etc_passwd", "application/octet-stream", False),
          (".._.._windows_evil.exe", "application/octet-stream", False),
          ("invoicefdp.exe", "application/octet-stream", False),
          ("A" * 196 + ".txt", "text/plain", False),
          ("Rechnung März.pdf", "application/pdf", False),
          ("attachment-6.gif", "image/gif", False))),
]


def load(name: str):
    return parse((NASTY / name).read_bytes())


def test_every_sample_has_a_row():
    assert {c.file for c in CASES} == {p.name for p in USABLE}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.file)
def test_fields(case: Case):
    mail = load(case.file)
    assert mail.subject == case.subject
    assert mail.from_addr == case.from_addr
    assert mail.message_id == case.message_id
    for piece in case.text:
        assert piece in mail.text
    assert not case.text or mail.text == mail.text.strip()
    assert [(a.filename, a.content_type, a.inline) for a in mail.attachments] == list(case.attachments)
    for part in mail.attachments:
        assert part.size == len(part.data) and part.sha256 == hashlib.sha256(part.data).hexdigest()


@pytest.mark.parametrize("path", USABLE, ids=lambda p: p.name)
def test_usable_samples_parse_into_clean_strings(path: Path):
    mail = parse(path.read_bytes())
    one_line = [mail.subject, mail.from_name, mail.from_addr, *mail.to, *mail.cc, *mail.reply_to,
                *[a.filename for a in mail.attachments]]
    for value in one_line:
        assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value), value
    for value in (mail.text, mail.html or ""):
        value.encode("utf-8")  # no lone surrogates left over from undecodable bytes
        assert "\x00" not in value and "\r" not in value
    assert mail.date is None or mail.date.tzinfo is not None


@pytest.mark.parametrize("path", UNUSABLE, ids=lambda p: p.name)
def test_unusable_samples_are_quarantined(path: Path):
    with pytest.raises(Quarantine) as caught:
        parse(path.read_bytes())
    assert caught.value.reason.startswith(("empty mail", "no header block"))


def test_html_only_text_has_no_style_or_script():
    mail = load("html-only.eml")
    assert "do-not-show" not in mail.text and "color" not in mail.text and "display:none" not in mail.text
    assert mail.html is not None and "<script>" in mail.html


def test_forwarded_mail_stays_an_attachment():
    mail = load("forwarded-rfc822.eml")
    assert "INNER-SECRET-TEXT" not in mail.text
    inner = BytesParser(policy=policy.default).parsebytes(mail.attachments[0].data)
    assert inner["Message-ID"] == "<inner-original@example.org>"
    assert [p.get_filename() for p in inner.iter_attachments()] == ["crash.log"]
    assert "INNER-SECRET-TEXT" in inner.get_body(("plain",)).get_content()


def test_inline_images_keep_their_content_ids():
    mail = load("outlook-related-inline.eml")
    assert [a.content_id for a in mail.attachments] == [
        "image001.png@01DC7A2B.3C4D5E60", "logo.jpg@01DC7A2B.3C4D5E60", "unused@01DC7A2B"]
    assert mail.attachments[0].data.startswith(b"\x89PNG")
    assert mail.html is not None and "cid:image001.png" in mail.html
    assert mail.cc == ("boss@corp.example", "it@corp.example")
    assert mail.from_name == "Müller, Anna"


def test_header_injection_is_folded_away():
    mail = load("subject-crlf-injection.eml")
    assert "\r" not in mail.subject and "\n" not in mail.subject
    assert mail.from_name == "Eve Bcc: victim@x"
    assert mail.header("X-Custom") == "line1 line2"
    assert mail.header("x-priority") == "1"
    assert mail.header("X-Not-There") is None


def test_ids_addresses_and_dates_of_a_messy_reply():
    mail = load("multiple-message-ids.eml")
    assert mail.in_reply_to == ("hd-42-ack@helpdesk.example",)
    assert mail.references == ("root@example.com", "hd-42-ack@helpdesk.example", "comma@x.example")
    assert mail.to == ("support@helpdesk.example", "second-to@example.com")
    assert mail.reply_to == ("dave.private@example.com", "ops@example.com")
    assert mail.date is not None and mail.date.utcoffset().total_seconds() == 0


def test_mbox_from_line_missing_date_and_id():
    mail = load("no-message-id.eml")
    assert mail.date is None and mail.message_id is None and mail.from_name == ""


def test_defects_are_reported_not_fatal():
    assert "CloseBoundaryNotFoundDefect" in load("missing-close-boundary.eml").defects
    assert "NoBoundaryInMultipartDefect" in load("boundary-not-declared.eml").defects
    assert "InvalidHeaderDefect" in load("subject-crlf-injection.eml").defects


def test_evil_filenames_are_sanitised():
    for part in load("evil-filenames.eml").attachments:
        assert "/" not in part.filename and "\\" not in part.filename
        assert len(part.filename) <= 200 and part.filename not in (".", "..")
        assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in part.filename)


@pytest.mark.parametrize(("raw", "expected"), [
    (None, None), ("", None), ("  <>  ", None), ("<abc@x>", "abc@x"), ("  < abc@x >\r\n", "abc@x"),
    ("<a@x> <b@y>", "a@x"), ("bare@id.example", "bare@id.example"), ("<a@x", "a@x"),
])
def test_normalise_message_id(raw, expected):
    assert normalise_message_id(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    (None, ()), ("", ()), ("garbage only", ()), ("<a@x> junk <b@y>\r\n <a@x>", ("a@x", "b@y")),
    ("<a@x>,<b@y>", ("a@x", "b@y")), ("<a@x> (Your message of ...) <>", ("a@x",)),
    ("a@x b@y", ("a@x", "b@y")),  # brackets dropped by a broken client
])
def test_parse_id_list(raw, expected):
    assert parse_id_list(raw) == expected


def test_naive_date_becomes_utc_and_bad_date_is_none():
    mail = parse(b"From: a@b.example\r\nDate: Mon, 2 Feb 2026 10:00:00 -0000\r\n\r\nx")
    assert mail.date is not None and mail.date.tzinfo == UTC
    assert parse(b"From: a@b.example\r\nDate: yesterday-ish\r\n\r\nx").date is None


def test_nul_and_lone_cr_are_removed_from_text():
    mail = parse(b"From: a@b.example\r\nSubject: s\r\n\r\nline1\x00\rline2\r\n")
    assert mail.text == "line1\nline2"


def nested(levels: int) -> bytes:
    head = b"From: a@b.example\r\n"
    opening = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(levels))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(levels)))
    return head + opening + b"Content-Type: text/plain\r\n\r\ndeep text" + closing


def many_parts(count: int) -> bytes:
    parts = b"".join(b"--z\r\nContent-Type: application/octet-stream\r\n\r\nx%d\r\n" % i for i in range(count))
    return b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n" + parts + b"--z--\r\n"


@pytest.mark.parametrize(("raw", "reason"), [
    (many_parts(811), "too many MIME parts: 812 > 500"),
    (many_parts(201), "too many attachments: 201 > 200"),
    (nested(21), "MIME nesting too deep: more than 20 levels"),
    (nested(1200), "MIME nesting too deep: more than 20 levels (the parser gave up)"),
    (b"From: a@b.example\r\n" + b"X-A: b\r\n" * 1000 + b"\r\nx", "too many header fields: more than 1000"),
    (b"From: a@b.example\r\nX-Big: " + b"a" * 270_000 + b"\r\n\r\nx", "header block too large: more than 262144 bytes"),
    (b"\r\n \t\r\n", "empty mail: no bytes besides whitespace"),
    (b"just some text\r\nSubject: late\r\n\r\n",
     "no header block: the data does not start with 'Name: value' header lines"),
])
def test_limits_and_unusable_input_quarantine(raw: bytes, reason: str):
    with pytest.raises(Quarantine) as caught:
        parse(raw)
    assert caught.value.reason == reason


def test_within_limits_parses():
    assert parse(nested(20)).text == "deep text"
    assert len(parse(many_parts(200)).attachments) == 200
    assert parse(b"\r\n\r\nFrom: a@b.example\r\n\r\nx").from_addr == "a@b.example"  # stray blank lines first
    with pytest.raises(Quarantine, match="too many MIME parts: 4 > 3"):
        parse(many_parts(3), limits=ParseLimits(max_parts=3))


def test_header_the_email_package_crashes_on_is_read_as_text():
    # policy.default raises IndexError on "name*" while the parser itself reads Content-Type.
    mail = parse(b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8; name*\r\n\r\nhello")
    assert mail.text == "hello" and mail.attachments == ()
    assert str(mail.message["Content-Type"]) == "text/plain; charset=utf-8; name*"
    assert "InvalidHeaderDefect" in mail.defects


def test_message_headers_are_safe_for_other_modules():
    injected = load("subject-crlf-injection.eml").message
    assert "eve@evil.example" in str(injected["From"])  # policy.default would raise ValueError here
    assert load("latin1-labelled-utf8.eml").message["Subject"] == "Drucker im Büro defekt"


def test_unexpected_input_type_is_quarantined_not_raised():
    with pytest.raises(Quarantine, match="^parse error: TypeError"):
        parse("not bytes")  # type: ignore[arg-type]


# --- fuzzing: nothing but Quarantine may ever escape --------------------------------------------------

SAMPLES = [p.read_bytes() for p in USABLE]
FRAGMENTS = [
    b"Content-Type: multipart/mixed; boundary=x\r\n", b"--x\r\n", b"--x--\r\n", b"\r\n", b"\n",
    b"Content-Type: message/rfc822\r\n", b"Content-Transfer-Encoding: base64\r\n", b"Subject: =?utf-8?q?a=0D=0A?=\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n", b"From: =?x?b?\xff?= <a@b>\r\n", b"=?", b"?=", b"\xff\xfe",
    b"Content-Disposition: attachment; filename*0*=utf-8''%ff; filename*1=\"x\"\r\n", b"<html>\x00<script>",
    b"Content-Type: text/html; charset=utf-7\r\n", b"To: a@b, \"c,\" <d@e>, group: x@y;\r\n", b"Date: 99 Foo\r\n",
    b"Content-Type: multipart/alternative; boundary=\"y\"\r\n", b"--y\r\n", b"Content-ID: <\x00>\r\n",
    b"Content-Type: text/plain; charset=punycode\r\n", b"Content-Transfer-Encoding: x-uuencode\r\n", b"begin 644 x\r\n",
]
FUZZ = settings(max_examples=200, deadline=None, database=None)


def parses_or_quarantines(raw: bytes) -> None:
    try:
        parse(raw)
    except Quarantine:
        pass


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(raw: bytes):
    parses_or_quarantines(raw)


@st.composite
def mutated_samples(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for index, value in draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), max_size=20)):
        data[index] = value
    return bytes(data[: draw(st.integers(0, len(data)))])


@FUZZ
@given(mutated_samples())
def test_fuzz_mutated_samples(raw: bytes):
    parses_or_quarantines(raw)


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_fuzz_mime_fragments(fragments: list[bytes]):
    parses_or_quarantines(b"From: a@b.example\r\n" + b"".join(fragments))


def test_long_text_is_cleaned_piece_by_piece_as_it_would_be_whole():
    from gateway.mail.decode import _CONTROL, _PIECE, _clean_text

    text = ("line\x00 with\x07 control\r\n" + "é" * 50 + "\ud83d\r") * (3 * _PIECE // 80)
    assert _clean_text(text) == _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


@pytest.mark.parametrize(("html", "text"), [
    ("<p>Hi</p><script>alert(1)</script><b>there</b>", "Hi there"),
    ("<p>Hi</p><style>p { color: red }</STYLE >there", "Hi there"),
    ("<p>Hi</p><script>x</style>still script</script>there", "Hi there"),  # each element ends with its own tag
    ("<p>Hi</p><script>never closed <b>x</b>", "Hi"),
    ("a &amp; b<<c", "a & b<<c"),
])
def test_html_fallback_when_the_converter_gives_up(monkeypatch, html, text):
    import gateway.mail.parse as parse_module

    def gives_up(_html):
        raise ValueError("lxml nesting limit")

    monkeypatch.setattr(parse_module.inscriptis, "get_text", gives_up)
    raw = f"From: a@example.org\nSubject: x\nContent-Type: text/html\n\n{html}\n".encode()
    assert parse(raw).text.strip() == text


@pytest.mark.parametrize("path", USABLE[:8], ids=lambda path: path.name)
def test_a_parsed_mail_pickles_with_the_policy_by_name(path):
    """Parsed mail goes to and from the preparation worker processes: its policy must not carry the header
    registry's run-time classes (they do not pickle), and the copy reads headers as the original does."""
    import pickle

    from gateway.mail.decode import _POLICY

    mail = parse(path.read_bytes())
    copy = pickle.loads(pickle.dumps(mail))
    assert copy.message.policy is _POLICY
    assert (copy.subject, copy.text, copy.header("Content-Type")) == (mail.subject, mail.text, mail.header("Content-Type"))
    assert [part.policy is _POLICY for part in copy.message.walk()] == [True] * len(list(mail.message.walk()))
