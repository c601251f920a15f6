"""One person's plain trouble (a printer, a laptop, a password, a customer's one invoice) stays medium:
the emergency model must not read "does not work" plus a customer as an outage."""
from __future__ import annotations

import pytest

from gateway.config import PriorityConfig
from gateway.triage import prioritise_mail


def priority(subject: str, body: str) -> str:
    return prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)[0].value


# The first row is the mail tests/unit/web/test_web_board_ops.py sends; the shipped-6 emergency model of
# wip-triage3 (with emergencies_calm.csv) gave it 0.55 and so urgent. Written before reading any score.
@pytest.mark.parametrize("subject, body", [
    ("waiting on the customer", "It does not print."),
    ("waiting on the customer", "It does not work."),
    ("Printer", "My printer does not print since this morning."),
    ("Customer called", "A customer says the invoice PDF does not open for him."),
    ("Laptop", "My laptop will not start after the update."),
    ("Outlook", "Outlook crashes when I open the calendar."),
    ("Password", "I forgot my password and cannot log in."),
    ("Scanner", "The scanner at my desk does not scan to e-mail any more."),
    ("Kunde wartet", "Es druckt nicht."),
    ("Drucker", "Mein Drucker druckt seit heute früh nicht mehr."),
    ("Laptop", "Mein Laptop startet nach dem Update nicht mehr."),
    # shipped-5 and -6 gave the next row 0.92 ('Kunde' + 'nicht' read as customers locked out); shipped-7 0.46
    ("Kunde", "Ein Kunde sagt, dass sich seine Rechnung nicht öffnen lässt."),
    ("Passwort", "Ich habe mein Passwort vergessen und kann mich nicht anmelden."),
    ("En attente du client", "Ça n'imprime pas."),
    ("Imprimante", "Mon imprimante n'imprime plus depuis ce matin."),
    # shipped-5 gave the next row 0.55, shipped-6 0.63; shipped-8 (the look-alikes and 234 more help-desk mails) 0.28
    ("Ordinateur", "Mon ordinateur ne démarre plus depuis la mise à jour."),
    ("Client", "Un client me dit que sa facture ne s'ouvre pas."),
    ("Mot de passe", "J'ai oublié mon mot de passe et je ne peux plus me connecter."),
])
def test_one_persons_plain_trouble_stays_medium(subject, body):
    assert priority(subject, body) == "medium"
