"""What a mail says in kinds of words (broken, who and how many, which service, money, data), for the emergency model."""
from __future__ import annotations

# Phrase-by-phrase signals did not carry to mail nobody tuned them for (blind7: 8/15 found): an
# emergency is said in endless word orders, but nearly always with a word for a broken state, a word
# for how many are hit (or a number) and a word for a service, money or data, in one sentence. So the
# emergency model reads, next to its words, which of these kinds each sentence holds and which two
# kinds meet in a sentence ("state_broken_x_service"), and learns from the training mails how much each
# meeting weighs. A kind is a list of single words in English, German and French (and word starts, for
# German compounds and inflections); the model, not a pattern, decides what the words add up to.

import re
from functools import lru_cache
from itertools import chain

# Words by kind. Only whole lower-cased words; a word may sit in two kinds.
_WORDS: dict[str, str] = {
    "broken": "down offline outage outages crashed crash crashes crashing dead died unavailable unreachable broken "
              "failed failing fails failure error errors frozen freezes stuck hangs hanging blank gone lost missing "
              "empty stopped stops timeout timeouts timing denied locked encrypted ransom bounce bounced bouncing "
              "rejected rejecting rejects declined declining refused refuses kicked throwing spinning "
              "ausgefallen ausfall ausgestiegen abgestürzt absturz stürzt tot weg fehler fehlermeldung hängt hängen "
              "hängengeblieben störung gestört kaputt defekt leer verschwunden gesperrt verschlüsselt lösegeld "
              "abgelehnt lahm lahmgelegt stillstand unterbrochen rausgeflogen "
              "panne pannes plante planté plantée plantage bloqué bloquée bloqués bloquées erreur erreurs "
              "injoignable indisponible inaccessible coupé coupée coupure éteint éteinte éteints éteintes arrêt "
              "arrêté arrêtée vide vides disparu disparus chiffrés chiffré rançon refusé refusée refusés refuse "
              "refusent figé figée hs",
    "neg": "not no none nothing cannot can't won't doesn't don't isn't aren't didn't couldn't unable nobody "
           "nicht kein keine keinen keiner keinem nichts niemand nie "
           "ne n' pas aucun aucune rien personne impossible jamais",
    "works": "work works working load loads loading open opens opening connect connecting login log start starts "
             "starting respond responding print printing pay paying send sending receive receiving reach access "
             "book booking boot reachable available "
             "funktioniert funktionieren funktionierte geht gehen ging laden lädt öffnen öffnet starten startet "
             "anmelden einloggen erreichen erreichbar verfügbar zugreifen zugriff drucken bezahlen zahlen senden "
             "empfangen verbinden hochfahren "
             "marche marchent fonctionne fonctionnent ouvre ouvrir ouvrent connecter connexion accéder accès "
             "imprimer payer envoyer recevoir démarre démarrer répond répondent charge charger joindre",
    "scope": "everyone everybody nobody anyone anybody all whole entire every company office department "
             "colleagues staff users customers agents team teams building floor branch branches store stores "
             "warehouse shops sites clients people employees "
             "alle allen aller niemand keiner ganze ganzen gesamte gesamten komplett kollegen kolleginnen "
             "mitarbeiter mitarbeitenden kunden abteilung filiale filialen gebäude etage standort standorte leute "
             "firma niemandem jeder "
             "tous toutes tout personne chacun équipe collègues utilisateurs salariés employés agence agences "
             "bâtiment étage magasin magasins entrepôt plateau monde siège",
    "many": "ten eleven twelve fifteen twenty thirty forty fifty sixty hundred hundreds thousand thousands dozen "
            "dozens several zehn elf zwölf fünfzehn zwanzig dreißig vierzig fünfzig sechzig hundert hunderte "
            "tausend tausende dutzend dutzende mehrere dix onze douze quinze vingt trente quarante cinquante "
            "soixante cent centaines mille milliers dizaine dizaines douzaine vingtaine trentaine cinquantaine "
            "soixantaine centaine plusieurs",
    "service": "server servers website site shop webshop portal system systems network internet email emails "
               "mail mails erp crm vpn database phone phones lines till tills checkout payment payments scanners "
               "scanner terminals terminal app application intranet wifi drive share exchange outlook citrix sap "
               "booking hotline mailbox inbox inboxes cloud platform store "
               "dateiserver shop onlineshop netzwerk netz datenbank telefon telefone telefonanlage kasse kassen "
               "kassensystem laufwerk laufwerke postfach zeiterfassung warenwirtschaft anlage "
               "serveur serveurs réseau messagerie logiciel caisse caisses standard boutique base plateforme "
               "lecteur dossier applications",
    "money": "money revenue sales orders order payment payments card cards charged charge paid invoices euros eur "
             "pounds dollars budget bank transfers refunds price prices "
             "geld umsatz umsätze bestellungen bestellung zahlung zahlungen karte karten kartenzahlung "
             "überweisung überweisungen preise preis euro "
             "argent ventes vente commandes commande paiement paiements carte cartes virement virements banque "
             "prix chiffre",
    "data": "data personal password passwords credentials iban salaries salary payroll addresses names export "
            "records details numbers files "
            "daten kundendaten passwort passwörter gehalt gehälter gehaltsliste adressen zugangsdaten dateien "
            "données coordonnées mot mots salaires dossiers fichier fichiers patients adresses",
    "exposed": "public publicly posted leaked leak leaking exposed visible pastebin accidentally mistake wrong "
               "outside external anyone "
               "öffentlich versehentlich versehen falsch falschen verschickt geschickt sichtbar einsehbar extern "
               "externen "
               "publiques publique public fuite erreur envoyé envoyés visibles visible accessibles externe",
    "now": "now currently since today morning minutes minute hour hours immediately asap "
           "jetzt gerade seit sofort heute morgen minuten stunde stunden "
           "depuis maintenant actuellement matin aujourd'hui minutes heure heures immédiatement",
    "impact": "queue queuing waiting lorries trucks drivers deadline close closing complaints complaining calling "
              "calls standing idle sitting "
              "schlange warten wartet lkw frist abschluss beschwerden anrufe stehen "
              "file attendent attente camions délai clôture réclamations appels",
    "later": "whenever later rush next week weeks tomorrow month "
             "eilt eile später nächste woche wochen morgen monat "
             "pressé urgence tard prochaine semaine semaines demain mois",
    "over": "fixed again back resolved restored solved thanks thank yesterday last ago earlier "
            "behoben wieder gelöst danke vielen gestern letzte letzten letzter vorhin "
            "réglé résolu rétabli revenu merci hier dernier dernière",
    "planned": "planned maintenance scheduled reminder announcement update window "
               "geplant geplante wartung wartungsarbeiten angekündigt erinnerung "
               "prévue prévu maintenance planifiée rappel",
    "trial": "test testing demo training exercise sandbox staging course "
             "test testsystem demo schulung übung "
             "test démo démonstration formation exercice recette",
    "if": "if would ever hypothetically what "
          "falls wenn würde würden eigentlich "
          "si jamais serait",
    "self": "my mine me i "
            "mein meine meinem meinen mir ich "
            "mon ma mes moi je j'",
}
# Word starts for compounds and inflections ("Kassensystem", "Dateiserver", "ausgefallen").
_STARTS: dict[str, tuple[str, ...]] = {
    "broken": ("abgestürz", "ausgefall", "verschlüssel", "lahmgeleg", "crash"),
    "service": ("server", "kasse", "netzwerk", "telefon", "datenbank", "serveur", "messageri"),
    "data": ("kundendat", "personal", "personenbez", "donnée"),
}
# ...and word ends ("Mailserver", "Kundenportal", "Warenwirtschaftssystem").
_ENDS: dict[str, tuple[str, ...]] = {
    "service": ("server", "system", "portal", "netz", "laufwerk", "kasse", "kassen", "datenbank", "anlage"),
}

