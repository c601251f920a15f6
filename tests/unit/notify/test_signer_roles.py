"""The role a reply token is signed for: level list > engineer or assignee > customer."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from gateway.notify.signer import Signer

LEVELS = [
    {"number": 1, "name": "Front", "recipients": ["Front@example.com", "shared@example.com"],
     "engineers": ["alice@example.com"]},
    {"number": 3, "name": "Servers", "recipients": ["servers@example.com", "SHARED@example.com"],
     "engineers": ["bob@example.com"]},
]

# (address, ticket level, assignee, role)
CASES = [
    ("front@example.com", 3, None, "l1"),  # a level's list, whatever the ticket's level; any case
    (" Servers@Example.com ", 1, None, "l3"),
    ("shared@example.com", 3, None, "l3"),  # on two lists: the ticket's own level wins
    ("shared@example.com", 1, None, "l1"),
    ("shared@example.com", 2, None, "l1"),  # neither is the ticket's: the first list
    ("bob@example.com", 1, None, "e"),
    ("eve@example.com", 1, "Eve@example.com", "e"),  # the assignee
    ("customer@example.org", 1, None, "c"),
]


@pytest.mark.parametrize("address, level, assignee, role", CASES)
def test_role_for(settings_factory, address, level, assignee, role):
    signer = Signer(settings_factory(levels=LEVELS))
    ticket = SimpleNamespace(id=7, level=level, assignee=assignee)
    assert signer.role_for(ticket, address) == role
