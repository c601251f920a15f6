"""The kinds of words the emergency model reads (gateway/triage/concepts.py), and the shipped model that reads them."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gateway.config import PriorityConfig
from gateway.triage import prioritise_mail
from gateway.triage.concepts import concept_text, kinds_of, readable
from gateway.triage.features import field_text
from gateway.triage.store import load


@pytest.mark.parametrize("word, kinds", [
    ("offline", {"broken"}),
    ("ausgefallen", {"broken"}),
    ("abgestürzte", {"broken"}),          # a word start: inflected
    ("plantée", {"broken"}),
    ("nobody", {"neg", "scope"}),
    ("personne", {"neg", "scope"}),
    ("n'arrive", {"neg"}),                # the elision's kind
    ("can't", {"neg"}),
    ("wouldn't", {"neg"}),                # not listed: any n't is a negated verb
    ("mailserver", {"service"}),          # a word end: a German compound
    ("kassensystem", {"service"}),
    ("telefonanlage", {"service"}),
    ("kundendatenbank", {"data", "service"}),
    ("35", {"many"}),
    ("9", set()),                         # fewer than ten is no crowd
    ("12345678", set()),                  # an order number, not a head count
    ("dutzende", {"many"}),
    ("virements", {"money"}),
    ("öffentlich", {"exposed"}),
    ("wartung", {"planned"}),
    ("behoben", {"over"}),
    ("printer", set()),
])
def test_kinds_of_a_word(word, kinds):
    assert set(kinds_of(word)) == kinds


@pytest.mark.parametrize("subject, body, present, absent", [
    # the kinds meet in one sentence: a pair
    ("Shop", "The web shop is down for everyone.", {"subj_service", "broken_x_scope", "broken_x_service"}, set()),
    # two sentences: no pair within a sentence, but the pair of the whole mail
    ("", "The shop is down. Nobody can order.", {"m_broken_x_neg", "m_broken_x_service"},
     {"broken_x_neg"}),
    ("Kassen", "Die Kassen in allen Filialen gehen nicht mehr.", {"neg_x_works", "scope_x_service"}, set()),
    ("", "Plus personne n'arrive à ouvrir le dossier partagé.", {"neg_x_works", "neg_x_service"}, set()),
    # quoted history is not news: "> all tills down" adds nothing
    ("Re: tills", "Working again, thanks!\n> All tills down, nobody can pay!", {"over"}, {"broken", "neg_x_works"}),
    ("", "About 40 colleagues are waiting.", {"impact_x_many", "many_x_scope"}, set()),
    # a clock time, a temperature or a share counts nobody; 25 people and 1,204 lines do
    ("", "The server room was warm today, 26 degrees.", {"now_x_service"}, {"many"}),
    ("", "Seit 10:30 Uhr, um 16 Uhr, 10% weniger.", {"now"}, {"many"}),
    ("", "Depuis 14h le serveur est à 30 °C.", {"now_x_service"}, {"many"}),
    ("", "25 people cannot log in since 9h30.", {"many_x_neg"}, set()),
])
def test_concept_text(subject, body, present, absent):
    words = set(concept_text(subject, body).split())
    assert present <= words
    assert not absent & words


def test_the_concepts_field_is_bounded_like_the_others():
    # what lies past MAX_BODY is not read, as for the word blocks
    late = "x " * 700 + "the server is down for everyone"
    assert "broken" not in field_text("concepts", "", late).split()
    assert "broken" in field_text("concepts", "", "the server is down for everyone").split()


@pytest.mark.parametrize("name, said", [
    ("broken_x_scope", "broken + who"),
    ("m_neg_x_works", "not + works (in the mail)"),
    ("subj_service", "subject: a service"),
    ("many", "how many"),
])
def test_readable(name, said):
    assert readable(name) == said


def test_the_shipped_emergency_model_reads_the_kinds():
    model = load("emergency", None)[0]
    assert any(block.field == "concepts" for block in model.blocks)
    # an emergency in words no signal lists: the model finds it, and says why in kinds
    said = model.explain("Update", "After the patch the booking tool shows an empty page for every agent.", "1", top=5)
    assert any("+" in word for word in said)


# Clear cases in phrasings the rules do not list, and calm ones with the same nouns.
@pytest.mark.parametrize("subject, body, urgent", [
    ("Update", "After the patch the booking tool shows an empty page for every agent, 30 people idle.", True),
    ("Lager", "Seit dem Patch zeigt die Lagersoftware allen Kollegen nur eine leere Seite, 30 Leute warten.", True),
    ("Mise à jour", "Depuis le correctif, l'outil de réservation affiche une page vide pour tous les conseillers, "
                    "30 personnes attendent.", True),
    ("Booking tool", "Could the booking tool show the customer's phone number on the first page?", False),
    ("Lagersoftware", "Kann die Lagersoftware die Seriennummer in der Liste anzeigen? Nicht eilig.", False),
    ("Outil de réservation", "L'outil de réservation pourrait-il afficher le téléphone du client ? Pas urgent.",
     False),
])
def test_the_shipped_model_decides_clear_cases(subject, body, urgent):
    model = load("emergency", None)[0]
    assert (model.predict(subject, body, explain=0).probabilities["1"] >= 0.5) is urgent
    decision = prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)[0]
    assert (decision.value == "urgent") is urgent


def test_the_kinds_of_a_sentence_come_in_one_order_whatever_the_string_hash_seed():
    """A sentence's kinds were listed in set order, which follows the process's hash seed: the same mail
    summed its weights in another order in another process (serve, its preparation workers, a rerun)."""
    code = ("from gateway.triage.concepts import concept_text; print(concept_text('Shop down', "
            "'The shop is down for everyone since 9. Nobody can order, we are losing money now.'))")
    texts = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(6)}
    assert len(texts) == 1
