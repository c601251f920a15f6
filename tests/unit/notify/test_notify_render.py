"""Template rendering: the shipped templates, strict undefined values, HTML escaping, the sandbox."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from gateway.config import Settings
from gateway.errors import ConfigError
from gateway.notify.render import DEFAULT_TEMPLATES_DIR, Renderer

SHIPPED = ["customer/ack", "level/announce", "level/customer_reply", "assignee/customer_reply"]


def full_context(subject: str = "Printer on fire", **ticket_fields) -> dict:
    """Every key the ingest pipeline passes, as the notify step builds it."""
    settings = Settings()
    ticket = SimpleNamespace(id=42, subject=subject, requester="bob@customer.example", requester_name="Bob",
                             category="bug", priority="urgent", level=3, status="open", assignee=None,
                             tracker_issue_url=None, tracker_closed_at=None)
    for key, value in ticket_fields.items():
        setattr(ticket, key, value)
    message = {"from_addr": "bob@customer.example", "from_name": "Bob", "subject": subject,
               "text": "It smokes.\n<b>really</b>", "new_text": "Still smoking.", "more_text_lines": 0,
               "more_new_text_lines": 0, "html": None,
               "attachments": [{"filename": "photo.jpg", "size": 204800, "content_type": "image/jpeg"}]}
    return {"ticket": ticket, "ref": "HD-42", "helpdesk": settings.helpdesk, "level": settings.level(3),
            "reply_address": "ihelp+t42.k3x9q2ab@example.com", "message": message,
            "reasons": ["keyword 'fire' → bug (subject)"]}


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def test_default_folder_is_the_repository_templates():
    assert DEFAULT_TEMPLATES_DIR == Path(__file__).resolve().parents[3] / "templates"
    assert Renderer().templates_dir == DEFAULT_TEMPLATES_DIR


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_templates_render_with_the_pipeline_context(name):
    rendered = Renderer().render(name, full_context())
    assert rendered.subject.startswith("[HD-42] ")
    assert "Printer on fire" in rendered.subject
    assert "HD-42" in rendered.text
    assert rendered.html is not None and rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert "http" not in rendered.html  # no external resources


# (template, fragments the text part must contain)
SHIPPED_TEXT = [
    ("customer/ack", ["Hello Bob,", "opened ticket HD-42", "a fault report with urgent priority",
                      "reply to this mail", "keep [HD-42] in the subject"]),
    ("level/announce", ["New ticket HD-42 for level 3 (Servers, firewalls and system administrators)",
                        "Requester: Bob <bob@customer.example>", "Category:  bug", "Priority:  urgent",
                        "  - keyword 'fire' → bug (subject)", "photo.jpg (image/jpeg, 204.8 kB)",
                        "It smokes.\n<b>really</b>"]),
    ("level/customer_reply", ["bob@customer.example replied on ticket HD-42", "Still smoking.", "photo.jpg"]),
    ("assignee/customer_reply", ["replied on your ticket HD-42", "Still smoking."]),
]


@pytest.mark.parametrize("name, fragments", SHIPPED_TEXT)
def test_shipped_text_parts_say_what_they_should(name, fragments):
    text = Renderer().render(name, full_context()).text
    for fragment in fragments:
        assert fragment in text


def test_ack_needs_only_the_ticket_and_what_enqueue_adds():
    context = {key: full_context()[key] for key in ("ticket", "ref", "helpdesk", "reply_address")}
    assert Renderer().render("customer/ack", context).subject == "[HD-42] Printer on fire"


def test_announce_without_reasons_or_attachments():
    context = full_context()
    context["reasons"] = []
    context["message"]["attachments"] = []
    text = Renderer().render("level/announce", context).text
    assert "no rule matched" in text and "Attachments" not in text


def test_script_in_subject_is_escaped_in_html_only():
    rendered = Renderer().render("level/announce", full_context(subject="<script>alert(1)</script>"))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "&lt;b&gt;really&lt;/b&gt;" in rendered.html  # the customer's text too
    assert rendered.subject == "[HD-42] New urgent bug: <script>alert(1)</script>"
    assert "<script>alert(1)</script>" in rendered.text


def test_undefined_variable_names_the_file_and_the_variable(tmp_path):
    write(tmp_path, {"t/x.subject.j2": "Hi", "t/x.txt.j2": "Dear {{ customer_name }}\n"})
    with pytest.raises(ConfigError) as caught:
        Renderer(tmp_path).render("t/x", {})
    message = str(caught.value)
    assert "t/x.txt.j2" in message and "customer_name" in message and "line 1" in message


def test_undefined_attribute_names_it(tmp_path):
    write(tmp_path, {"t/x.subject.j2": "Hi", "t/x.txt.j2": "\n\n{{ message.new_text }}\n"})
    with pytest.raises(ConfigError, match=r"t/x\.txt\.j2.*new_text.*line 3"):
        Renderer(tmp_path).render("t/x", {"message": {"text": "x"}})


def test_missing_template_names_the_file(tmp_path):
    write(tmp_path, {"t/x.subject.j2": "Hi"})
    with pytest.raises(ConfigError, match=r"t/x\.txt\.j2: not found"):
        Renderer(tmp_path).render("t/x", {})


def test_syntax_error_names_file_and_line(tmp_path):
    write(tmp_path, {"t/x.subject.j2": "Hi", "t/x.txt.j2": "ok\n{% if %}\n"})
    with pytest.raises(ConfigError, match=r"t/x\.txt\.j2: syntax error on line 2"):
        Renderer(tmp_path).render("t/x", {})


def test_subject_is_folded_to_one_line(tmp_path):
    write(tmp_path, {"t/x.subject.j2": "[{{ ref }}]\n  {{ subject }}\n", "t/x.txt.j2": "body\n"})
    rendered = Renderer(tmp_path).render("t/x", {"ref": "HD-1", "subject": "a\r\nBcc: evil@x\tz"})
    assert rendered.subject == "[HD-1] a Bcc: evil@x z"
    assert rendered.html is None


def test_text_is_not_escaped_and_blocks_are_trimmed(tmp_path):
    write(tmp_path, {"t/x.subject.j2": "s", "t/x.txt.j2": "{% for i in items %}\n  - {{ i }}\n{% endfor %}\n"})
    assert Renderer(tmp_path).render("t/x", {"items": ["<a>", "b&c"]}).text == "  - <a>\n  - b&c\n"


def test_sandbox_refuses_python_internals(tmp_path):
    write(tmp_path, {"t/x.subject.j2": "s",
                     "t/x.txt.j2": "{{ ticket.__class__.__init__.__globals__ }}\n"})
    with pytest.raises(ConfigError, match=r"t/x\.txt\.j2: access to attribute .* is unsafe; fix"):
        Renderer(tmp_path).render("t/x", {"ticket": SimpleNamespace(id=1)})