KINDS = tuple(_WORDS)
_BY_WORD: dict[str, tuple[str, ...]] = {}
for _kind, _words in _WORDS.items():
    for _word in _words.split():
        _BY_WORD[_word] = _BY_WORD.get(_word, ()) + (_kind,)

# Words with an apostrophe stay whole ("can't", "n'arrive" is cut to "n'" + "arrive" below); numbers apart;
# and sentence ends (end marks, line breaks). A quoted line ("> ...") is history, not news: left out.
# A clock time, a temperature or a share is no count of people or machines ("since 10:30", "à 14h", "26
# degrees", "10%"): such a number is read whole, so it is no "many" (a plain number of ten or more is).
_NUMBER = r"\d{1,2}(?::\d\d|h\d\d|h\b)|\d+(?:\s?%|\s?°c?|\s(?:degrees|grad|degrés|uhr|o'clock|am|pm|h)\b)|\d+"
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]*)?|" + _NUMBER)
_PIECE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]*)?|" + _NUMBER + r"|[.!?;\n]+")
_ENDS_SENTENCE = ("end",)
_ELIDED = ("n'", "l'", "d'", "j'", "qu'", "s'", "c'")
KIND_CACHE = 16384


@lru_cache(maxsize=KIND_CACHE)
def kinds_of(word: str) -> tuple[str, ...]:
    """The kinds one lower-cased word belongs to, e.g. kinds_of("ausgefallen") -> ("broken",)."""
    if not word:  # what follows a bare "n'"
        return ()
    if word[0] in ".!?;\n":
        return _ENDS_SENTENCE
    if word.isdigit():
        return ("many",) if len(word) <= 7 and int(word) >= 10 else ()
    found = _BY_WORD.get(word, ())
    for kind, starts in _STARTS.items():
        if kind not in found and word.startswith(starts):
            found += (kind,)
    for kind, ends in _ENDS.items():
        if kind not in found and word.endswith(ends):
            found += (kind,)
    if not found and "'" in word:  # "n'arrive": the elision's kind and the word's
        head, _, rest = word.partition("'")
        if head + "'" in _ELIDED:
            found = _BY_WORD.get(head + "'", ()) + kinds_of(rest)
        elif rest == "t":  # "can't", "won't" not listed: a negated verb
            found = ("neg",)
    return found


