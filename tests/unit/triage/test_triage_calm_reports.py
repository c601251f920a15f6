"""Mail that names an outage without having one: a false alarm, a simulation, someone else's outage, one thing
among others that work, a thing nobody has any more. Real outages in the same words stay urgent."""
from __future__ import annotations

import pytest

from gateway.config import PriorityConfig
from gateway.triage import prioritise_mail


def priority(subject: str, body: str) -> str:
    return prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)[0].value


@pytest.mark.parametrize("subject, body", [
    # the sender's own false alarm, said in the same mail
    ("VPN down?", "Is the VPN down? It won't connect here. Edit: never mind, my wifi was off."),
    ("Server weg?", "Ist der Mailserver down? Bei mir lädt nichts. Nachtrag 10:05: hat sich erledigt, Kabel war locker."),
    ("Ransomware ?", "Fausse alerte : les fichiers .locked venaient de l'outil de sauvegarde, rien n'est chiffré."),
    # a simulation or a crisis exercise, and its results
    ("Phishing results", "As planned, last week's phishing simulation is done: 40 people clicked and 7 entered their "
                         "password on the fake page."),
    ("Phishing-Test", "Die Phishing-Simulation ist ausgewertet: 35 Mitarbeiter haben geklickt."),
    ("Exercice", "Jeudi, exercice de crise sur table, scénario rançongiciel, en salle B."),
    ("Continuity review", "For the business continuity review: how long could the ERP be down before it hurts?"),
    # an incident report filed afterwards
    ("Incident report", "For your files, the incident report: the ERP was unreachable from 6 to 8, 30 people affected."),
    # planned work
    ("Wartung", "Am Sonntag ist das Kassensystem wegen geplanter Wartung nicht verfügbar."),
    ("Line 2", "Line 2 is down for its annual refit next week. Can the PC be stored away?"),
    ("Power cut", "The power will be off on Saturday morning. Could someone shut the servers down on Friday?"),
    # someone else's trouble, nothing for the help desk to do
    ("FYI", "The bank's website is down nationwide today. Nothing for IT to do, just so you know."),
    ("Info", "Das Online-Banking-Portal ist heute offline. Für euch ist nichts zu tun, unsere Systeme laufen normal."),
    # one thing among others that work
    ("Room Elm", "Nobody can book room Elm in Outlook. The other rooms are fine."),
    ("Kasse 3", "Kasse 3 ist ausgefallen. Die anderen Kassen funktionieren problemlos."),
    ("Caisse 2", "La caisse 2 est en panne. Les autres caisses vont bien."),
    ("Email stopped on my phone", "My work phone hasn't received emails since Monday; the laptop is fine."),
    ("Mails", "Mon téléphone professionnel ne reçoit plus aucun nouveau mail depuis hier."),
    # a request said to be harmless
    ("Demande RGPD", "Un client veut savoir si ses données clients ont été envoyées à un prestataire externe. "
                     "Aucun problème de sécurité, c'est une demande normale."),
    # a thing nobody has any more
    ("Fax field", "The CRM insists on a fax number. Nobody has a fax any more, please drop the field."),
    ("Fax", "Le CRM exige un numéro de fax. Plus personne n'a de fax, merci de le rendre facultatif."),
])
def test_named_but_not_happening_is_not_urgent(subject, body):
    assert priority(subject, body) != "urgent"


@pytest.mark.parametrize("body", [
    "My work phone hasn't received emails since Monday.",
    "Mein Diensthandy bekommt seit gestern keine Mails.",
    # the French negation before a verb: "ne reçoit", "n'affiche" (its word's edge is the next letter, no space)
    "Mon téléphone professionnel ne reçoit plus aucun nouveau mail depuis hier.",
    "Mon portable n'affiche plus mes mails.",
])
def test_ones_own_phone_is_one_persons_trouble(body):
    # said by the rule itself: the model alone kept the French rows calm, while the rule never matched them
    assert "only-me" in {hit.rule for hit in prioritise_mail("Mails", body, config=PriorityConfig(), model_dir=None)[1]}


@pytest.mark.parametrize("subject, body", [
    ("Hotline", "Unsere Hotline ist seit 8 Uhr nicht erreichbar. 20 Leute im Service haben nichts zu tun."),
    ("URGENT - PLUS AUCUNE CAISSE", "Magasin de Lyon. Rappelez-moi vite."),
    ("Mail down", "The mail server is down. Edit: still down, nobody can send anything."),
    ("VPN", "The VPN is down for everyone in the office since 9."),
])
def test_real_outages_in_these_words_stay_urgent(subject, body):
    assert priority(subject, body) == "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Backups", "Is the file server backed up every night? Just curious, for our documentation."),
    ("Datensicherung", "Wird der Dateiserver jede Nacht gesichert? Nur für unsere Dokumentation."),
    ("Sauvegardes", "Le serveur de fichiers est-il sauvegardé chaque nuit ? C'est pour notre documentation."),
    ("Konkurrenz", "Der Shop eines Mitbewerbers war zwei Tage offline. Lasst uns bei Gelegenheit darüber reden."),
    ("Grève", "Vingt collègues en télétravail jeudi : le VPN tiendra ? Tout marche bien aujourd'hui, c'est juste pour anticiper."),
])
def test_a_question_for_the_record_keeps_the_model_quiet(subject, body):
    decision, hits = prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)
    assert "not-urgent" in {h.rule for h in hits}
    assert decision.value != "urgent"
