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
    # someone else's record shown after logging in, or sent to the wrong people
    ("data-to-the-wrong-people", "Portal", "After the update I logged in and was shown the account of someone "
                                           "from another town, with their bank details."),
    ("data-to-the-wrong-people", "Portal", "A tenant read me out a stranger's account balance from her screen."),
    ("data-to-the-wrong-people", "Schul-App", "Ein Vater sieht in der App die Noten und Adressen von zwei anderen "
                                              "Schülern der Klasse."),
    ("data-to-the-wrong-people", "Portal", "Nach dem Login wird manchmal die Akte eines völlig fremden Patienten "
                                           "angezeigt."),
    ("data-to-the-wrong-people", "Résultats", "Les résultats de ce matin sont partis chez les mauvais patients."),
    ("data-to-the-wrong-people", "Bulletins", "Les bulletins de paie ont été envoyés aux mauvais salariés."),
    ("data-to-the-wrong-people", "Payslips", "This month's payslips were emailed to the wrong employees."),
    # a lost stick or laptop that was not encrypted
    ("data-leak-any-language", "Stick", "Ich habe den Stick mit den Mandantenlisten verloren, er war nicht "
                                        "verschlüsselt."),
    ("data-leak-any-language", "Laptop", "Left my laptop with the client files on the bus; it wasn't encrypted."),
    ("data-leak-any-language", "Clé USB", "J'ai perdu la clé avec les dossiers patients, elle n'était pas chiffrée."),
    # files held for ransom, told by their new ending or the note beside them
    ("files-held-for-ransom", "P:", "Alle Dateien auf P: enden seit heute auf .crypt und lassen sich nicht öffnen."),
    ("files-held-for-ransom", "Share", "Every folder on the share has a HOW_TO_DECRYPT_FILES.txt in it now."),
    # money going out twice
    ("losing-money-any-language", "Refunds", "Since the update each cancelled order is refunded twice to the card."),
    ("losing-money-any-language", "Erstattung", "Seit heute Nacht wird jede Stornierung doppelt erstattet."),
    ("losing-money-any-language", "Billetterie", "Le logiciel rembourse chaque billet annulé deux fois."),
    # a whole office without access, a flow that stopped at a moment
    ("everyone-affected", "Base", "Plus d'accès au logiciel de comptabilité pour toute l'agence."),
    ("everyone-affected", "Kanzlei", "Die ganze Kanzlei kommt nicht mehr ins Aktensystem."),
    ("standstill", "Alarmierung", "Die App stellt seit ca. 9 Uhr keine Alarme mehr zu."),
    ("standstill", "Bestellungen", "Seit heute früh kommen keine Bestellungen mehr an."),
    ("standstill", "Orders", "Since 10 no orders have come in from the web shop."),
    ("standstill", "Commandes", "Depuis 10h aucune commande n'arrive sur la plateforme."),
    # what one can see of everyone, and a profile that is someone else's
    ("data-to-the-wrong-people", "Portal", "Is it normal that I can see the bank details of every tenant in the "
                                           "building, not just mine?"),
    ("data-to-the-wrong-people", "App", "The app showed me a different customer's profile with her address."),
    ("data-to-the-wrong-people", "Portal", "Im Portal sehe ich die Zeugnisse von allen Schülern der Schule."),
    ("data-to-the-wrong-people", "Portail", "Sur le portail je vois les dossiers de tous les adhérents du club."),
    # a password typed in on a fake page, said the German way
    ("credentials-given-away", "Paketmail", "Ich habe auf der Seite meine Mailadresse und mein Passwort eingegeben."),
    # a stick that had no password
    ("data-leak-any-language", "Stick", "Lost the stick with the member list, it was not password-protected."),
    ("data-leak-any-language", "Clé", "J'ai perdu la clé avec le fichier clients, elle n'était pas protégée par un "
                                      "mot de passe."),
    # kiosks that no longer answer, none of our sites, none of the offices
    ("service-down-any-language", "Bornes", "Les bornes de retrait ne répondent plus depuis l'ouverture."),
    ("everyone-affected", "Agenda", "Aucun de nos quatre cabinets n'arrive à ouvrir l'agenda."),
    ("everyone-affected", "Fachverfahren", "Keine der Abteilungen im Haus kann heute Akten öffnen."),
    # everyone served without paying, a one-use code used again and again
    ("losing-money-any-language", "Car park", "The exit machines reject every ticket, so the staff let everyone "
                                              "out without paying."),
    ("losing-money-any-language", "Tram", "Les valideurs sont en panne, tous les voyageurs montent sans payer."),
    ("losing-money-any-language", "Gutschein", "Der Gutscheincode für das Probetraining wurde seit Freitag 54 mal "
                                               "eingelöst."),
    ("losing-money-any-language", "Voucher", "The launch voucher meant for one use has been redeemed 80 times today."),
    # an error page, a platform
    ("service-down-any-language", "Plateforme", "La plateforme de paiement affiche une page d'erreur depuis midi."),
    # no kitchen gets the numbers, others' parcels
    ("everyone-affected", "Effectifs", "Aucune cuisine ne reçoit les commandes du jour."),
    ("data-to-the-wrong-people", "Casiers", "Les clients voient les colis des autres quand le casier s'ouvre."),
    # a password given on the page a mail's link opened, asked about as if it were nothing
    ("credentials-given-away", "Normal?", "I clicked the link in the quota mail and typed in my email password."),
    ("credentials-given-away", "Prüfung", "Ich habe auf den Link geklickt und Benutzername und Passwort eingegeben."),
    ("credentials-given-away", "Signature", "La page demandait mon mot de passe, je l'ai tapé et rien ne s'est passé."),
    # a stolen laptop with no password, a neighbour's statement
    ("data-leak-any-language", "Laptop", "Der Laptop mit den Patientenakten wurde geklaut, er hatte kein Passwort."),
    ("data-to-the-wrong-people", "Abrechnung", "Mehrere Mieter haben die Abrechnung eines Nachbarn bekommen."),
    ("data-to-the-wrong-people", "Letters", "The renewal letters were wrongly addressed this morning."),
    # callers who only hear the busy tone, all three sites
    ("service-down-any-language", "Telefon", "Seit heute früh hören alle Anrufer nur noch das Besetztzeichen."),
    ("everyone-affected", "Lookup", "The booking lookup gives an error at all three clinics today."),
    # vouchers sent in a loop
    ("losing-money-any-language", "Bons", "La plateforme envoie les bons d'achat en boucle depuis ce matin."),
    # a booking page with an empty white page, a connection to a portal that fails, a queue out to the road
    ("service-down-any-language", "Spa", "The online booking page has been showing an empty white page since nine."),
    ("service-down-any-language", "Zoll", "Seit 8 Uhr kommt „Verbindung zum Zollportal fehlgeschlagen“."),
    ("standstill", "Pont-bascule", "Le logiciel de pesée plante et la file de camions va jusqu'à la départementale."),
    ("standstill", "Tills", "Both tills froze and the queue is out the door."),
    # the appointments of other customers, certificates going to the wrong people
    ("data-to-the-wrong-people", "Termine", "Unter „Meine Termine“ sieht man die Termine von vielen anderen Kunden."),
    ("data-to-the-wrong-people", "Certificats", "Les certificats partent aux mauvaises familles depuis la mise à jour."),
    # a test code that applies by itself to every order
    ("losing-money-any-language", "Promo", "Le code de test s'applique automatiquement à toutes les commandes."),
    ("data-leak-any-language", "USB", "Left a USB stick with the client list on the bus. Not encrypted."),
    ("data-to-the-wrong-people", "Search", "Typing one letter in the public search shows everyone's reports."),
    ("credentials-given-away", "Impôts", "J'ai cliqué et j'ai tapé mon identifiant et mon mot de passe du cabinet."),
    # "nobody" with a verb: the trouble of a whole group
    ("everyone-affected", "Login", "Nobody in accounts can log in since nine."),
    # a password given after a mail that asked for a log-in, told as if nothing had happened
    ("credentials-given-away", "Quota?", "A message this morning said my mailbox was full and I had to confirm it. "
                                         "I did, with my usual password, and the page went white."),
    ("credentials-given-away", "Konto", "Es kam eine Mail, dass unser Konto gesperrt wird. Ich habe den Link geklickt "
                                        "und mich dort angemeldet, mit Benutzer und Passwort."),
    ("credentials-given-away", "Banque", "Un mail disait que notre compte serait bloqué. J'ai cliqué, j'ai mis mon "
                                         "identifiant et le mot de passe, puis plus rien."),
    # a device lost or stolen with people's data on it
    ("data-leak-any-language", "Phone", "I forgot my phone in a taxi last night; it has the parents' names and "
                                        "addresses in the class app."),
    ("data-leak-any-language", "Notebook", "Das Notebook wurde mir im Zug gestohlen, darauf die Patientendaten der "
                                           "Station."),
    # anyone can read the records without logging in
    ("data-to-the-wrong-people", "Liste", "Sur la page des inscrits, n'importe qui peut voir les fiches sans se "
                                          "connecter."),
    # nobody, said as no machine or neither this nor that group
    ("everyone-affected", "Kalender", "Der Kalender lässt sich auf keinem Rechner mehr öffnen."),
    ("everyone-affected", "Drive", "Since ten neither the front desk nor the back office can get anyone onto the "
                                   "shared drive."),
    ("everyone-affected", "Logiciel", "Le logiciel de planning ne s'ouvre sur aucun poste depuis ce matin."),
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


