"""The signals for the kinds of emergency and calm mail that the emergency helper's dev set and the train
splits' cross-validation missed (grouped by cause), in English, German and French; the decision names what
decided. The sentences are new ones, not the dev set's rows."""
from __future__ import annotations

import pytest

from gateway.config import PriorityConfig
from gateway.triage import prioritise_mail


def decided(subject: str, body: str):
    decision, hits = prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)
    return decision, {h.rule for h in hits}


@pytest.mark.parametrize("rule, subject, body", [
    # a connection that drops, a service that "est tombé" or is cut
    ("service-down-any-language", "Office", "The internet connection has dropped in the whole office."),
    ("service-down-any-language", "Bureau", "Le serveur de fichiers est tombé, on ne peut plus rien ouvrir."),
    ("service-down-any-language", "Réseau", "Le réseau est de nouveau coupé au siège depuis 11h."),
    # a site that shows a blank page or a database error
    ("service-down-any-language", "Shop", "Our online shop shows a blank page to every visitor."),
    ("service-down-any-language", "Shop", "Der Onlineshop zeigt seit dem Update nur eine weiße Seite."),
    ("service-down-any-language", "Boutique", "La boutique affiche une page blanche depuis midi."),
    ("service-down-any-language", "Website", "The website only says 'Error establishing a database connection'."),
    # servers that switched themselves off, a server room that overheats
    ("service-down-any-language", "Power", "After the power dip the two servers have shut themselves down."),
    ("service-down-any-language", "Klima", "Der Serverraum überhitzt, die Klimaanlage ist ausgefallen."),
    ("service-down-any-language", "Clim", "La salle serveurs surchauffe, la clim ne marche plus."),
    # someone else in an account, a mailbox sending mail its owner did not write
    ("data-leak-any-language", "Admin", "Somebody logged into the shop's admin account at 3am and created users."),
    ("data-leak-any-language", "Backend", "Jemand Unbekanntes hat sich heute Nacht im Backend angemeldet."),
    ("data-leak-any-language", "Compte", "Quelqu'un s'est connecté à notre messagerie depuis l'étranger."),
    ("data-leak-any-language", "Mailbox", "Customers are getting e-mails I didn't write from my address."),
    ("data-leak-any-language", "Postfach", "Kunden bekommen von mir Nachrichten, die ich nie geschrieben habe."),
    ("data-leak-any-language", "Boîte", "Des clients reçoivent des messages que je n'ai pas écrits."),
    # bank details swapped and the money already gone
    ("paid-a-fraud", "Payments", "Someone changed the IBAN of our biggest supplier and three payments have already gone."),
    ("paid-a-fraud", "Zahlungen", "Die Bankverbindung eines Lieferanten wurde geändert, zwei Zahlungen sind schon raus."),
    ("paid-a-fraud", "Virements", "Le RIB d'un fournisseur a été modifié et un virement est déjà parti."),
    # another person's records shown
    ("data-to-the-wrong-people", "App", "The app shows each user another customer's orders."),
    ("data-to-the-wrong-people", "Portal", "Patients see a stranger's lab results after logging in."),
    ("data-to-the-wrong-people", "Portail", "Les patients voient les résultats d'un autre patient."),
    # work stopped, nobody in a team
    ("standstill", "Dispatch", "The label service is rejecting everything, nothing goes out today."),
    ("everyone-affected", "Logiciel", "Personne à la paie n'arrive à lancer le logiciel."),
])
def test_each_kind_is_urgent_by_the_rules_and_says_which(rule, subject, body):
    decision, rules = decided(subject, body)
    assert rule in rules
    assert decision.value == "urgent"
    assert decision.stage == "rules" and rule in decision.rules and rule in decision.sentence()


@pytest.mark.parametrize("subject, body", [
    # "not running since": still down, not over
    ("Scanner", "The scan server is not running since the update, nobody can scan."),
    ("Server", "The booking server hasn't been working since 8, none of the agents can book."),
])
def test_not_running_since_is_no_recovery(subject, body):
    decision, rules = decided(subject, body)
    assert "still-broken" in rules
    assert decision.value == "urgent"


@pytest.mark.parametrize("rule, subject, body", [
    ("over-now", "Bank", "Our payment provider had a hiccup this morning, all resolved."),
    ("over-now", "Bank", "Das Portal der Bank war kurz weg, jetzt läuft alles wieder."),
    ("over-now", "Banque", "Le site de la banque était en panne cette nuit, tout est réglé."),
    ("not-ours", "FYI", "The ticketing site of the theatre was down this morning. Nothing needed from us."),
    ("not-ours", "Info", "Die Seite vom Stadtwerk war gestern down, von uns aus ist nichts zu tun."),
    ("not-ours", "Info", "Le site de la mairie est hors ligne, rien à faire de notre côté."),
])
def test_someone_elses_outage_told_over_or_not_ours_is_calm(rule, subject, body):
    decision, rules = decided(subject, body)
    assert rule in rules
    assert decision.value != "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Plan", "Que ferait-on si le serveur de paie tombait en panne le jour de la paie ?"),
    ("Plan", "Was würden wir eigentlich machen, wenn der Mailserver ausfällt?"),
    ("Plan", "What would you do if the file server crashed during the audit?"),
    ("Plan", "What's the plan if the shop goes offline on Black Friday?"),
])
def test_what_if_questions_in_these_openings_are_no_outage(subject, body):
    decision, rules = decided(subject, body)
    assert "what-if" in rules
    assert decision.value != "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Sales", "Sales dropped 5% in the shop last month, can I get the report?"),  # no connection "dropped"
    ("Portal", "On your portal I get a white page when I open my invoices."),  # one customer's page, told as mine
    ("Server room", "The server room was a bit warm today, 25 degrees. All running."),
    ("Signature", "I never sent the report, sorry, attached now."),
    ("Bank", "Please change the bank details for supplier Rossi to the new IBAN."),  # asked for, nothing gone
])
def test_look_alikes_of_these_signals_set_off_no_emergency_signal(subject, body):
    # the signals' own precision: whatever the model makes of the mail, no urgent rule may fire
    hits = prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)[1]
    assert not [h.rule for h in hits if h.value == "urgent"]
