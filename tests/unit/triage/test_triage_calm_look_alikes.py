"""Look-alikes of an emergency that are calm: mail to all staff, outages of someone else's system, an
outage named by its day, a calm reply above a quoted outage, a test system, an unused machine, a what-if
asked about something. The same words in a real outage stay urgent."""
from __future__ import annotations

import pytest

from gateway.config import PriorityConfig
from gateway.triage import prioritise_mail


def decided(subject: str, body: str):
    decision, hits = prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)
    return decision.value, {h.rule for h in hits}


@pytest.mark.parametrize("subject, body", [
    # "all staff" is whom a mail goes to, not who is cut off
    ("Summer party", "Please forward the invitation to all staff before Thursday."),
    ("Sommerfest", "Bitte die Einladung an alle Mitarbeiter bis Donnerstag weiterleiten."),
    ("Fête d'été", "Merci de transmettre l'invitation à tous les salariés avant jeudi."),
    # someone else's system, or one person's home
    ("Deliveries", "The courier's tracking site is down today, so I can't see where my parcel is."),
    ("Lieferung", "Das Portal unseres Lieferanten ist heute nicht erreichbar, ich bestelle morgen."),
    ("Commande", "Le site de notre fournisseur est en panne, je passerai la commande demain."),
    ("Working from the office", "My internet connection at home is down, so I am in the office this week."),
    # an outage named by when it was
    ("Thanks", "Monday's outage of the ERP was handled well, thanks to everyone involved."),
    ("Danke", "Der Ausfall vom Montag war schnell behoben, danke an alle."),
    ("Merci", "La panne de lundi a été vite réglée, merci à tous."),
    # a calm reply above a quoted outage
    ("Re: Shop down", "All good now, thanks for the quick help!\n\n> The shop is down, nobody can order!"),
    ("AW: Shop", "Alles wieder gut, danke!\n\n> Der Shop ist ausgefallen, niemand kann bestellen!"),
    ("RE: Boutique", "C'est revenu, merci !\n\n> La boutique est en panne, personne ne peut commander !"),
    # a test system
    ("Staging", "The staging server is down, we only need it for the release at the end of the month."),
    ("Testsystem", "Das Testsystem ist ausgefallen, wir brauchen es erst nächsten Monat wieder."),
    ("Recette", "Le serveur de recette est en panne, on n'en a besoin que le mois prochain."),
    # an unused machine
    ("Fax", "The fax machine in the hall is dead. Nobody needs it, could someone take it away?"),
    ("Fax", "Das Faxgerät im Flur ist kaputt, das nutzt niemand mehr."),
    ("Fax", "Le fax du couloir est en panne, plus personne n'utilise le fax."),
    # a what-if asked
    ("Question", "What happens to the open orders if the shop goes down during the sale?"),
    ("Frage", "Was passiert mit offenen Bestellungen, wenn der Shop im Ausverkauf ausfällt?"),
    ("Question", "Que deviennent les commandes si la boutique tombe en panne pendant les soldes ?"),
    # one person, no hurry said plainly
    ("Old folder", "I cannot open an old project folder on the drive. Sometime this week is fine."),
    # someone else's breach or outage, read about in the news
    ("Breach at a booking site", "I read in the paper that a big booking site had a data breach and customer data "
                                 "was leaked. We book trips there, should we change our passwords?"),
    ("Datenleck", "In der Zeitung stand heute, dass bei einem Onlineshop Kundendaten von Hackern gestohlen wurden. "
                  "Betrifft uns das?"),
    ("Fuite", "J'ai lu dans la presse ce matin qu'un hébergeur a été piraté et que des données clients ont fuité. "
              "Sommes-nous concernés ?"),
    # a suspicious mail reported that nobody acted on
    ("hacked??", "I got a mail saying 'Your account has been hacked, click here'. I didn't click anything. Delete it?"),
    ("Hackerangriff?", "Ich habe eine komische Mail bekommen, Postfach voll, hier klicken. Habe NICHT geklickt. Sind "
                       "wir gehackt worden?"),
    ("Piratage ?", "J'ai reçu un mail de « la banque » avec un lien bizarre. Je n'ai pas cliqué. Est-ce qu'on est "
                   "piratés ?"),
    # one's own line at home, a private account, a supplier's system
    ("WFH", "My broadband is down (the whole street, a provider outage), so I'll come into the office after lunch."),
    ("Instagram", "My personal Instagram account was hacked last night. Nothing to do with work, but which passwords "
                  "should I change?"),
    ("Lieferant", "Bei unserem Verpackungslieferanten ist seit gestern das komplette System ausgefallen. Kein Drama, "
                  "wir haben genug Kartons. Müssen wir die automatische Bestellung pausieren?"),
    # everyone enrolled in a course about leaks
    ("Data leak course", "Please enrol all 140 staff in the online course on preventing data leaks before January."),
    ("Formation", "Merci d'inscrire tout le personnel à la formation « Prévenir les fuites de données »."),
    # an outage over for weeks, a write-up asked for
    ("Downtime in November", "The booking portal was down four times in November. It has been stable since the "
                             "update; we would like a written report."),
    ("Panne", "Je reviens sur la panne de la semaine dernière : tout le service RH était bloqué. Depuis le lendemain "
              "tout fonctionne, mais la direction demande un compte rendu de l'incident."),
    # someone else's or one's own, said outright; a drill; a newsletter; a procedure being written
    ("Site de ma banque", "Le site de ma banque est en panne depuis ce matin. Ce n'est pas chez nous, je sais, mais "
                          "avez-vous un autre lien pour les virements ?"),
    ("hacked", "Sorry, not really a work thing: my personal social media account has been hacked. Can IT help?"),
    ("Reiseportal", "Habt ihr gelesen, dass bei einem Reiseportal Kundendaten gehackt wurden? Ich habe dort privat "
                    "gebucht."),
    ("WG: Ihr Konto wurde gehackt", "Heute früh bekommen, nichts angeklickt. Kann ich die löschen?\n\nVon: Support "
                                    "<x@y.example>\nBetreff: Ihr Konto wurde gehackt\n\nÜberweisen Sie 500 Euro, "
                                    "sonst veröffentlichen wir Ihre Daten."),
    ("Fire drill Thursday", "Fire drill on Thursday at 10:30: everyone leaves the building. Lock your PCs. The "
                            "servers keep running, there is no outage."),
    ("IT news", "In this issue: what to do with a suspicious mail; November's one outage lasted 40 minutes; a data "
                "breach at a big retailer and what it means for your passwords."),
    ("Procédure", "Je dois rédiger une procédure interne en cas de fuite de données : qui faut-il prévenir en premier ?"),
    ("Schulungsraum", "Im Schulungsraum im EG gehen alle 14 PCs nicht mehr an. Die nächste Schulung ist erst im Januar."),
    # the all-clear above a quoted outage
    ("AW: Kassen gestört", "Entwarnung, die Kassen laufen seit zehn Minuten überall wieder. Danke!\n\n> In allen "
                           "Filialen hängen die Kassen, die Kunden stehen Schlange."),
    # one person's trouble said outright
    ("Word crashed", "Word crashed three times this morning on the big contract file. No one else has the problem."),
    ("VPN", "The VPN is down for me since lunch, everyone else can connect."),
    ("VPN", "Bei mir ist das VPN seit Mittag weg, alle anderen können sich verbinden."),
    ("VPN", "Le VPN est en panne depuis midi, seulement chez moi."),
    # one phone that stopped getting mail is no flow stopped for all ("seit ... keine ... mehr an")
    ("Diensthandy", "Auf meinem Diensthandy kommen seit gestern Abend keine Termine mehr an, am PC ist alles da."),
])
def test_look_alikes_are_not_urgent(subject, body):
    assert decided(subject, body)[0] != "urgent"


