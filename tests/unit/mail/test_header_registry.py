from email.headerregistry import UnstructuredHeader

from gateway.mail.compose import POLICY
from gateway.mail.decode import _POLICY
from gateway.mail.header_registry import CachedHeaderRegistry


def test_each_header_class_is_built_once_whatever_the_spelling():
    registry = CachedHeaderRegistry()
    assert registry["Subject"] is registry["subject"] is registry["SUBJECT"]
    assert registry["From"] is not registry["Subject"]
    assert registry("From", "Ann <ann@example.org>").addresses[0].addr_spec == "ann@example.org"


def test_mapping_a_name_anew_takes_effect():
    registry = CachedHeaderRegistry()
    before = registry["x-special"]
    registry.map_to_type("x-special", UnstructuredHeader)
    assert registry["x-special"] is not before
    assert issubclass(registry["x-special"], UnstructuredHeader)


def test_parsing_and_composing_policies_use_it():
    assert isinstance(_POLICY.header_factory, CachedHeaderRegistry)
    assert isinstance(POLICY.header_factory, CachedHeaderRegistry)


def test_a_value_is_parsed_once_and_shared():
    registry = CachedHeaderRegistry()
    first = registry("Content-Type", 'text/plain; charset="utf-8"')
    assert registry("Content-Type", 'text/plain; charset="utf-8"') is first
    assert first.content_type == "text/plain" and first.params["charset"] == "utf-8"
    assert registry("content-type", 'text/plain; charset="utf-8"').name == "content-type"  # the name as given


def test_long_values_and_objects_are_parsed_each_time():
    registry = CachedHeaderRegistry()
    long_subject = "x" * 2000
    assert registry("Subject", long_subject) is not registry("Subject", long_subject)
    assert registry("Subject", long_subject) == long_subject


def test_mapping_a_name_anew_drops_what_was_parsed():
    registry = CachedHeaderRegistry()
    before = registry("X-Special", "a, b")
    registry.map_to_type("x-special", UnstructuredHeader)
    assert registry("X-Special", "a, b") is not before


def test_a_header_folds_once_per_policy():
    registry = CachedHeaderRegistry()
    header = registry("Subject", "Ünïcode " * 20)
    folded = header.fold(policy=POLICY)
    assert header.fold(policy=POLICY) is folded
    assert folded.startswith("Subject: =?utf-8?") and folded.endswith("\r\n")
    assert header.fold(policy=_POLICY).endswith("\n") and not header.fold(policy=_POLICY).endswith("\r\n")
