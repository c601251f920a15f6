"""Each emergency signal added for blind6 fires on its own in English, German and French, and the calm
ones beside them (not ours, a past period, a switch-off asked for) calm; sentences not from blind6."""
from __future__ import annotations

import pytest

from gateway.config import PriorityConfig
from gateway.triage import prioritise_mail


def decided(subject: str, body: str):
    decision, hits = prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)
    return decision.value, {h.rule for h in hits}


@pytest.mark.parametrize("rule, subject, body", [
    ("everyone-affected", "Printing", "The whole finance team cannot print since the driver update."),
    ("everyone-affected", "Drucken", "Die ganze Abteilung Einkauf kann seit dem Update nicht drucken."),
    ("everyone-affected", "Impression", "Impossible d'imprimer pour tous les utilisateurs depuis la mise à jour."),
    ("everyone-affected", "ERP", "Das ERP startet bei allen Kollegen im Einkauf mit einer Fehlermeldung."),
    ("ten-or-more-people", "Login", "A dozen agents are stuck at the login screen."),
    ("ten-or-more-people", "Anmeldung", "Dutzende Mitarbeiter warten vor dem Anmeldebildschirm."),
    ("ten-or-more-people", "Connexion", "Une vingtaine de conseillers attendent devant l'écran de connexion."),
    ("ten-or-more-people-after", "CRM", "The CRM will not open for the call centre, that's 25 agents."),
    ("ten-or-more-people-after", "CRM", "Das CRM lässt sich nicht öffnen im Callcenter, das sind 25 Kollegen."),
    ("ten-or-more-people-after", "CRM", "Le CRM ne s'ouvre plus au centre d'appels, soit 25 conseillers."),
    ("data-to-the-wrong-people", "Portal", "Customers can download other customers' invoices from the portal."),
    ("data-to-the-wrong-people", "Portal", "Im Portal kann man die Rechnungen anderer Kunden herunterladen."),
    ("data-to-the-wrong-people", "Portail", "Sur le portail on peut télécharger les factures d'autres clients."),
    ("data-to-the-wrong-people", "Share", "The HR folder with salaries is readable by anyone in the company."),
    ("credentials-given-away", "Phishing", "Several people typed their passwords into a fake login page."),
    ("credentials-given-away", "Phishing", "Mehrere Kollegen haben ihre Passwörter auf einer gefälschten Seite eingegeben."),
    ("credentials-given-away", "Phishing", "Plusieurs collègues ont saisi leurs mots de passe sur un faux site."),
    ("standstill", "Plant", "The packing line has ground to a halt."),
    ("standstill", "Werk", "Die Verpackung ist lahmgelegt."),
    ("standstill", "Usine", "L'emballage est complètement arrêté."),
    ("service-down-any-language", "Intranet", "The intranet times out on every page for all of us."),
    ("service-down-any-language", "SAP", "SAP hängt seit zehn Minuten bei der Buchhaltung."),
    ("service-down-any-language", "Site", "Le site renvoie une erreur 503 depuis midi."),
    ("data-unreachable", "Drive", "Accounting lost access to the shared drive an hour ago."),
    ("data-unreachable", "Laufwerk", "Der Vertrieb hat keinen Zugriff mehr auf das Laufwerk P:."),
    ("data-unreachable", "Lecteur", "Le service achats a perdu l'accès au lecteur partagé."),
    # signals for the kinds blind7/8 and the training mails' out-of-fold misses showed (not their words)
    ("ten-or-more-machines", "Update", "Since the patch about twenty PCs in the call centre won't boot."),
    ("ten-or-more-machines", "Update", "Seit dem Patch starten etwa 20 Rechner in der Hotline nicht mehr."),
    ("ten-or-more-machines", "Mise à jour", "Depuis le correctif, une vingtaine de postes ne démarrent plus."),
    ("ten-or-more-people", "Sperre", "Seit heute früh sind 15 Kollegen im Lager ausgesperrt."),
    ("paid-a-fraud", "Fraud", "We transferred 30,000 to a new bank account; the request was fake."),
    ("paid-a-fraud", "Betrug", "Wir haben 30.000 Euro überwiesen, die Anfrage war gefälscht."),
    ("paid-a-fraud", "Fraude", "Nous avons viré 30 000 euros, la demande était une arnaque."),
    ("losing-money-any-language", "Shop", "The shop refunds every order by itself since the update."),
    ("losing-money-any-language", "Hotel", "We now have 18 double bookings for Saturday."),
    ("data-to-the-wrong-people", "Portal", "In the portal I see the orders of another customer."),
    ("data-to-the-wrong-people", "Portal", "Im Portal sehe ich die Bestellungen eines anderen Kunden."),
    ("data-to-the-wrong-people", "Portail", "Sur le portail je vois les commandes d'un autre client."),
    ("data-leak-any-language", "Export", "The mailing tool sent the customer export to the whole list."),
    ("service-down-any-language", "Server", "Power cut in the basement, the servers began to shut down."),
    ("service-down-any-language", "ERP", "Seit dem Neustart läuft das Warenwirtschaftssystem nicht mehr."),
    ("everyone-affected", "Réseau", "Le routeur a lâché, plus de réseau sur les deux étages."),
    ("everyone-affected", "Share", "The contracts folder on the share is empty for all of us."),
    ("everyone-affected", "Postfach", "Bei allen ist der Kalender seit heute früh leer."),
    ("data-leak-any-language", "Link", "The wiki page with our admin passwords was linked in a public forum."),
    ("data-leak-any-language", "Kanal", "Die Liste mit Kundendaten steht in einem öffentlichen Kanal."),
    ("data-leak-any-language", "Forum", "Le lien vers nos données clients circule sur un forum public."),
    ("data-leak-any-language", "Laptop", "A technician's laptop with the patient records was stolen from the van."),
    ("losing-money-any-language", "Prices", "Since the import all products in the shop are at 0 euros."),
    ("losing-money-any-language", "Press", "The press is stopped; every hour costs us about 4,000."),
    ("losing-money-any-language", "Presse", "Die Presse steht, jede Stunde kostet uns etwa 4.000 Euro."),
    ("losing-money-any-language", "Presse", "La presse est à l'arrêt, chaque heure nous coûte environ 4 000 euros."),
    ("standstill", "Versand", "Der Drucker für Lieferscheine streikt, heute geht nichts raus."),
    ("everyone-affected", "Praxis", "Keine Ärztin kann sich seit acht Uhr in die Praxissoftware einloggen."),
    ("everyone-affected", "Login", "No nurse can log in to the ward system since the night shift."),
    ("service-down-any-language", "Server", "Der Druckserver ist abgeraucht."),
    ("data-leak-any-language", "Liste", "Unsere Kundenliste mit Geburtsdaten ist im Internet abrufbar."),
    ("data-leak-any-language", "List", "Our customer list with phone numbers is publicly available on a paste site."),
])
def test_each_emergency_signal_fires_and_makes_it_urgent(rule, subject, body):
    value, rules = decided(subject, body)
    assert rule in rules
    assert value == "urgent"


