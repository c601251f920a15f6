"""Built-in priority signals in English, German and French: emergencies, urgency and negation."""
from __future__ import annotations

# They run through gateway.pipeline.rules.evaluate like the operator's rules, so the same engine (and
# its linear-time guarantee) applies; every pattern avoids look-arounds and back-references and
# bounds its gaps (.{0,40}), so it also suits RE2.

from gateway.config import RuleConfig

# A hit of these overrides every urgent vote: planned downtime is announced, a course about breaches
# is no breach, an outage that is over or a machine nobody uses is no emergency.
PLANNED_RULES = frozenset({"planned-maintenance", "exercise", "over-now", "unused"})
# Hits of these rules lower the priority and keep the model from raising it to urgent.
NEGATION_RULES = PLANNED_RULES | {"not-urgent"}
# ...except that "it came back but is down again" is an outage now, whatever came before.
STILL_BROKEN_RULES = frozenset({"still-broken"})
# The end of a word that works for accented letters too (RE2's \b knows only ASCII letters).
_END = r"([^\w]|$)"

_SERVICE = (r"(website|web site|site|shop|webshop|online shop|onlineshop|boutique|portal|portail|server|"
            r"serveur|dateiserver|mailserver|service|system|système|systeme|network|netzwerk|réseau|internet|"
            r"e-?mails?|mails?|messagerie|erp|crm|vpn|citrix|database|datenbank|phones?|telefon\w{0,20}|"
            r"téléphon\w{0,20}|standard|payroll|paie|lohn\w{0,20}|tills?|kassen?|checkout|scanners?|terminals?|"
            r"terminaux|production|produktion|fertigung|linie|line|drive|laufwerk|lecteur|hotline)")
_DOWN = (r"(down|offline|off-line|unavailable|unreachable|not loading|won't load|not responding|crashed|"
         r"has crashed|dead|died|stopped|unresponsive|won't boot|won't start|shutting (themselves|itself) down|"
         r"ausgefallen|abgestürzt|nicht erreichbar|nicht verfügbar|steht still|steht komplett|stehen still|tot|"
         r"lädt nicht|geht nicht mehr|en panne|hors service|hors ligne|indisponible|injoignable|planté|"
         r"ne répond plus|à l'arrêt|arrêtée?|ne s'affiche plus|tombée? en panne|fährt nicht (mehr )?hoch|"
         r"gehen (alle )?nicht( mehr)?|startet nicht|ne redémarre plus|ne démarre plus)")

