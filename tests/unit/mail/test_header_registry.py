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