@pytest.mark.parametrize("rule, subject, body", [
    ("not-ours", "FYI", "The shop of our competitor is down, nothing for you to do."),
    ("not-ours", "Info", "Mein WLAN zu Hause ist ausgefallen, ich komme morgen ins Büro."),
    ("not-ours", "Info", "Le serveur d'un concurrent est en panne, pas notre problème."),
    ("over-now", "Report", "How often was the mail server down in the last year?"),
    ("over-now", "Bericht", "Wie oft war der Mailserver im letzten Jahr ausgefallen?"),
    ("over-now", "Rapport", "Combien de fois la messagerie a-t-elle été en panne l'an dernier ?"),
    ("planned-maintenance", "Old server", "Please shut down the old print server, it has been replaced."),
    ("planned-maintenance", "Alter Server", "Bitte den alten Druckserver abschalten, er wurde ersetzt."),
    ("planned-maintenance", "Ancien serveur", "Merci d'éteindre l'ancien serveur d'impression, il a été remplacé."),
])
def test_calm_signals_for_what_is_not_ours_past_or_asked_for(rule, subject, body):
    value, rules = decided(subject, body)
    assert rule in rules
    assert value != "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Headset", "Mein Headset knackt, die anderen hören mich nur abgehackt."),  # "abgehackt" is no hack
    ("Name", "The portal greets me with someone else's name, the rest is my account."),
    ("Liste", "Je ne reçois pas les messages à tout le personnel, pouvez-vous m'ajouter ?"),
    ("Training", "Can we book a room for 20 people for the Excel course?"),
])
def test_look_alikes_of_the_new_signals_are_not_urgent(subject, body):
    assert decided(subject, body)[0] != "urgent"