SIGNAL_RULES: tuple[RuleConfig, ...] = (
    RuleConfig(name="service-down-any-language", value="urgent", weight=3.0,
               pattern=rf"\b{_SERVICE}\b.{{0,40}}{_DOWN}{_END}"),
    RuleConfig(name="everyone-affected", value="urgent", weight=3.0,
               pattern=r"\b(nobody|no one|none of (the|our|us)|keiner von uns|aucun d'entre nous|"
                       r"for (anyone|everyone|everybody)|(whole|entire) "
                       r"(office|company|building|team|department|sales team|production line)|"
                       r"all our (stores|branches)|all (users|staff|colleagues|employees)|"
                       r"niemand (kann|mehr|im|in)\b|bei niemandem|keiner der|"
                       r"ganzen? (firma|büro|gebäude|haus|abteilung|vertrieb|buchhaltung|linie)|"
                       r"personne ne|plus (aucun|personne)|aucun des|tout le (bureau|bâtiment|service)|"
                       r"pour tout le monde|(produktion|fertigung|kommissionierung) steht|toute la ligne|"
                       r"tous nos magasins|aucun \w{1,20} ne peut)\b"),
    RuleConfig(name="ten-or-more-people", value="urgent", weight=3.0,
               pattern=r"\b(1\d|[2-9]\d|\d{3,7}|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|hundred|"
                       r"zehn|elf|zwölf|fünfzehn|zwanzig|dreißig|vierzig|fünfzig|sechzig|hundert|dix|onze|douze|"
                       r"quinze|vingt|trente|quarante|cinquante|soixante|cent|about fifteen|etwa fünfzehn|une "
                       r"soixantaine de|rund \d{1,7}|about \d{1,7})\b.{0,12}\b(people|users|staff|colleagues|employees|"
                       r"agents|customers|kollegen|mitarbeiter(innen)?|leute|personen|nutzer|benutzer|kunden|"
                       r"collègues|personnes|utilisateurs|salariés|employés|conseillers|clients|télétravailleurs)"
                       r"\b.{0,40}\b(can't|cannot|can not|unable|affected|cut off|are standing|clicked|"
                       r"können nicht|kommen nicht|betroffen|abgeschnitten|haben|ne peuvent|bloqué\w{0,20}|"
                       r"touché\w{0,20})"),
    RuleConfig(name="losing-money-any-language", value="urgent", weight=3.0,
               pattern=r"\b(losing (money|sales|revenue|orders|customers)|turning customers away|declin\w{0,20} every "
                       r"card|(verlieren|entgehen|entgeht|verloren)\b.{0,20}\b(geld|umsatz|umsätze|kunden)|geld "
                       r"verloren|kunden wegschicken|perdons (de l'argent|des ventes|des clients)|perdre de "
                       r"l'argent|refusent toutes les cartes|(orders?|bestellungen|commandes)\b.{0,30}\b(stuck|"
                       r"not going out|hängen fest|bloquées)|(cannot|can't|can not) sell|nichts (mehr )?verkaufen|"
                       r"(ne pouvons|ne peut) (plus )?rien vendre|impossible de vendre)"),
    # No leading \b: "öffentlich" starts with a letter RE2's ASCII \b does not know.
    RuleConfig(name="data-leak-any-language", value="urgent", weight=3.0,
               pattern=r"(data leak|data breach|posted publicly|published publicly|leaked|hacked|hackers|"
                       r"ransom\w{0,20}|\.locked|by mistake to an external|unencrypted|datenleck|datenpanne|gehackt|"
                       r"logged in from abroad|account (was |has been )?compromised|downloaded all|"
                       r"konto (wurde )?kompromittiert|compte (a été )?compromis|"
                       r"hacker|lösegeld\w{0,20}|unverschlüsselt|an einen externen|öffentlich .{0,30}gepostet|"
                       r"fuite de données|piraté|pirates|rançon|non chiffrée?|publiés sur un forum|account takeover|"
                       r"(customer|client)s?'? (data|records|list|spreadsheet|file|details)\b.{0,40}\b(exported|"
                       r"sent to|emailed to|stolen)|(sent|emailed|exported) (the |our )?(full |whole |entire )?"
                       r"(customer|client) (data|records|list|spreadsheet|file)|kundendaten\w{0,10}\b.{0,40}\b"
                       r"(verschickt|versendet|exportiert|gestohlen)|(versehentlich|aus versehen) an "
                       r"(einen |eine )?(externe|alle)|(fichier|données|liste)\w{0,2} (complète?s? )?(des |de nos )?"
                       r"clients\b.{0,60}(envoyée?s?|exportée?s?|volée?s?|publiée?s?)|envoyée?s? par erreur)"),
    RuleConfig(name="data-unreachable", value="urgent", weight=3.0,
               pattern=r"\b((cannot|can't|can not|unable to) (open|reach|access|get to)\b.{0,30}\b(drive|share|"
                       r"files|folders?|server)|kommt nicht (an|auf)\b.{0,20}\b(laufwerk|dateien|ordner|server)|"
                       r"kommt\b.{0,30}\bnicht (mehr )?(an|auf|in)\b.{0,20}\w{0,20}(laufwerk|dateien|ordner|server)|"
                       r"kein zugriff auf\b.{0,30}\b(laufwerk|server|dateien)|n'a plus accès (au|aux)\b.{0,20}\b"
                       r"(lecteur|fichiers|serveur|dossier))"),
    RuleConfig(name="urgency-words-de-fr", value="high", weight=1.5,
               pattern=r"\b(dringend|eilig|schnellstmöglich|sofort|au plus vite|dès que possible|immédiatement|"
                       r"d'urgence|de toute urgence)\b"),
    # No \b after these phrases: several end in an accented letter, where RE2's ASCII \b never matches.
    # Negation outweighs any urgency word ("not urgent" also contains "urgent"), and keeps the model quiet.
    RuleConfig(name="not-urgent", value="low", weight=4.0,
               pattern=r"\b(not urgent|no rush|no hurry|not important|low priority|no deadline|not a big deal|"
                       r"nothing urgent|whenever you (have|get) (the )?time|when you're free|nicht dringend|"
                       r"keine eile|eilt nicht|hat keine eile|niedrige priorität|wenn mal zeit ist|pas urgent|"
                       r"rien ne presse|pas pressé|rien de pressé|sans urgence|pas prioritaire|quand vous aurez "
                       r"le temps|no urgency|it can wait|can wait until|whenever you get a chance|when you get a "
                       r"chance|kein notfall|kann warten|hat zeit bis|wenn ihr zeit habt|pas d'urgence|"
                       r"rien d'urgent|peut attendre|quand vous pourrez)"),
    RuleConfig(name="planned-maintenance", value="medium", weight=4.0,
               pattern=r"\b(for maintenance|planned maintenance|scheduled maintenance|as announced|wegen wartung|"
                       r"geplante wartung|wie angekündigt|pour maintenance|maintenance prévue|comme annoncé|"
                       r"(as agreed|as discussed|as planned|wie besprochen|wie vereinbart|wie geplant|comme convenu|"
                       r"comme prévu)\b.{0,60}\b(will|wird|werden|sera|seront)\b|planned downtime|scheduled downtime|"
                       r"maintenance window|will be (offline|down|unavailable|switched off|shut down) (on|from|this|"
                       r"next|tonight|over|between|tomorrow)|geplante[rn]? (ausfall|abschaltung|downtime|"
                       r"unterbrechung)|wartungsfenster|wird am\b.{0,30}\b(nicht verfügbar|offline|abgeschaltet)|"
                       r"arrêt programmé|interruption programmée|coupure programmée|fenêtre de maintenance|"
                       r"sera (arrêtée?|indisponible|coupée?|hors ligne) (le|ce|dimanche|samedi|demain|ce soir|entre|"
                       r"de))"),
    # A drill or a course about ransomware, phishing or breaches is planned, not an incident.
    RuleConfig(name="exercise", value="medium", weight=4.0,
               pattern=r"(exercise|drill|tabletop|awareness (course|session|training)|training (on|session)|"
                       r"session on|workshop on|webinar|übung zu|schulung zu|schulung zum thema|"
                       r"(phishing|sicherheits|datenschutz)-?schulung|schulung (über|für)|sensibilisierung|"
                       r"exercice sur|formation sur|formation de sensibilisation|sensibilisation (à|aux)|"
                       r"formation (à la )?sécurité)\b"),
    # An outage that is over: asked about afterwards, not an emergency now (see still-broken).
    RuleConfig(name="over-now", value="medium", weight=4.0,
               pattern=r"(it's fine again|is fine again|(working|running|back) (fine |normally )?again|"
                       r"(working|running) (fine |normally )?since|back (up|online) (now|since|again)|came back "
                       r"(by itself|on its own|after|up)|has been (fixed|resolved|restored)|report on what happened|"
                       r"post-?mortem|läuft wieder|funktioniert wieder|geht (jetzt )?wieder alles|wieder (da|online|"
                       r"erreichbar)|seitdem läuft|rückblick|tout est revenu|(site|serveur|service|messagerie|réseau|"
                       r"connexion) est revenue?|fonctionne (à nouveau|de nouveau)|refonctionne|(est|a été|sont) "
                       r"rétablie?s?|rétablie? depuis|de nouveau accessible|retour d'expérience)"),
    # "...but it's down again now": a current outage, even in a mail that tells of an earlier one. Weight 0:
    # it only cancels over-now (decide.py), and adds nothing to any priority.
    RuleConfig(name="still-broken", value="medium", weight=0.0,
               # "still" alone was too wide ("I still need the report"): it must say what is still wrong.
               pattern=r"\b(still (down|offline|not|no|broken|dead|unavailable|unreachable|can't|cannot|failing|"
                       r"crashing|out|frozen|stuck)|is down again|down again now|went down again|dropped again|"
                       r"stopped again|not yet|not (working|running) again|isn't (working|running) again|"
                       r"immer noch (nicht|kein\w{0,3}|ausgefallen|down|weg|tot|offline)|noch nicht|wieder nicht|"
                       r"schon wieder|wieder (ausgefallen|weg|down)|pas encore|toujours (pas|en panne|hors|"
                       r"indisponible|bloqu\w{0,4}|plant\w{0,4}|impossible|aucun)|de nouveau en panne|"
                       r"retombée? en panne)\b"),
    # A machine nobody uses, or one to throw away, is no outage ("nobody" alone is everyone-affected).
    RuleConfig(name="unused", value="low", weight=4.0,
               pattern=r"(nobody uses|no one uses|nobody is using|no one is using|nobody's using|not in use|"
                       r"no longer (used|needed)|dispose of|to be disposed|niemand (nutzt|benutzt|braucht)|"
                       r"nicht mehr (gebraucht|genutzt|benötigt)|entsorgen|verschrotten|personne ne l'utilise|"
                       r"plus utilisée?|n'est plus utilisée?|recycler|mettre au rebut|éteinte? depuis)"),
)