@pytest.mark.parametrize("subject, body", [
    # "until this is fixed" wishes for a fix
    ("Portal", "Members see other members' accounts. Please take it offline until this is fixed."),
    ("Portal", "Kunden sehen die Rechnungen anderer Kunden. Bitte abschalten, bis das behoben ist."),
    # a request to switch off what loses money or leaks is no announcement of maintenance
    ("Refunds", "Every refund goes out twice since last night. Could someone switch off the automatic refunds?"),
    ("Remboursements", "Chaque remboursement part deux fois. Pouvez-vous arrêter le traitement ?"),
    ("Portal", "Patients see another patient's results. Can you switch the portal off?"),
])
def test_a_fix_or_switch_off_asked_for_is_no_calm_word(subject, body):
    assert decided(subject, body)[0].value == "urgent"


@pytest.mark.parametrize("rule, subject, body", [
    ("over-now", "Bank", "Our payment provider had a hiccup this morning, all resolved."),
    ("over-now", "Bank", "Das Portal der Bank war kurz weg, jetzt läuft alles wieder."),
    ("over-now", "Banque", "Le site de la banque était en panne cette nuit, tout est réglé."),
    ("not-ours", "FYI", "The ticketing site of the theatre was down this morning. Nothing needed from us."),
    ("not-ours", "Info", "Die Seite vom Stadtwerk war gestern down, von uns aus ist nichts zu tun."),
    ("not-ours", "Info", "Le site de la mairie est hors ligne, rien à faire de notre côté."),
    ("not-ours", "Water", "Not really IT, sorry: the dishwasher is leaking. Nobody answers at facilities."),
    ("in-the-news", "Breach", "Did you read the article about the clinic whose patient data leaked? Are we safe?"),
    ("in-the-news", "Fuite", "J'ai lu l'article sur la fuite de données chez une autre mutuelle. Et nous ?"),
    ("over-now", "Re: Wifi down for all guests", "It's back, thanks! All good.\n\n> The wifi is down for all guests."),
    ("over-now", "Audit", "For the audit: would anyone be alerted if the backup server went down at night? "
                          "Nothing is wrong right now."),
    ("in-the-news", "Bank", "Heute kam im Radio, dass bei einer Bank Kundendaten abgeflossen sind. Sind wir betroffen?"),
    ("not-clicked", "Rechnung", "Eine Mail mit ZIP-Rechnung kam an alle. Niemand hat den Anhang geöffnet."),
    ("not-exposed", "Einladung", "Ich habe die Einladung an den ganzen Kundenverteiler geschickt, immerhin mit Bcc."),
    ("not-exposed", "Volé", "On m'a volé l'ordinateur portable dans la voiture. Il est chiffré et protégé par un mot "
                            "de passe."),
    ("not-exposed", "Stolen", "My work laptop was stolen from the car; the laptop is fully encrypted."),
    ("not-ours", "FYI", "The carrier's parcel tracking site has been down since noon. The problem is on their side; "
                        "our own systems are all fine."),
    ("not-ours", "Info", "Bei der Spedition ist das Portal seit heute offline, bei uns läuft alles."),
    ("planned-maintenance", "Upgrade", "The booking system will be offline Saturday night for the upgrade, fine by "
                                       "us."),
    ("over-now", "Lenteur", "L'impression est lente depuis lundi, mais tout fonctionne : les bons finissent par "
                            "sortir."),
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
    ("Java", "Auf keinem Rechner ist Java installiert, können wir das bitte nachholen?"),  # no machine, no trouble
    ("Laptop", "I left my laptop at home today, can I borrow one? I need the client files for a meeting."),
    ("Password", "IT's email said my password expires on Friday. I clicked the link and set a new password."),
    ("Offline", "Could the field laptops keep the client files offline for the trip?"),
])
def test_look_alikes_of_these_signals_set_off_no_emergency_signal(subject, body):
    # the signals' own precision: whatever the model makes of the mail, no urgent rule may fire
    hits = prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)[1]
    assert not [h.rule for h in hits if h.value == "urgent"]


