"""Config: the shipped file, the environment overlay, and one clear line per problem."""
from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import load, parse_env_value, problems
from gateway.errors import ConfigError

SHIPPED = Path(__file__).resolve().parents[2] / "config.toml"


def test_shipped_config_is_valid_and_mirrors_the_help_desk():
    settings = load(SHIPPED, {})
    assert settings.smtp.port == 2525 and settings.outbound.mode == "maildir"
    assert [level.number for level in settings.levels] == [0, 1, 2, 3, 4]
    assert settings.database_url.endswith("/var/gateway.db") and settings.database_url.count("///") == 1


@pytest.mark.parametrize("text,value", [
    ("2600", 2600), ("true", True), ("1.5", 1.5), ('["a@x", "b@y"]', ["a@x", "b@y"]),
    ("{name = \"x\"}", {"name": "x"}), ("plain words", "plain words"),
    ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"), ("", ""),
])
def test_env_values_parse_as_toml_else_string(text, value):
    assert parse_env_value(text) == value


def test_env_overrides_sections_and_top_level_arrays():
    settings = load(SHIPPED, {
        "GATEWAY_SMTP__PORT": "2600", "GATEWAY_OUTBOUND__MODE": "smtp", "GATEWAY_OUTBOUND__PASSWORD": "s3cret",
        "GATEWAY_DATABASE__URL": "postgresql+asyncpg://gw@db/gw",
        "GATEWAY_MAILBOXES": '[{name = "x", host = "imap.example.com", username = "u"}]',
    })
    assert settings.smtp.port == 2600 and settings.outbound.mode == "smtp"
    assert settings.outbound.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.outbound)
    assert settings.database_url == "postgresql+asyncpg://gw@db/gw"
    assert settings.mailboxes[0].host == "imap.example.com"


def test_every_problem_is_one_line_naming_key_and_fix(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[smtp]\nport = 70000\nbogus = 1\n[outbound]\nmode = "pigeon"\npassword = "hunter2"\n'
                    '[priority]\nurgent_level = 9\n')
    settings, found = problems(path, {"GATEWAY_DIGEST__TIME": "25:99"})
    assert settings is None
    text = "\n".join(found)
    for key in ("smtp.port", "smtp.bogus", "outbound.mode", "outbound.password", "digest.time"):
        assert key in text, key
    assert "hunter2" not in text
    assert all("\n" not in line and ";" in line for line in found)


def test_a_retired_key_says_why_it_went_not_unknown(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[mailboxes]]\nname = "desk"\nhost = "imap.example.com"\nusername = "u"\nmax_attempts = 5\n')
    settings, found = problems(path, {})
    assert settings is None and len(found) == 1, found
    assert found[0].startswith("mailboxes.0.max_attempts: no longer used") and "remove it" in found[0]


def test_missing_explicit_config_names_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="--config PATH or set GATEWAY_CONFIG"):
        load(tmp_path / "nope.toml", {})


def test_invalid_toml_is_reported(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[smtp\nport = 1")
    _, found = problems(path, {})
    assert len(found) == 1 and "not valid TOML" in found[0]


def test_duplicate_mailbox_names_are_refused():
    _, found = problems(SHIPPED, {"GATEWAY_MAILBOXES": '[{name = "a", host = "h", username = "u"}, '
                                                       '{name = "a", host = "k", username = "v"}]'})
    assert len(found) == 1 and found[0].startswith("mailboxes:") and "unique" in found[0]


def test_outbox_lease_must_outlast_a_send():
    from pydantic import ValidationError

    from gateway.config import OutboundConfig

    assert OutboundConfig(lease_seconds=5, timeout_seconds=2).lease_seconds == 5
    with pytest.raises(ValidationError, match="lease_seconds \\(10\\) must be at least twice timeout_seconds \\(30\\)"):
        OutboundConfig(lease_seconds=10)


@pytest.mark.parametrize(("pattern", "construct"), [
    (r"(\w+) \1", "backreference"),
    (r"error(?! free)", "negative lookahead"),
    (r"(?<=very )urgent", "lookbehind"),
    (r"a++", "possessive"),
])
def test_rule_pattern_the_linear_engine_cannot_run_names_rule_and_construct(tmp_path, pattern, construct):
    path = tmp_path / "config.toml"
    escaped = pattern.replace("\\", "\\\\")
    path.write_text(f'[[classify.rules]]\nname = "my-rule"\nvalue = "bug"\npattern = "{escaped}"\n')
    settings, found = problems(path, {})
    assert settings is None and len(found) == 1
    assert found[0].startswith("classify.rules.0:") and "'my-rule'" in found[0] and construct in found[0]
    assert "RE2" in found[0] and "\n" not in found[0]


def test_rule_pattern_python_cannot_compile_is_named_too(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[priority.rules]]\nname = "broken"\nvalue = "high"\npattern = "(unclosed"\n')
    _, found = problems(path, {})
    assert len(found) == 1 and "'broken'" in found[0] and "not a valid regular expression" in found[0]


def test_rule_pattern_with_a_word_boundary_beside_an_accented_letter_is_named(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[priority.rules]]\nname = "fixed"\nvalue = "medium"\npattern = "(réglé|fixed)\\\\b"\n',
                    encoding="utf-8")
    _, found = problems(path, {})
    assert len(found) == 1 and "'fixed'" in found[0] and "beside é" in found[0] and "[^\\pL\\pN_]" in found[0]
    assert "\n" not in found[0]


def test_rule_pattern_with_unicode_classes_is_accepted(tmp_path):
    # the README's advice for a letter beyond ASCII: RE2 reads \pL (Python's `re` does not, and no longer judges)
    path = tmp_path / "config.toml"
    path.write_text('[[priority.rules]]\nname = "fixed"\nvalue = "medium"\n'
                    'pattern = "(réglé|fixed)([^\\\\pL\\\\pN_]|$)"\n', encoding="utf-8")
    settings, found = problems(path, {})
    assert found == [] and settings.priority.rules[0].name == "fixed"


def test_linear_rule_pattern_is_accepted(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[classify.rules]]\nname = "printer"\nvalue = "bug"\n'
                    'pattern = "\\\\bprinter (jam|offline)\\\\b"\n')
    settings, found = problems(path, {})
    assert found == [] and settings.classify.rules[0].name == "printer"