@pytest.mark.parametrize("subject, body", [
    ("All staff", "To all staff: the network is down, nobody can work until further notice."),
    ("An alle", "An alle Mitarbeiter: bei allen Kollegen ist das Netzwerk ausgefallen."),
    ("À tous", "Pour tout le monde : le réseau est en panne, personne ne peut travailler."),
    ("Whole office", "The whole office has no internet since 9."),
    ("Ganzes Büro", "Im ganzen Büro geht seit 9 Uhr nichts mehr."),
    ("Tout le bureau", "Tout le bureau est sans internet depuis 9h."),
    ("Re: Shop", "It is not fixed, the shop is down again for everyone!\n\n> Working again, thanks."),
    ("Shop", "Our shop is down since this morning. The supplier's portal works fine."),
    ("Monday", "Monday's outage is back: the ERP is down again now and nobody can work."),
    ("Staging", "The live shop is down for all customers; the staging server works."),
    ("VPN", "It's not just me: the VPN is down and nobody in sales can connect."),
    ("Login", "I cannot log in to the CRM and nobody else can either, the whole sales team is stuck."),
    # a phishing that worked, or a leak, whoever did not click
    ("Phishing", "I didn't click the link, but two colleagues in accounts typed their passwords into the fake page."),
    ("Invoices", "Two customers got someone else's invoice this morning. I didn't click anything in what they sent."),
    ("Relevé", "Un adhérent a reçu le relevé de quelqu'un d'autre, avec son numéro de sécurité sociale."),
    # a reply above an Outlook quote ("-----Original Message-----") whose "No rush" is the older mail's
    ("RE: Monitor", "Forget the monitor: since 10 the booking system won't open on any PC at reception, patients "
                    "are waiting.\n\n-----Original Message-----\nFrom: Ann Lee\nSent: Tuesday, 1 December 2026 "
                    "11:02\nSubject: Monitor\n\nCould the reception monitor be replaced? It flickers. No rush."),
    # a password given away; people in words; money lost; a leak whose share must be cut; a guess at maintenance
    ("did something daft", "I clicked the button and typed my username and password in before I noticed the "
                           "address was odd."),
    ("Kein Ton", "Seit halb neun hören fünfundzwanzig Agents bei eingehenden Anrufen nichts mehr."),
    ("Renouvellements", "Depuis hier soir, tous les renouvellements d'abonnement échouent chez le prestataire de "
                        "paiement."),
    ("Fichier clients", "Notre fichier clients est accessible publiquement via un lien partagé. Pouvez-vous couper "
                        "le partage ?"),
    ("Loans", "Not sure whether this is planned maintenance I didn't hear about, but the loan system is down in all "
              "five libraries."),
    # calm words' look-alikes inside a real emergency
    ("This is not a drill", "This is not a drill: the server room is flooding and the whole network is down."),
    ("Shop", "Have you seen that the shop is down for every customer since 9?"),
    ("Boutique", "Avez-vous vu que la boutique est en panne pour tous les clients ?"),
    ("Orders", "I haven't replied to the customers yet, but the shop has been down for everyone since 9."),
    ("Kasse", "Die Kassen in allen Filialen gehen nicht, ich habe die Bestellungen noch nicht eingegeben."),
    ("Ransomware", "Ransomware encrypted the whole file server. We'll have to update our incident plan."),
    # the next point of a list is its own matter
    ("Verschiedenes", "Das HDMI-Kabel im Raum 2 wackelt, eilt nicht.\n\nUnd dann noch etwas, weswegen ich "
                      "eigentlich schreibe: Seit heute Morgen kommt niemand im Team mehr an das Gruppenlaufwerk."),
    ("A few things", "First, thanks for the new laptop. Secondly, the printer on 2 jams now and then, no rush.\n\n"
                     "Finally, and this is why I write: the booking system has been down for the whole front desk "
                     "since 8."),
    ("Kassen", "Die Kassen laufen seit heute früh wieder nicht, in allen Filialen, die Kunden warten."),
    ("VPN", "Nicht nur bei mir: das VPN ist ausgefallen, niemand im Vertrieb kommt rein."),
    ("VPN", "Ce n'est pas que moi : le VPN est en panne, personne au commercial ne peut se connecter."),
])
def test_the_same_words_in_a_real_outage_stay_urgent(subject, body):
    assert decided(subject, body)[0] == "urgent"