@pytest.mark.parametrize("subject, body", [
    # a point of its own after a list with a courtesy in it
    ("Quelques points", "– L'imprimante du foyer bourre, rien d'urgent.\n\nAh, et un truc : sur la page publique des "
                        "adhérents, n'importe qui peut voir les fiches sans se connecter."),
    # the same trouble back, a ticket reopened: a "wieder da" that is no recovery
    ("Ticket wieder offen", "Sie haben das Ticket gestern geschlossen, aber heute ist dasselbe wieder da: keine der "
                            "Filialen kommt ins Kassensystem."),
    ("Reopen", "Please reopen the ticket: the same problem is back and nobody in billing can log in."),
    # a courtesy about the pace beside a whole group stuck
    ("Agenda", "Désolée de déranger, pas d'urgence : aucun de nos six centres n'arrive à ouvrir l'agenda, on note "
               "tout sur papier."),
    # the emergency told after the list of small things: "Oh, and one more thing", "Ach, und ..."
    ("A few things", "1. The printer has a stripe. Not urgent.\n2. New starter on Monday.\n\nOh, and one more thing: "
                     "the member app showed me another member's account with her bank details."),
    ("Ein paar Punkte", "1. Beamer flackert, reicht nächste Woche.\n2. Zwei Lizenzen bitte.\n\nAch, und was ich fast "
                        "vergessen hätte: seit heute früh kommt niemand mehr ins Kundenportal."),
])
def test_told_back_after_a_calm_word_it_stays_urgent(subject, body):
    assert decided(subject, body)[0].value == "urgent"