def _pairs(found: set[str]) -> list[str]:
    ordered = sorted(found)
    return [f"{a}_x_{b}" for i, a in enumerate(ordered) for b in ordered[i + 1:]]


@lru_cache(maxsize=8)
def concept_text(subject: str, body: str) -> str:
    """The kinds of a mail (subject and body already cut to the models' bounds) as words for a word block:
    each kind once per sentence it is in, each pair that meets in a sentence, the pairs that meet in the
    mail ("m_"), and the subject's kinds apart ("subj_"), e.g. concept_text("Shop", "The shop is down for
    everyone.") -> "subj_service service broken scope service broken_x_scope ..." (order as found)."""
    head = subject.lower()
    words = [f"subj_{kind}" for kind in sorted(set(chain.from_iterable(map(kinds_of, _WORD.findall(head)))))]
    lines = body.lower().replace("\u2019", "'").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith(">"))
    # one pass of the regex and of the word cache over the whole mail, in C; a sentence end reads as _ENDS_SENTENCE
    seen: set[str] = set()
    found: set[str] = set()
    for kinds in filter(None, map(kinds_of, _PIECE.findall(head + "\n" + text + "\n"))):
        if kinds is _ENDS_SENTENCE:
            if found:
                words.extend(sorted(found))  # sorted: the same mail sums its weights in the same order in every process
                if len(found) > 1:
                    words.extend(_pairs(found))
                seen |= found
                found = set()
        else:
            found.update(kinds)
    # ...and the pairs that meet anywhere in the mail ("The shop is down. Nobody can order."), apart
    words.extend(f"m_{pair}" for pair in _pairs(seen))
    return " ".join(words)


# How a kind reads in an explanation ("looks like an emergency; words: broken + who/how many, ...").
_SAID = {"broken": "broken", "neg": "not", "works": "works", "scope": "who", "many": "how many",
         "service": "a service", "money": "money", "data": "data", "exposed": "exposed", "now": "now",
         "impact": "waiting", "later": "later", "over": "over", "planned": "planned", "trial": "test",
         "if": "what if", "self": "me"}


def readable(name: str) -> str:
    """A column of the kinds block for people: "m_broken_x_scope" -> "broken + who (in the mail)"."""
    whole = name.startswith("m_")
    name = name.removeprefix("m_")
    if name.startswith("subj_"):
        return f"subject: {_SAID.get(name[5:], name[5:])}"
    said = " + ".join(_SAID.get(kind, kind) for kind in name.split("_x_"))
    return f"{said} (in the mail)" if whole else said