def test_files_held_for_ransom_are_no_encrypted_laptop():
    # "encrypted" of a stolen laptop calms; files encrypted for a ransom never do
    decision, rules = decided("Server", "Every file on the server ends in .crypt now. The backup laptop is encrypted.")
    assert decision.value == "urgent" and "files-held-for-ransom" in rules


def test_a_page_that_did_nothing_after_a_password_is_no_all_clear():
    # "il ne s'est rien passé" after typing a password is how the fake page behaves, not news that all is well
    decision, rules = decided("Bêtise", "J'ai cliqué sur le lien et j'ai tapé mon identifiant et mon mot de passe. Il ne "
                                        "s'est rien passé, la page s'est rechargée.")
    assert decision.value == "urgent" and "credentials-given-away" in rules


# Look-alikes of the kinds above that the fresh sets brought (blind17 to blind21): calm, whatever decides.
@pytest.mark.parametrize("subject, body", [
    # a password typed in the ordinary way is no password given away
    ("Outlook", "Ich habe mein neues Passwort eingegeben, aber Outlook fragt immer wieder danach."),
    ("Locked out", "I changed my password yesterday and I typed it wrong this morning, now I'm locked out."),
    ("Neu anmelden", "Ich sollte mich neu anmelden, hab ich gemacht, jetzt geht es wieder."),
    ("Locked", "I entered my password three times and now my account is locked."),
    ("Bloquée", "J'ai tapé mon mot de passe trois fois, je suis bloquée."),
    # a person without a password yet is no device lost without one
    ("Zugang", "Der neue Kollege hat kein Passwort für das CRM bekommen."),
    ("Access", "The new user had no password for the portal yet, can you send one?"),
    ("Toner", "Could we have new toner for reception?\n\n--\nMaria, Reception\nCONFIDENTIAL: unauthorised "
              "disclosure of this message may constitute a data breach and must be reported."),
    ("News", "We saw on the evening news that a ticket seller had an outage and a data breach. Are we affected?"),
    ("Rechnung", "Drei von uns bekamen eine Mail mit einer ZIP-Rechnung. Keiner hat den Anhang geöffnet oder "
                 "irgendwo geklickt. Sonst noch etwas tun?"),
    ("Faux virement", "Un faux mail du directeur demandait un virement urgent de 30 000 €. Aucun virement n'a été "
                      "fait. Pour information."),
    ("Internet", "Bei mir zuhause ist das Internet down, kann ich morgen im Büro arbeiten?"),
    ("Keyboard", "Coffee on my keyboard, plus aucune touche ne répond. No rush, I borrowed one."),
    ("Slow", "The CRM is painfully slow since Monday for all twenty of us. Nothing is broken, it is just tedious."),
    ("Outlook", "Mein Outlook zeigt seit gestern keine Bilder mehr an, ich werde wahnsinnig."),
    ("Serverumzug", "Bitte zieht den Server am Wochenende um: ein Tag Stillstand unter der Woche wäre teuer."),
    ("Move", "Could you do the switch upgrade at the weekend? A day of standstill in the week would hurt."),
    ("Préprod", "La préprod de la boutique en ligne de notre fromagerie ne répond plus. La prod fonctionne."),
    ("Technicien", "Pouvez-vous dire au technicien de ne pas venir à midi ? Personne ne pourra l'accueillir."),
    ("Clavier", "Café sur mon clavier, plus aucune touche ne répond. Rien de pressé."),
    ("Slow portal", "The portal takes twenty seconds a page. It isn't stopping anyone, it is just painful."),
    ("Annonces", "Le site d'annonces où nous publions est en panne, vous ne pouvez rien y faire. Mettez nos "
                 "nouveautés sur notre page d'accueil ?"),
    ("Compte", "Mon compte perso sur un réseau social a été piraté, rien à voir avec le travail. Un conseil ?"),
    # "nobody" in passing is no group stuck
    ("Form", "Please add a 'refrigeration needed' field to the form; shuffling pitches at 5am is something nobody "
             "enjoys."),
    ("Party", "Party on Friday! The kiln fires overnight, so please nobody unplug anything in the back room."),
    ("Dodgy email", "Got an invoice mail with a zip file. Didn't open it. Nobody else here got it."),
    # slow, but working
    ("Slow", "The document system takes 30 seconds a file for the whole office. It does work, nothing is lost."),
    ("Lent", "Le logiciel rame pour tout le cabinet, mais rien n'est bloqué : on arrive à tout faire."),
    # someone else's outage, nothing wrong here
    ("News", "A shipping line's systems were down for days, it was all over the radio. Our systems are fine."),
    ("Grossiste", "Le site de commande de notre grossiste est en panne depuis hier soir."),
    ("Policy", "For our data policy: what if the laptop with the member list got stolen? Nothing has happened."),
    ("Mail", "Reçu un mail « votre colis est bloqué » avec un lien. Personne ici n'a cliqué."),
])
def test_look_alikes_of_the_fresh_sets_kinds_are_not_urgent(subject, body):
    assert decided(subject, body)[0].value != "urgent"


@pytest.mark.parametrize("rule, subject, body", [
    ("not-ours", "Kasse", "Bei uns geht alles schief: die Kasse ist tot, seit neun Uhr kein Verkauf."),
    ("not-ours", "Caisse", "Chez nous tout marche de travers, les caisses sont en panne depuis l'ouverture."),
    ("over-now", "Tills", "Not everything works. The tills are down in both shops."),
])
def test_calm_words_about_ourselves_need_their_end(rule, subject, body):
    # "bei uns läuft alles." and "Tout fonctionne :" are calm; the same words going on to a trouble are not
    decision, rules = decided(subject, body)
    assert rule not in rules and decision.value == "urgent"
