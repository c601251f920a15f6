"""Built-in priority signals in English, German and French: emergencies, urgency and negation."""
from __future__ import annotations

# They run through gateway.pipeline.rules.evaluate like the operator's rules, so the same engine (and
# its linear-time guarantee) applies; every pattern avoids look-arounds and back-references and
# bounds its gaps (.{0,40}), so it also suits RE2.

from gateway.config import RuleConfig
from gateway.pipeline.rules import compile_built_in

# A hit of these overrides every urgent vote: planned downtime is announced, a course about breaches
# is no breach, an outage that is over, a machine nobody uses, a test system or one person's own trouble
# ("only me") is no emergency.
PLANNED_RULES = frozenset({"planned-maintenance", "exercise", "over-now", "unused", "not-ours", "not-live", "only-me",
                           "in-the-news", "not-clicked", "not-exposed"})
# Hits of these rules lower the priority and keep the model from raising it to urgent.
NEGATION_RULES = PLANNED_RULES | {"not-urgent"}
# ...except that a hit of a key here cancels its calm rule: "it came back but is down again" is an outage
# now, whatever came before; "it's not just me" is no one person's trouble; "this is not a drill" is none;
# "unless it's planned maintenance I didn't hear about" announces nothing, nor does "can you switch the
# share off?" under a leak or "could someone switch off the automatic refunds?" while money goes out;
# "I didn't click, but two colleagues entered their passwords", or someone else's invoice received, is a
# leak that happened.
CANCELS = {"still-broken": ("over-now",), "not-only-me": ("only-me",), "not-a-drill": ("exercise",),
           "credentials-given-away": ("not-clicked", "planned-maintenance"),
           "data-to-the-wrong-people": ("not-clicked", "planned-maintenance"),
           "unsure-if-planned": ("planned-maintenance",), "data-leak-any-language": ("planned-maintenance",),
           "losing-money-any-language": ("planned-maintenance",),
           "files-held-for-ransom": ("not-clicked", "planned-maintenance", "not-exposed")}
# The end of a word that works for accented letters too (RE2's \b knows only ASCII letters).
# A day an outage is named by ("Tuesday's outage", "la panne de lundi").
_WHEN = (r"(yesterday|monday|tuesday|wednesday|thursday|friday|saturday|sunday|gestern|montag|dienstag|mittwoch|"
         r"donnerstag|freitag|samstag|sonntag|hier|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
         r"la semaine (dernière|passée)|letzter woche|vergangener woche)")
# A word's end and start that know accented letters: RE2's \b and \w are ASCII-only, so "\b" beside "é"
# or "ü" never matches ("réglé\b", "\bà tous"). Latin letters up to U+024F count as letters: [^\pL\pN_], as the
# mail patterns write it, makes an RE2 program about eighteen times larger at each of these rules' many sites.
_LETTERS = "0-9A-Za-z_À-ɏ"
_END = rf"([^{_LETTERS}]|$)"
_START = rf"(^|[^{_LETTERS}])"


def _gap(most: int) -> str:
    """Between two words, within a sentence: what `\b[^.!?\n]{0,most}\b` says, for words that may end or
    begin with an accented letter."""
    return rf"[^{_LETTERS}.!?\n]([^.!?\n]{{0,{most}}}[^{_LETTERS}.!?\n])?"

_SERVICE = (r"(website|web site|site|shop|webshop|online shop|onlineshop|boutique|portal|portail|server|"
            r"serveur|dateiserver|mailserver|service|system|système|systeme|network|netzwerk|réseau|internet|"
            r"e-?mails?|mails?|messagerie|erp|crm|vpn|citrix|database|datenbank|phones?|telefon\w{0,20}|"
            r"téléphon\w{0,20}|standard|payroll|paie|lohn\w{0,20}|tills?|kassen?|checkout|scanners?|terminals?|"
            r"terminaux|production|produktion|fertigung|linie|line|drive|laufwerk|lecteur|hotline|sap|intranet|"
            r"wi-?fi|wlan|homepage|webseite|internetseite|buchungsseite|startseite|page d'accueil|kiosks?|bornes?|"
            r"automates?|automaten|platform|plateforme|plattform|booking page)")
_DOWN = (r"(down|offline|off-line|unavailable|unreachable|not loading|won't load|not responding|crashed|"
         r"has crashed|dead|died|stopped|unresponsive|won't boot|won't start|shutting (themselves|itself) (down|off)|"
         r"(begin|began|begins|start|started|starting) to shut (off|down)|"
         r"ausgefallen|abgestürzt|nicht erreichbar|nicht verfügbar|steht still|steht komplett|stehen still|tot|"
         r"steht( schon wieder| wieder| seit \w{1,20})?\s?([!-]|\.|$)|"  # "ERP STEHT - s. Betreff", "Die Kasse steht."

         r"lädt nicht|geht nicht mehr|en panne|hors service|hors ligne|indisponible|injoignable|planté|"
         r"ne répond plus|ne répondent plus|(has been |keeps |just )?spinning|tourne dans le vide|à l'arrêt|arrêtée?|"
         r"ne s'affiche plus|tombée? en panne|fährt nicht (mehr )?hoch|"
         r"gehen (alle )?nicht( mehr)?|startet nicht|ne redémarre plus|ne démarre plus|frozen|hängt|hängen|"
         r"eingefroren|figée?|times? out|timing out|timeouts?|zeitüberschreitung|délai dépassé|(error|fehler|"
         r"erreur) 50[234]|bad gateway|gateway time-?out|service unavailable|(host|server) not found|(host|server) "
         r"nicht gefunden|(hôte|serveur) introuvable|(ist|sind|wieder|komplett) weg|abgeraucht|(est|sont) tombée?s?|"
         r"(est|sont) (de nouveau |à nouveau |encore )?coupée?s?|(shows?|showing|displays?|affiche|affichent) (only |"
         r"just |nothing but |qu'une |plus qu'une )?(a |an |une )?"
         r"(((blank|white|empty) ){1,2}(page|screen)|page (blanche|vide)|error page|page d'erreur)|(zeigt|"
         r"zeigen)\b[^.!?\n]{0,40}(weiße|leere) seite|"
         r"(weiße|leere) seite (an)?(zeigt|zeigen)|(database|datenbank)-? ?(connection|verbindung)\w{0,3} ?(error|"
         r"fehler|failed)|error establishing a database "
         r"connection|erreur de "
         r"connexion (à|a) la base|(have|has) (just )?(switched|turned|shut) (themselves |itself )?(off|down))")

# Someone else's system: a supplier's portal, a courier's tracking, the neighbours' network.
_ELSEWHERE = (r"((supplier|vendor|courier|carrier|parcel service|competitor|neighbou?r|"
              r"forwarder)s?'?s?'? (\w{1,20} ){0,2}"
              r"(website|"
              r"web site|site|portal|server|shop|system|tracking|hotline|network|internet|wi-?fi|app)|(website|"
              r"web site|"
              r"site|portal|server|shop|web shop|system|tracking|tracking page|hotline|page|app) of (the|our|a|my|"
              r"their) "
              r"(\w{1,20} )?(supplier|vendor|courier|carrier|parcel service|competitor|neighbou?r)s?|(onlineshop|"
              r"webshop|"
              r"webseite|"
              r"seite|portal|shop|server|system|hotline|netz|internet|wlan|verfolgung) (des|unseres|unserer|eines|der|"
              r"vom) (papier|büro)?(lieferanten|zulieferers?|paketdienst\w{0,2}|kurier\w{0,6}|spedition|nachbar\w{0,2}|"
              r"konkurren\w{0,4}|wettbewerb\w{0,4})|(lieferanten|paketdienst|kurier|nachbar)\w{0,2}(portal|seite|"
              r"webseite|shop|server|system)|(site|portail|serveur|boutique|système|application|standard|réseau|"
              r"internet|wi-?fi|suivi)( en ligne| web| internet| de \w{1,20}| des \w{1,20})? (de notre|d'un|du|de leur|"
              r"des) (\w{1,20} )?(fournisseur|transporteur|livreur|voisin|concurrent|grossiste|prestataire)s?|"
              r"chez (notre|le|un|nos|les) "
              r"(fournisseur|transporteur|livreur|voisin)s?)")
# Records of customers or patients: "the patient records", "Kundendaten", "la base clients".
_PEOPLES_DATA = (r"((customer|client|patient|kunden|patienten)s?'? ?(records|data|daten|files|dateien|list|liste|"
                 r"database|"
                 r"datenbank)|(données|fichiers?|base|liste|dossiers) (des |de nos )?(clients|patients))")
# Nobody at all: the words say that something does not work for them.
_NOBODY = (r"((nobody|no one)( here| else| at all| (in|at|on|from) (the |our )?\w{1,20}( \w{1,20})?)?,? (can|could|"
           r"is able|"
           r"was able|has|have|had|gets|got|receives|received|sees|saw|hears|heard|manages|is getting|can't|cannot|"
           r"seems|is|was|knows)\b|none of (the|our|us)|keiner von uns|aucun d'entre nous|for (anyone|nobody)|"
           r"niemand (kann|mehr|im|in)|niemand kommt (mehr |gerade |aktuell )?(an|rein|ins|in|auf)\b|"
           r"auf keinem (der )?(rechner|pc|computer|gerät|arbeitsplatz|laptop|tablet)\w{0,2} (mehr|geht|funktioniert|"
           r"startet|läuft|öffnet)|sur aucun (des )?(postes?|ordinateurs?|pc)|on none of the (computers|pcs|machines|"
           r"tills|terminals|laptops)|(weder|neither)\b[^.!?\n]{0,60}\b(noch|nor)\b[^.!?\n]{0,40}\b(jemand|anyone|"
           r"anybody)|bei niemandem|bei keinem|für niemanden|kein(er|e|es) der|personne ne (peut|parvient|arrive|"
           r"réussit|"
           r"reçoit|voit|a (plus )?(accès|de)|se connecte|"
           r"travaille|passe|sort|entre)|personne (à|au|aux|dans|de|en) [^.!?\n]{0,30}n'(arrive|peut|a)|"
           r"plus personne|(sur|dans) aucun (poste|ordinateur|pc|terminal|appareil|magasin|site|bureau|centre|"
           r"entrepôt)|dans aucune (agence|filiale|succursale|usine)|in kein(em|er) (standort|filiale|lager|büro)|"
           r"in none of (the|our) (stores|shops|branches|sites|offices|warehouses)|"
           r"kommt niemand (\w{1,20} ){0,3}(mehr )?"
           r"(an|auf|in|rein)\b|plus aucune? ((de (nos|mes) )?(collègue|utilisateur|client|poste|salarié|employé|agent|"
           r"caisse|terminal|terminaux|ordinateur|pc|centre|site|agence|magasin|bureau|service)s? )?(ne|n')|"
           r"plus aucune? (collègue|utilisateur|client|poste|salarié|employé|agent|caisse|terminal|ordinateur|"
           r"pc)" + _END + r"|"
           r"aucune? de (nos|mes|ces) [^\s.!?]{1,20} (\w{1,20} )?(ne|n')|aucune? (cuisine|caisse|terminal|poste|"
           r"ordinateur|pc|"
           r"serveur|site|école|magasin|agence|bureau|centre|borne|imprimante|téléphone|ligne|commande|mail|message|"
           r"paiement|client|salarié|utilisateur|collègue)s? ne (reçoit|reçoivent|fonctionne|marche|répond|démarre|"
           r"s'ouvre|s'allume|passe|arrive|imprime|charge)|pour personne|aucun des|aucun \w{1,20} ne peut|"
           r"(produktion|fertigung|kommissionierung) steht|keiner (hier |mehr )?(kann|kommt)|kein(e|"
           r"er)? [^\s.!?]{1,20} "
           r"(kann|können|kommt)\b[^.!?\n]{0,50}\b(anmelden|einloggen|arbeiten|bestellen|zugreifen|drucken|"
           r"telefonieren|"
           r"buchen|bezahlen|rein|ran)|no \w{1,20} can (log|get|work|access|open|order|connect|print|pay|book))")
# All of a group: an emergency only with a trouble beside it (_TROUBLE).
_ALL = (r"(for (everyone|everybody|every user|all users|every customer|each customer|all (our )?customers)|"
        r"für alle kunden|pour tous (les|nos) clients|(whole|entire) (\w{1,20} )?(office|company|building|team|"
        r"department|floor|site|branch|store|warehouse|production line|practice|firm|school|clinic|ward|agency)|"
        r"all our (stores|branches)|"
        r"all (users|staff|colleagues|employees)|bei allen (kollegen|mitarbeitern|nutzern|benutzern|usern|kunden)|"
        r"ganzen? (\w{1,20} )?(firma|büro|gebäude|haus|abteilung|vertrieb|buchhaltung|linie|lager|etage|stockwerk|"
        r"filiale|zentrale|verwaltung|team|kanzlei|praxis|schule|klinik|station|agentur)|tout le (\w{1,10} )?(bureau|"
        r"bâtiment|service|siège|magasin|plateau|étage)|toute l'(équipe|étude|agence|entreprise|école|administration|"
        r"usine|clinique|mairie|officine)|"
        r"tous les (utilisateurs|collègues|salariés|employés|postes|agents|conseillers)|pour tout le monde|"
        r"toute la ligne|tous nos magasins|(for|für|pour) (all of us|us all|uns alle|nous tous)|bei allen (ist|sind|"
        r"geht|zeigt|kommt|"
        r"nur|seit|das|die|der|im|in der)|"
        r"(all|both|the (two|three|four|five)|alle[n]?|beiden|den (zwei|drei|vier|"
        r"fünf)|les (deux|trois|quatre|cinq)|tous les|toutes les)( (two|three|four|five|six|drei|vier|fünf|sechs|deux|"
        r"trois|quatre|cinq|six|\d{1,2}))? (floors|buildings|sites|branches|locations|sessions|clinics|shops|stores|"
        r"offices|schools|depots|etagen|stockwerken?|gebäuden?|standorten?|filialen|praxen|kliniken|schulen|"
        r"étages|bâtiments|sites|agences|magasins|écoles|centres|cabinets)|(à|pour) (nous )?tous les (deux|trois|"
        r"quatre|"
        r"cinq|six)|all (three|four|five|six) of us|(uns|wir) alle(n)? (drei|vier|fünf|sechs))")
# A server's error code ("gives 503", "HTTP 500"): one person's trouble on its own, an outage when a whole
# group gets it (everyone-affected). "Bad Gateway", "Service Unavailable" and the like are _DOWN's already.
_SERVER_ERROR = (r"(http|error|fehler|erreur|code) ?5\d\d|5\d\d (errors?|fehler|erreurs?)|(gives|returns|shows|throws|"
                 r"liefert|zeigt|renvoie|affiche) (an? |only |nur |ausschließlich |que des |des )?(http )?5\d\d|"
                 r"internal server error")
# A trouble in the same sentence as "all of us": a broken state, a negation, an error, people stuck.
_TROUBLE = (rf"({_DOWN}|{_SERVER_ERROR}|can't|cannot|can not|unable|not|no|none|nothing|no longer|without|lost|"
            r"locked|stuck|broken|gone|missing|disappeared|vanished|disconnected|dropped|went wrong|fail\w{0,4}|"
            r"errors?|"
            r"crash\w{0,3}|idle|waiting|sitting|kein\w{0,2}|nicht|nichts|ohne|weg|(ist|sind) aus|gesperrt|verschwunden|"
            r"getrennt|fehler\w{0,12}|kaputt|empty|leer|vide|warten|sitzen|ne|n'\w{1,20}|pas|plus|impossible|sans|"
            r"aucune?|"
            r"erreurs?|panne|bloqué\w{0,2}|inaccessible|introuvable|disparue?s?|coupée?s?|attendent|hs|"
            r"access denied|zugriff verweigert|accès refusé)")
# ...and the trouble words that tell it before the group ("Impossible d'imprimer pour tous les utilisateurs"):
# no bare "not", "ne", "pas", "kein": a gap counted from every such word costs the screen's DFA dearly.
_TROUBLE_FIRST = (rf"({_DOWN}|{_SERVER_ERROR}|can't|cannot|can not|unable|no longer|lost|locked|stuck|broken|"
                  r"gone|missing|disappeared|disconnected|dropped|went wrong|fail\w{0,4}|errors?|crash\w{0,3}|"
                  r"gesperrt|verschwunden|"
                  r"fehler\w{0,12}|kaputt|impossible|erreurs?|panne|bloqué\w{0,2}|inaccessible|introuvable|empty|"
                  r"leer|vide|"
                  r"plus de|pas de|(plus|pas) d'accès|refuse l'accès|accès refusé|access denied|zugriff verweigert|"
                  r"kein(e|en)? (netz|internet|strom|zugriff))")

# The power gone (power-failure): now, not "will be off".
_POWER_GONE = (r"(power (failure|outage|cut|loss)|power (is|has gone|went|has been) (out|off|down)|no power|lost power|"
               r"blackout|stromausfall|kein strom|strom (ist )?(weg|ausgefallen)|coupure de courant|panne de courant|"
               r"panne électrique|plus de courant|plus d'électricité)")
# ...where it stops the company's servers or a whole site.
_POWER_WHERE = (r"(server ?room|data ?cent(er|re)|comms room|serverraum|rechenzentrum|serverschrank|"
                r"salle (des )?serveurs?|salle informatique|whole (building|office|site|store|warehouse)|"
                r"entire (building|office|site)|"
                r"(ganzen?|gesamten?) (gebäude|büro|standort|lager|filiale)|tout le (bâtiment|site|bureau|magasin|"
                r"entrepôt))")

# A password given: "typed in my email password", "j'ai tapé mon identifiant" (credentials-given-away).
_GAVE_MY_PASSWORD = (r"(entered|typed|gave|submitted|put in) (in )?(their|his|her|my|our) (email |e-mail |work |windows |"
                     r"office )?((username|user name|login|email) and (my |their |our )?)?(passwords?|credentials|login)")
_SAISI = r"(saisi|donné|entré|tapé|mis) (leurs?|son|mon|notre|nos|ses) (mots? de passe|identifiants?)"
# A mail that asked for a log-in ("an email saying my mailbox was over quota", "eine Mail, dass wir unser Konto
# bestätigen müssen", "un mail qui disait que l'accès allait être suspendu"), then the log-in done and the
# password named: "I did, with my normal password", "geklickt und mich … angemeldet (Benutzer und Passwort …)".
# Not a password that expires: IT's own notice says so every few months.
_LURE = (r"(e-?mail|mail|message|nachricht|sms)\b[^.!?\n]{0,40}\b(saying|said|telling|asking|that|dass|die (besagte|"
         r"meinte|sagte)|qui (disait|demandait|annonçait)|disant|demandant)\b[^.!?\n]{0,80}(quota|full|voll|pleine|"
         r"suspend|deactivat|deaktiv|gesperrt|sperren|bloqu|closed|confirm|verify|validate|re-?activate|bestätigen|"
         r"verifizieren|reaktivieren|confirmer|vérifier|valider|réactiver|reconnect)")
_LOGGED_IN = (r"(i did|we did|(i|we) (logged|signed) (in|on)|clicked|geklickt|angemeldet|eingeloggt|cliqué|connectée?|"
              r"j'ai (mis|saisi|tapé|entré|donné))")
_SECRET = (r"(password|passwort|kennwort|zugangsdaten|benutzer|mot de passe|identifiants?|credentials|login "
           r"details)")
# A device lost or stolen, with people's data on it: "left my USB stick on the tram … names, dates of birth",
# "der Laptop aus dem Auto geklaut … mit den Mandantenakten". An encrypted one is calm (not-exposed).
_DEVICE = (r"(usb|stick|laptop|notebook|phone|handy|smartphone|tablet|tablette|clé|ordinateur|portable|festplatte|"
           r"disque|hard drive|memory card)")
_PLACE = r"(on|in) (the|a) (train|tram|bus|taxi|cab|plane|café|cafe|restaurant|pub|bar|metro|underground|tube)"
_GONE = (rf"(lost|stolen|verloren|gestohlen|geklaut|perdue?|volée?|(left|forgot|"
         rf"forgotten) [^.!?\n]{{0,40}}{_PLACE}|(im|in der) "
         r"(zug|bahn|straßenbahn|bus|taxi|café|u-bahn) (liegen )?(ge)?lassen|oubliée? dans (le|la|un|une) (train|tram|"
         r"bus|taxi|café|métro))")
_PERSONAL = (r"(names|dates? of birth|birth ?dates|addresses|case notes|client files|patient (files|records|"
             r"notes|data)|"
             r"medical|health data|geburtsdat\w{0,3}|adressen|namen und|\w{0,12}akten|patientendaten|gesundheitsdaten|"
             r"dates? de naissance|adresses|dossiers (des |de nos )?(patients|clients|usagers)|données (personnelles|"
             r"de santé|médicales))")
# Money paid out twice: every (refund), paid (out), twice.
_EVERY = r"(every|each|chaque|tous les|toutes les|jede[rsn]?)"  # not "all": too common a start for its gap
_PAID = r"(refund|charg|debit|rembours|prélev|erstatt|abgebucht|belastet)"
_TWICE = r"(twice|two times|three times|deux fois|trois fois|en double|doppelt|zweimal|dreimal)"
# ...and vouchers or codes going out again and again: "chaque participant a reçu son bon quatre ou cinq fois"
_AGAIN = (r"(twice|several times|again and again|in a loop|en boucle|plusieurs fois|(deux|trois|quatre|"
          r"cinq)( ou \w{1,6})? "
          r"fois|(two|three|four|five)( or \w{1,5})? times|mehrfach|mehrmals|immer wieder|(zwei|drei|vier|fünf)mal)")

SIGNAL_RULES: tuple[RuleConfig, ...] = (
    RuleConfig.built_in(name="service-down-any-language", value="urgent", weight=3.0,
               pattern=rf"\b{_SERVICE}s?\b.{{0,40}}{_DOWN}{_END}|"
                       # compounds: "Druckserver", "Warenwirtschaftssystem", "fileserver"
                       rf"(server|system|netzwerk|datenbank|laufwerk|telefonanlage)\b.{{0,40}}{_DOWN}{_END}|"
                       # German puts the verb first: "seit heute startet der Datenbankserver nicht mehr"
                       r"\b(startet|läuft|reagiert|lädt|funktioniert|geht) (der|die|das|unser\w{0,2}) \w{0,30}(server|"
                       r"system|shop|portal|datenbank|netzwerk|anlage|kassen?|erp|crm|vpn|sap|intranet)\b (seit "
                       r"\w{1,20} )?(nicht mehr|gar nicht|überhaupt nicht)|"
                       # a server room that overheats: the servers go next
                       r"(server ?room|serverraum|salle (des )?serveurs?|salle informatique|rechenzentrum|"
                       r"data ?cent(er|re))"
                       r"[^.!?\n]{0,60}(overheat\w{0,3}|(getting|too|very) hot|(zu|sehr) heiß|überhitz\w{0,3}|(trop|"
                       r"très) "
                       r"chaud|surchauffe)|"
                       # "Verbindung zum Zollportal fehlgeschlagen"
                       r"(verbindung|connection|connexion)\b[^.!?\n]{0,40}(portal|portail|server|serveur|plattform|"
                       rf"platform|plateforme)\w{{0,3}}\b[^.!?\n]{{0,20}}{_START}(fehlgeschlagen|failed|échouée?)|"
                       # callers who only hear the busy tone: the phones are down for whoever calls in
                       r"(callers|anrufer\w{0,2}|appelants)\b[^.!?\n]{0,60}\b(busy|engaged|besetzt\w{0,8}|occupée?)|"
                       # a connection that drops: "dropped" alone is too wide ("the shop's prices dropped")
                       r"\b(connection|network|internet|wi-?fi|wlan|vpn|phone lines?|lines)s? (has |have |keeps? |"
                       r"just |"
                       r"has just |completely )?(dropped|dropping|cut out)\b"),
    # Who: nobody (a trouble in itself), or all of a group with a trouble in the same sentence. "All staff",
    # "tout le service" alone is how announcements and newsletters are addressed, not an outage.
    RuleConfig.built_in(name="everyone-affected", value="urgent", weight=3.0,
               pattern=rf"{_START}({_NOBODY}\b|{_ALL}\b[^.!?\n]{{0,40}}{_START}{_TROUBLE}{_END}|"
                       rf"{_TROUBLE_FIRST}{_gap(40)}{_ALL}\b)"),
    RuleConfig.built_in(name="ten-or-more-people", value="urgent", weight=3.0,
               pattern=r"\b(1\d|[2-9]\d|\d{3,7}|(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-?(one|two|"
                       r"three|"
                       r"four|five|six|seven|eight|nine)|(ein|zwei|drei|vier|fünf|sechs|sieben|acht|neun)und(zwanzig|"
                       r"dreißig|vierzig|fünfzig|sechzig|siebzig|achtzig|neunzig)|(vingt|trente|quarante|cinquante|"
                       r"soixante)[- ](et[- ])?(un|deux|trois|quatre|cinq|six|sept|huit|neuf)|"
                       r"ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|hundred|"
                       r"zehn|elf|zwölf|fünfzehn|zwanzig|dreißig|vierzig|fünfzig|sechzig|hundert|dix|onze|douze|"
                       r"quinze|vingt|trente|quarante|cinquante|soixante|cent|about fifteen|etwa fünfzehn|une "
                       r"soixantaine de|rund \d{1,7}|about \d{1,7}|a dozen|dozens of|hundreds of|ein dutzend|"
                       r"dutzende|hunderte|(une (dizaine|douzaine|quinzaine|vingtaine|trentaine|quarantaine|"
                       r"cinquantaine|centaine)|des (dizaines|centaines)) d(e|'))\b.{0,12}\b(people|users|staff|"
                       r"colleagues|employees|"
                       r"agents|customers|kollegen|mitarbeiter(innen)?|leute|personen|nutzer|benutzer|kunden|"
                       r"collègues|personnes|utilisateurs|salariés|employés|conseillers|clients|télétravailleurs)"
                       r"\b.{0,40}\b(can't|cannot|can not|unable|affected|cut off|are standing|clicked|sitting|"
                       r"idle|doing nothing|waiting|stuck|lost|entered|hear nothing|can't hear|nichts mehr|"
                       r"können nicht|kommen nicht|"
                       r"hören (\w{1,20} )?nichts|n'entendent (plus )?rien|betroffen|"
                       r"abgeschnitten|haben|sitzen|warten|untätig|stecken|rausgeflogen|eingegeben|ne peuvent|"
                       r"bloqué\w{0,20}|touché\w{0,20}|attendent|sans pouvoir|n'arrivent|ont perdu|ont saisi|"
                       r"ont cliqué|locked out|locked|blocked|gesperrt|ausgesperrt|blockiert|kicked out|"
                       r"verrouillé\w{0,2})"),
    # Machines by the ten, with a trouble beside them: "about forty laptops show a blue screen on boot".
    RuleConfig.built_in(name="ten-or-more-machines", value="urgent", weight=3.0,
               pattern=r"\b(1\d|[2-9]\d|\d{3,7}|ten|twelve|fifteen|twenty|thirty|forty|fifty|sixty|hundred|dozens of|"
                       r"hundreds of|zehn|zwölf|fünfzehn|zwanzig|dreißig|vierzig|fünfzig|hundert|dutzende|hunderte|dix|"
                       r"douze|quinze|vingt|trente|quarante|cinquante|cent|une (dizaine|douzaine|quinzaine|vingtaine|"
                       r"trentaine|quarantaine|cinquantaine|centaine) de|des (dizaines|centaines) de)\s(laptops|pcs|"
                       r"computers|workstations|desktops|machines|tills|terminals|scanners|devices|handhelds|rechner|"
                       r"computer|arbeitsplätze|geräte|kassen|scanner|portables|ordinateurs|postes|terminaux|caisses|"
                       rf"scanners|appareils)\b[^.!?\n]{{0,40}}{_START}(blue screen|black screen|bluescreen|"
                       r"schwarze[nr]? "
                       r"bildschirm|écran (noir|bleu)|won't (start|boot)|will not (start|boot)|do not (start|boot)|"
                       rf"don't (start|boot)|nicht mehr|ne démarrent plus|restent|{_DOWN}{_END})"),
    # "... will not open for anyone in head office, about 60 people": the trouble first, then how many.
    RuleConfig.built_in(name="ten-or-more-people-after", value="urgent", weight=3.0,
               pattern=r"\b(can't|cannot|unable to|won't (open|start|work|load|connect)|will not (open|start|work|"
                       r"load|connect)|not (working|opening|loading|connecting|starting)|nobody|no one|for anyone|"
                       r"nicht (mehr )?(öffnen|starten|arbeiten|anmelden|erreichbar|verfügbar|drucken)|bei keinem|"
                       r"niemand|ne [^.!?\n]{0,20} plus|plus personne|pour personne|n'arrive\w{0,3} plus|"
                       rf"impossible)[^.!?\n]{{0,80}}{_START}(that's|that is|that makes|about|around|some|das "
                       r"sind|rund|etwa|circa|ca\.|insgesamt|soit|environ|à peu près|en tout)\s(1\d|[2-9]\d|"
                       r"\d{3,7}|ten|twelve|fifteen|twenty|thirty|forty|fifty|hundred|zehn|zwölf|zwanzig|dreißig|"
                       r"vierzig|fünfzig|hundert|dix|douze|vingt|trente|quarante|cinquante|cent)\b.{0,12}\b(people|"
                       r"users|staff|colleagues|employees|agents|leute|personen|kollegen|mitarbeiter|nutzer|benutzer|"
                       r"arbeitsplätze|personnes|collègues|utilisateurs|salariés|employés|postes|conseillers)"),
    RuleConfig.built_in(name="losing-money-any-language", value="urgent", weight=3.0,
               pattern=r"\b(losing (money|sales|revenue|orders|customers)|turning customers away|declin\w{0,20} every "
                       r"card|(verlieren|entgehen|entgeht|verloren)\b.{0,20}\b(geld|umsatz|umsätze|kunden)|geld "
                       r"verloren|kunden wegschicken|perdons (de l'argent|des ventes|des clients)|perdre de "
                       r"l'argent|refusent toutes les cartes|(orders?|bestellungen|commandes)\b.{0,30}\b(stuck|"
                       r"not going out|hängen fest|bloquées)|(cannot|can't|can not) sell|nichts (mehr )?verkaufen|"
                       r"(ne pouvons|ne peut) (plus )?rien vendre|impossible de vendre|"
                       r"(lost|verloren|perdu) [\d .,]{1,12}(k |000 )?(euros?|€|eur|dollars?|pounds?|£|\$)|"
                       r"(every|each|per|jede|pro|chaque|par) (hour|minute|stunde|heure)\b[^.!?\n]{0,20}\b(costs?|"
                       r"kostet|"
                       r"coûte)|"
                       r"(prices?|articles|products|items|artikel|produkte|preise|prix)\b[^.!?\n]{0,40} (à|at|zu|für|"
                       r"for|auf) (0|0[.,]00|zero|zéro|null) ?(euros?|€|eur|dollars?|\$)|"
                       r"(products?|articles?|items?|artikel\w{0,2}|produits?|prices?|preise?|prix)\b[^.!?\n]{0,50}"
                       r"((£|€|\$) ?0[.,]00|\b0[.,]00 ?(€|(eur|euros?)\b))|"
                       r"(refund\w{0,3}|rembourse\w{0,3}|erstatte\w{0,3}) (\w{1,20} ){0,2}(every|each|all|chaque|"
                       r"toutes? les|"
                       r"jede|alle) (\w{1,20} )?(orders?|commandes?|bestellung\w{0,2})|"
                       r"(tous les|toutes les|all|every|alle) (\w{1,20} ){0,3}(paiements|renouvellements|commandes|"
                       r"transactions|"
                       r"payments|orders|renewals|zahlungen|bestellungen|verlängerungen)\b[^.!?\n]{0,30}(échouent|"
                       r"fail|failing|"
                       r"scheitern|schlagen fehl)|"
                       r"(zero|no|not a single|null|keine|zéro|aucune?) (completed |successful |erfolgreiche\w? |"
                       r"réussie?s? )?"
                       r"(orders?|sales|payments?|donations?|renewals?|bestellungen|verkäufe|zahlungen|spenden|"
                       r"commandes?|"
                       r"ventes?|paiements?|dons|renouvellements?) (since|seit|depuis)|"
                       r"(1\d|[2-9]\d|\d{3,7}) (double bookings|doppelbuchungen|surréservations|overbookings|duplicate "
                       r"(orders|charges|payments)|doppelte (abbuchungen|zahlungen))|"
                       # everyone served without paying: "waving everyone out without paying", "tous montent sans payer"
                       r"(everyone|everybody|every|customers|passengers|tou[st] les|tout le monde|toutes les|"
                       r"clients|passagers|alle|jede[rn]?|kunden|fahrgäste)\b[^.!?\n]{0,40}\b(without paying|"
                       r"sans (rien )?"
                       r"payer|ohne zu (be)?zahlen)|"
                       rf"(bons?|vouchers?|coupons?|gutscheine?|codes? promo)\b[^.!?\n]{{0,80}}\b{_AGAIN}|"
                       # a discount that applies by itself to every order: "le code s'applique à toutes les commandes"
                       r"(code|promo|discount|rabatt|remise|réduction|coupon|voucher|gutschein)\w{0,8}\b[^.!?\n]{0,100}"
                       rf"\b(applies|applied|s'applique|appliquée?|gilt|greift){_END}[^.!?\n]{{0,40}}\b(every|all|"
                       r"toutes les|tous les|"
                       r"alle|jede)\b[^.!?\n]{0,20}(orders?|commandes?|bestellungen|purchases|achats|einkäufe)|"
                       # a code meant for one use, used again and again: "le même code a été utilisé 37 fois"
                       r"(code|voucher|coupon|gutschein|bon)\w{0,8}\b[^.!?\n]{0,60}\b(used|redeemed|utilisée?s?|"
                       r"eingelöst|"
                       r"verwendet|benutzt) (\d{2,7}|dozens of|many|plusieurs|des dizaines de|dutzende|mehrfach|"
                       r"mehrmals)"
                       r"( times| fois| mal)?|(code|voucher|coupon|gutschein|"
                       r"bon)\w{0,8}\b[^.!?\n]{0,60}\b(\d{2,7} ?mal|"
                       r"mehrfach|mehrmals|dutzende ?male) (eingelöst|verwendet|benutzt)|"
                       # refunds or charges going out twice: "every cancelled booking is refunded twice"
                       rf"{_EVERY}\b[^.!?\n]{{0,60}}\b{_PAID}\w{{0,6}}\b[^.!?\n]{{0,40}}\b{_TWICE}|"
                       rf"{_EVERY}\b[^.!?\n]{{0,60}}\b{_TWICE}\b[^.!?\n]{{0,20}}\b{_PAID}|"  # "jede doppelt erstattet"
                       rf"{_PAID}\w{{0,6}}\b[^.!?\n]{{0,20}}\b{_EVERY}\b[^.!?\n]{{0,60}}\b{_TWICE}|"  # "rembourse chaque"
                       r"(refunds|charges|debits|remboursements|"
                       r"paiements|prélèvements|erstattungen|rückerstattungen|abbuchungen) (\w{1,20} )?(en double|in "
                       r"duplicate|doppelt|twice)|double (refunds|charges|debits)|doppelte (erstattungen|"
                       r"rückerstattungen))"),
    # Money sent on a forged request ("CEO fraud"). No \b: "überwiesen" and "viré" have letters RE2's \b does not know.
    RuleConfig.built_in(name="paid-a-fraud", value="urgent", weight=3.0,
               pattern=r"(^|[^\w])(transferred|wired|paid|überwiesen|bezahlt|viré|payé)([^\w]|$)[^\n]{0,120}(fake|"
                       r"forged|fraud\w{0,6}|scam|gefälscht\w{0,2}|betrug|betrüger\w{0,3}|arnaque|escroquerie|faux)|"
                       # ...or to an account someone swapped in: the bank details changed and money already gone
                       r"(changed|modified|altered|replaced|swapped|geändert|ausgetauscht|modifié|changé|remplacé)"
                       r"[^\n]{0,60}(iban|rib|bank ?(details|account)|bankverbindung|kontonummer|kontodaten|"
                       r"coordonnées "
                       r"bancaires)[^\n]{0,120}(already|déjà|schon|bereits)|"
                       # German and French say the details first: "Die Bankverbindung ... wurde geändert"
                       r"(iban|rib|bank ?(details|account)|bankverbindung|kontonummer|kontodaten|coordonnées bancaires)"
                       r"[^\n]{0,60}(changed|modified|altered|replaced|geändert|ausgetauscht|modifiée?s?|changée?s?|"
                       r"remplacée?s?)[^\n]{0,120}(already|déjà|schon|bereits)"),
    # No leading \b: "öffentlich" starts with a letter RE2's ASCII \b does not know.
    RuleConfig.built_in(name="data-leak-any-language", value="urgent", weight=3.0,
               pattern=r"(data leak|data breach|posted publicly|published publicly|leaked|hacked|hackers|"
                       # a link, a password list or data put where the public reads it
                       r"(link|lien|passw\w{0,10}|password list|kennw\w{0,10}|mots? de passe|data|daten|données|folder|"
                       r"ordner|dossier)[^.!?\n]{0,40}(public|öffentlich\w{0,3}|publi\w{1,3}) (forum|channel|kanal|"
                       r"group|gruppe|groupe|post|chat)|(forum|canal|groupe) public|"
                       # people's data that anyone can read on the internet
                       r"(kunden|customer|client|patient|personal|personen|salar|gehalt|gehält|passw)[^.!?\n]{0,60}"
                       r"(im internet (abrufbar|einsehbar|sichtbar|zugänglich)|(publicly|freely) (available|accessible|"
                       r"visible)|accessible sur internet|librement accessible|en libre accès)|"
                       r"accessibles? publiquement|"
                       r"publiquement accessibles?|öffentlich (zugänglich|abrufbar|einsehbar)|"
                       # a laptop or phone with customer data stolen; a site defaced
                       rf"(stolen|gestohlen|geklaut|volée?s?)[^.!?\n]{{0,60}}{_PEOPLES_DATA}|"
                       rf"{_PEOPLES_DATA}[^.!?\n]{{0,40}}"
                       r"(stolen|gestohlen|geklaut|volée?s?)|"
                       r"defaced|défigurée?|verunstaltet|"
                       rf"({_DEVICE}[^\n]{{0,80}}{_START}{_GONE}|{_GONE}[^\n]{{0,80}}{_START}{_DEVICE}|(left|"
                       r"forgot|forgotten) "
                       rf"(my|the|our|a|an|his|her|their) (\w{{1,20}} )?{_DEVICE}\w{{0,3}} {_PLACE}){_END}"
                       r"[^\n]{0,250}"
                       rf"{_START}{_PERSONAL}{_END}|"
                       # pay or personal data sent outside ("the payroll file went to an external list")
                       r"(payroll|salar\w{1,5}|gehalt\w{0,6}|gehälter|salaires?|customer data|kundendaten|données "
                       r"(clients|personnelles)|personal data|personenbezogene\w{0,2} daten)\b[^.!?\n]{0,40}\b(sent|"
                       r"went|"
                       rf"forwarded|emailed|ging|gingen|geschickt|verschickt|envoyée?s?|"
                       rf"transmise?s?){_END}[^.!?\n]{{0,40}}"
                       r"(external|extern\w{0,2})|"
                       r"by mistake to an external|unencrypted|(wasn't|isn't|weren't|aren't|not) encrypted|"
                       r"nicht verschlüsselt|(wasn't|isn't|not) password[- ]protected|nicht (mit einem |durch ein )?passwort ?geschützt|(n'était|"
                       r"n'est) pas protégée? par (un )?"
                       r"mot de passe|ein passwort [^.!?\n]{0,30}gab es nicht|(er|es|laptop|stick|rechner|notebook|gerät) (hatte|hat) "
                       r"kein (passwort|kennwort)|(it|the laptop|the stick|the computer|the device|the drive) had no "
                       r"password|there was no password on it|(pas|non) (été )?(chiffrée?s?|cryptée?s?)|datenleck|datenpanne|"
                       r"\bgehackt|"
                       r"logged in from abroad|account (was |has been )?compromised|downloaded all|"
                       r"(mails?|e-?mails|messages)\b[^.!?\n]{0,40}\b(that )?i (didn't|did not|never) (write|wrote|"
                       r"send|sent)|(mails?|"
                       r"nachrichten),? die ich (nie|nicht) (geschrieben|geschickt|verschickt)|(mails?|"
                       r"messages) que je "
                       r"n'ai (pas|jamais) (écrits?|envoyée?s?)|"
                       r"\b(someone|somebody|a stranger|an unknown person|an outsider) (has )?(logged|signed) (in|"
                       r"into|on|onto)\b"
                       r"[^.!?\n]{0,40}\b(account|admin|mailbox|backend|back office)|\bjemand (fremdes |unbekanntes )?"
                       r"hat sich\b[^.!?\n]{0,40}\b(eingeloggt|angemeldet)|quelqu'un (d'inconnu |d'extérieur )?s'est "
                       r"connecté (au|à (notre|nos|mon|ma|son|sa|la|l')) ?(compte|messagerie|boîte|espace|back-?office|"
                       r"administration)|"
                       r"konto (wurde )?kompromittiert|compte (a été )?compromis|"
                       r"hacker|unverschlüsselt|an einen externen|öffentlich .{0,30}gepostet|"
                       r"fuite de données|piraté|pirates|non chiffrée?|publiés sur un forum|account takeover|"
                       r"(customer|client)s?'? (data|records|list|spreadsheet|file|details)\b.{0,40}\b(exported|"
                       r"sent to|emailed to|stolen)|(sent|emailed|exported) (the |our )?(full |whole |entire )?"
                       r"(customer|client) (data|records|list|spreadsheet|file|export|database)|"
                       r"kundendaten\w{0,10}\b.{0,40}\b"
                       r"(verschickt|versendet|exportiert|gestohlen)|(versehentlich|aus versehen) an "
                       r"(einen |eine )?(externe|alle)|(fichier|données|liste)\w{0,2} (complète?s? )?(des |de nos )?"
                       r"clients\b.{0,60}(envoyée?s?|exportée?s?|volée?s?|publiée?s?)|envoyée?s? par erreur)"),
    # Files encrypted and held for ransom: "every file ends in .crypt", a note on how to get them back. Its
    # "nobody clicked anything" is no reported phishing (CANCELS).
    RuleConfig.built_in(name="files-held-for-ransom", value="urgent", weight=3.0,
               pattern=r"(ransom\w{0,20}|lösegeld\w{0,20}|rançon\w{0,20}|\.(locked|crypt|crypted|encrypted|locky)"
                       r"([^\w]|$)|(decrypt|restore|recover|entschlüssel|zurückbekommen|zurueckbekommen|wiederherstell|"
                       r"déchiffr|récupér)\w{0,20}[_ .-]?\w{0,20}\.(txt|html?|hta)([^\w]|$))"),
    # Someone's data shown or sent to others: "sees other patients' diagnoses", "someone else's invoice".
    RuleConfig.built_in(name="data-to-the-wrong-people", value="urgent", weight=3.0,
               pattern=r"\b((invoices?|data|addresses|orders?|records|documents|details|rechnung\w{0,2}|daten|adressen|"
                       r"bestellung\w{0,2}|dokumente|factures?|données|adresses|commandes?)\b[^.!?\n]{0,40}\b(of (a "
                       r"different|another) (company|customer|client|patient|person|user)|of other (customers|clients|"
                       r"patients|users|people|companies)|(einer anderen|eines anderen|"
                       r"einer fremden|eines fremden) (firma|kunden?|kundin|person|patient\w{0,2}|nutzers?|benutzers?)|"
                       r"d'une autre (société|entreprise|personne|cliente)|d'un autre (client|patient|utilisateur))|"
                       r"other (customers|clients|patients|users|companies|people|members)'?s?'? (data|names|"
                       r"invoices|documents|records|addresses|details|files|orders|diagnos\w{0,3}|accounts|"
                       r"emails|messages)|(another|a different) (person|customer|client|patient|user|member|family|"
                       r"company)'s "
                       r"(data|records?|results?|invoices?|orders?|documents|details|files|account|address|profile|"
                       r"medical \w{1,20})|"
                       # "I can see the passport scans of every student in the school"
                       r"(can|could) see\b[^.!?\n]{0,60}\b(of|for) (every|all (the )?|each) (students?|pupils?|"
                       r"customers?|"
                       r"clients?|patients?|members?|employees?|staff|users?|famil(y|ies)|parents?|residents?|"
                       r"tenants?)|"
                       r"(sehe|sieht|sehen)\b[^.!?\n]{0,60}\b(von allen|aller|sämtlicher) (schüler\w{0,4}|kunden|"
                       r"patient\w{0,2}|"
                       r"mitglieder\w{0,1}|mitarbeiter\w{0,4}|nutzer\w{0,1}|bewohner\w{0,1}|mieter\w{0,1}|eltern)|"
                       r"(vois|voit|voient|voyons|voir)\b[^.!?\n]{0,60}\b(de tous les|de toutes les) (élèves|"
                       r"étudiants|clients|"
                       r"patients|adhérents|salariés|utilisateurs|résidents|locataires|familles)|"
                       r"(a )?stranger'?s'? (\w{1,20} )?(data|records?|results|readings|invoices?|details|documents|"
                       r"files|"
                       r"address|account)|"
                       # a record shown to the wrong person: "was shown the account of someone in another village"
                       r"(shown|showing|shows|sees|seeing|saw|seen|displays|displayed|"
                       r"displaying)\b[^.!?\n]{0,40}\b(accounts?|"
                       r"data|records?|details|profiles?|files?|invoices?|results?|bills?|statements?|documents?) (of|"
                       r"belonging to) (someone|somebody|a stranger|strangers|another|other (people|members|customers|"
                       r"patients|users|parents|families|children|guests|clients|residents|pupils))|"
                       r"(fotos|bilder|daten|akten|befunde|berichte|dokumentation|unterlagen|telefonnummern|adressen|"
                       r"konten|"
                       r"rechnungen|termine|buchungen|bestellungen|verträge|zeugnisse|"
                       r"noten)\w{0,4}\b[^.!?\n]{0,60}\b(von|der) (\w{1,20} ){0,2}(anderen|fremden) (kindern|kunden|"
                       r"kundinnen|patient\w{0,4}|bewohner\w{0,3}|mitglieder\w{0,2}|familien|gäste\w{0,2}|"
                       r"mandant\w{0,4}|"
                       r"schüler\w{0,4}|eltern|nutzer\w{0,2}|personen|menschen)|(eines|einer) (ganz |völlig )?(anderen|"
                       r"fremden) (gastes|kunden|kundin|patient\w{0,2}|bewohner\w{0,2}|mitglieds|kindes|familie|frau|"
                       r"mannes|"
                       r"person|mandant\w{0,2}|schüler\w{0,2}|nutzers|benutzers)\b[^.!?\n]{0,40}\b(angezeigt|zu sehen|"
                       r"sichtbar|einsehbar)|"
                       # sent to the wrong people: "les comptes rendus sont partis chez les mauvais médecins"
                       r"(sent|went|gone|go|goes|going|emailed|mailed|posted|delivered|forwarded|envoyée?s?|partie?s?|"
                       r"partent|transmise?s?|expédiée?s?|geschickt|verschickt|gegangen|gehen|geht|zugestellt|"
                       rf"versendet){_gap(30)}(to the wrong|"
                       r"an (die |den )?falschen?|aux mauvais(es)?|chez (les|des|de) mauvais(es)?|à la mauvaise|"
                       r"au mauvais|à des mauvais(es)?)|"
                       r"(link|lien|freigabelink|ordner|folder|dossier|share|partage)\b[^.!?\n]{0,80}\b(without|ohne|"
                       r"sans) "
                       r"(anmeldung|login|logging in|signing in|a password|password|passwort|kennwort|connexion|"
                       r"mot de passe|authentification)|"
                       r"(relevés?|documents?|factures?|dossiers?|courriers?|résultats?|données|bulletins?|contrats?) "
                       r"[^.!?\n]{0,30}de quelqu'un d'autre|(rechnung|abrechnung|unterlagen|dokument|befund|daten|"
                       r"brief|"
                       r"vertrag)\w{0,3} [^.!?\n]{0,30}von jemand(em)? ander(em|en|s)|(rechnung|abrechnung|"
                       r"unterlagen|befund|"
                       r"brief|vertrag)\w{0,3} (eines|einer|des|der) (nachbarn|nachbarin|anderen|fremden)\b|"
                       r"falsch (verschickt|"
                       r"versendet|zugestellt)|wrongly (sent|addressed|delivered)|mal (adressée?s?|envoyée?s?)|"
                       r"someone else's (data|invoices?|records|orders?|documents|files|account details|"
                       r"address|bank details|medical \w{1,20}|personal \w{1,20})|each other's (data|invoices|orders|"
                       r"records|details)|"
                       r"everyone's (data|reports|records|details|addresses|orders|files|documents|bookings|accounts|"
                       r"invoices)|"
                       r"(daten|rechnung|rechnungen|namen|dokumente|unterlagen|adressen|bestellungen|befunde|"
                       r"diagnosen) (anderer|fremder|eines anderen)|(anderer|fremder) (kunden|patienten|nutzer|"
                       r"benutzer|firmen|personen|mitglieder)|(données|factures?|documents?|dossiers?|noms|résultats|"
                       r"adresses|commandes?|diagnostics?|colis|casiers) (d'autres|des autres|d'un autre)|"
                       r"(visible|accessible|readable|sichtbar|abrufbar|zugänglich|lisible|consultable)s?"
                       rf"{_gap(30)}(without (a )?(password|login)|to (anyone|everyone)|for anyone|by anyone|ohne "
                       r"(passwort|kennwort|anmeldung)|für jeden|sans mot de passe|à tous|par tous|à n'importe qui)|"
                       # anyone can read them without logging in: "N'importe qui peut voir ça sans se connecter"
                       r"(anyone|anybody|n'importe qui|tout le monde|jede[rn]?|jeder mann) (can|could|peut|"
                       r"pourrait|kann|"
                       r"könnte) (see|view|read|open|voir|lire|ouvrir|consulter|sehen|lesen|öffnen|einsehen)\b"
                       r"[^.!?\n]{0,40}(without (logging|signing) in|without (a |any )?(password|login)|sans (se "
                       r"connecter|mot de passe|identifiant|être connecté)|ohne (anmeldung|login|passwort|sich "
                       r"anzumelden|einloggen)))"),
    # Credentials typed into a phishing page: the accounts are someone else's now.
    RuleConfig.built_in(name="credentials-given-away", value="urgent", weight=3.0,
               # Typed on the page a mail or link opened, not "I entered my password three times and I'm locked out".
               pattern=rf"\b((link|page|site|mail|e-?mail|form|clicked)\b[^.!?\n]{{0,80}}\b{_GAVE_MY_PASSWORD}|"
                       rf"{_GAVE_MY_PASSWORD}\b[^.!?\n]{{0,40}}\b(on|into|in|to) (the|a|that|this|some|their) (\w{{1,20}} )?"
                       r"(page|site|website|form|link)|fake (\w{1,20} )?(login page|"
                       r"sign-in page|page|site|website)|"
                       r"(passw(ö|o)rt(er)?|kennw(ö|o)rt(er)?|zugangsdaten) (auf|in) [^.!?\n]{0,40}eingegeben|"
                       # on the page a link opened: "auf den Link geklickt und Benutzername und Passwort eingegeben" (not
                       # "ich habe mein neues Passwort eingegeben, aber Outlook fragt weiter": every desk's daily mail)
                       r"(link|seite|formular)\b[^.!?\n]{0,60}\b(passwort|kennwort|zugangsdaten) eingegeben|"
                       # the page asked for it, and got it: "la page m'a demandé mon mot de passe, je les ai mis"
                       r"(page|site|seite|formulaire|form|link|lien)\b[^.!?\n]{0,50}(mot de passe|password|passwort)\b"
                       r"[^.!?\n]{0,30}\b(je les ai (mis|saisis|entrés|tapés|"
                       r"donnés)|je l'ai "
                       r"(mis|saisi|entré|tapé|donné)|i (entered|typed|gave) (it|them)|habe ich (es |sie )?(eingegeben|"
                       r"eingetippt))|"
                       r"gefälschte\w{0,2} (\w{1,20})?seite|fausse page|faux site|page frauduleuse|"
                       rf"((lien|page|site|mail|formulaire)\b|cliqué)[^.!?\n]{{0,80}}\b{_SAISI}|{_SAISI}\b[^.!?\n]{{0,40}}\b"
                       r"sur (la|le|une|un|cette|ce) (\w{1,20} )?(page|site|formulaire|lien)|"
                       rf"{_LURE}[^\n]{{0,220}}{_START}{_LOGGED_IN}[^\n]{{0,80}}{_START}{_SECRET})"),
    # Work that has stopped altogether, whatever the system: "picking has come to a standstill".
    RuleConfig.built_in(name="standstill", value="urgent", weight=3.0,
               pattern=r"\b((queue|queues|line|file|schlange|warteschlange)\w{0,3}\b[^.!?\n]{0,40}\b(out the door|"
                       r"out of "
                       r"the door|round the (block|building|corner)|down the (street|road)|up the ramp|to the road|"
                       r"jusqu'à la (route|rue|départementale|nationale|porte)|jusque dans la rue|fait le tour|"
                       r"bis (auf "
                       r"die|zur|vor die) (straße|tür|bundesstraße|landstraße))|standstill|ground to a halt|(stopped|"
                       r"halted) (completely|entirely)|completely "
                       r"(stopped|halted)|zum erliegen|stillstand|steht (alles|komplett) still|lahmgelegt|"
                       r"paralysiert|paralysée?s?|complètement (arrêtée?s?|bloquée?s?)|tout est (arrêté|bloqué)|"
                       # "Im Lager steht alles" (a place, so that "im Handbuch steht alles" is no standstill)
                       r"(im|in der|in unserem|in unserer) (lager|werk|produktion|halle|fertigung|versand|logistik|"
                       r"filiale|laden|markt|küche|praxis)\w{0,4} steht alles|"
                       r"nothing can (leave|"
                       r"ship|go out|be shipped)|(can't|cannot|can not) (pick|ship|book in|sell|deliver|"
                       r"produce) anything|"
                       r"(können|kann) nichts (mehr )?(kommissionieren|versenden|verschicken|buchen|verkaufen|"
                       r"ausliefern|"
                       r"produzieren)|nothing (goes|is going|is getting|gets) out|nichts geht (mehr )?raus|"
                       r"geht nichts (mehr )?raus|rien ne part|impossible de (préparer|expédier|livrer|produire)|"
                       r"(ne pouvons|ne peut) (plus )?rien (expédier|livrer|préparer|produire)|"
                       # a flow stopped since a moment: "stellt seit ca. 14 Uhr keine Einsätze mehr zu"
                       r"(kommen|kommt|stellt|stellen|geht|gehen|gelangen|"
                       r"gelangt) seit\b (ca\. )?[^.!?\n]{0,30}\bkeine?\w{0,2} "
                       r"([^\s.!?]{1,20} ){1,2}mehr (zu|an|raus|rein|durch)|seit\b (ca\. )?[^.!?\n]{0,30}\b(kommen|"
                       r"kommt|"
                       r"gehen|geht|gelangen|gelangt) (\w{1,20} )?keine?\w{0,2} ([^\s.!?]{1,20} ){1,2}mehr (an|raus|"
                       r"rein|durch)|"
                       r"since\b[^.!?\n]{0,30}\b(no|not a single) (\w{1,20} ){1,2}(have|has|are|is) (come|coming|"
                       r"gone|going|"
                       r"got|getting|arrived|arriving) (in|through|out)|"
                       r"depuis\b[^.!?\n]{0,30}\b(plus )?aucune? (\w{1,20} )"
                       r"{1,2}n'(est|a|arrive|passe|sort))"
                       + _END),
    # The power gone where the servers are, or for a whole site: "Power failure in the server room", "Stromausfall
    # im ganzen Gebäude", "coupure de courant dans la salle serveur". One's own home and a cut announced for a
    # day are other rules' (not-ours, planned-maintenance).
    RuleConfig.built_in(name="power-failure", value="urgent", weight=3.0,
               pattern=rf"{_START}{_POWER_GONE}{_gap(60)}{_POWER_WHERE}{_END}|"
                       rf"{_START}{_POWER_WHERE}{_gap(60)}{_POWER_GONE}{_END}"),
    RuleConfig.built_in(name="data-unreachable", value="urgent", weight=3.0,
               pattern=r"\b((cannot|can't|can not|unable to) (open|reach|access|get to)\b.{0,30}\b(drive|share|"
                       r"files|folders?|server)|kommt nicht (an|auf)\b.{0,20}\b(laufwerk|dateien|ordner|server)|"
                       r"kommt\b.{0,30}\bnicht (mehr )?(an|auf|in)\b.{0,20}\w{0,20}(laufwerk|dateien|ordner|server)|"
                       r"keine?n? zugriff (mehr )?auf\b.{0,30}\b(laufwerk|server|dateien)|n'a plus accès (au|aux)\b"
                       r".{0,20}\b(lecteur|fichiers|serveur|dossier)|lost (access to )?(the |our )?(\w: )?(drive|share|"
                       r"shared drives?|file server|files|folders)|a perdu (l'accès (au|aux) )?(le |les )?(lecteur|"
                       r"serveur|dossiers|fichiers))"),
    RuleConfig.built_in(name="urgency-words-de-fr", value="high", weight=1.5,
               pattern=r"\b(dringend|eilig|schnellstmöglich|sofort|au plus vite|dès que possible|immédiatement|"
                       r"d'urgence|de toute urgence)\b"),
    # No \b after these phrases: several end in an accented letter, where RE2's ASCII \b never matches.
    # Negation outweighs any urgency word ("not urgent" also contains "urgent"), and keeps the model quiet.
    RuleConfig.built_in(name="not-urgent", value="low", weight=4.0,
               pattern=r"\b(not urgent|no rush|no hurry|not important|low priority|no deadline|not a big deal|"
                       r"nothing urgent|whenever you (have|get) (the )?time|when you're free|nicht dringend|"
                       r"no drama|kein drama|pas de drame|no stress|kein stress|pas de stress|"
                       r"keine eile|eilt nicht|hat keine eile|niedrige priorität|wenn mal zeit ist|pas urgent|"
                       r"rien ne presse|pas pressé|rien de pressé|sans urgence|pas prioritaire|quand vous aurez "
                       r"le temps|no urgency|it can wait|can wait until|whenever you get a chance|when you get a "
                       r"chance|kein notfall|kann warten|hat zeit bis|wenn ihr zeit habt|pas d'urgence|"
                       r"rien d'urgent|peut attendre|quand vous pourrez|(sometime|some time|any ?time) (this|"
                       r"next) week|"
                       r"(this|next) week is (fine|ok|enough)|irgendwann (diese|nächste) woche|(diese|nächste) woche "
                       r"reicht|dans la semaine,? (ça|cela) (ira|suffit)|la semaine prochaine (suffit|ira)|"
                       # a question asked for the record, with nothing wrong now
                       r"just curious|reine neugier|par (simple )?curiosité|(for|für|pour) (our|unsere|notre) "
                       r"(documentation|dokumentation|records|unterlagen)|no security (problem|issue)|kein "
                       r"sicherheitsproblem|aucun problème de sécurité|c'est une demande normale|a normal request|"
                       r"eine normale anfrage|(everything|all) (works|is working|is fine) today|alles läuft heute|"
                       r"tout marche bien aujourd'hui|just to plan ahead|juste pour anticiper|bei gelegenheit)"),
    RuleConfig.built_in(name="planned-maintenance", value="medium", weight=4.0,
               pattern=r"\b(for maintenance|planned maintenance|scheduled maintenance|as announced|wegen wartung|"
                       r"geplante[rn]? wartung|wie angekündigt|pour maintenance|maintenance prévue|comme annoncé|"
                       r"(as agreed|as discussed|as planned|wie besprochen|wie vereinbart|wie geplant|comme convenu|"
                       r"comme prévu)\b.{0,60}\b(will|wird|werden|sera|seront)\b|planned downtime|scheduled downtime|"
                       r"maintenance window|(down|offline|closed|shut) for (its|a|the) (scheduled|planned|annual|"
                       r"yearly) |"
                       r"power will be (off|cut)|strom wird\b.{0,30}\babgeschaltet|coupure de courant (prévue|"
                       r"programmée)|"
                       r"(could|can) (someone|somebody) (\w{1,20} ){0,3}(shut|switch|turn|"
                       r"power) (\w{1,20} ){0,3}(down|off)|"
                       r"will be (offline|down|unavailable|switched off|shut down) (on|from|this|"
                       r"next|tonight|over|between|tomorrow)|"
                       rf"will be (offline|down|unavailable|switched off|shut down) {_WHEN}|"
                       r"geplante[rn]? (ausfall|abschaltung|downtime|"
                       r"unterbrechung)|wartungsfenster|wird am\b.{0,30}\b(nicht verfügbar|offline|abgeschaltet)|"
                       r"arrêt programmé|interruption programmée|coupure programmée|fenêtre de maintenance|"
                       r"sera (arrêtée?|indisponible|coupée?|hors ligne) (le|ce|dimanche|samedi|demain|ce soir|entre|"
                       r"de)|(please|could you|can you|kindly) (\w{1,20} ){0,2}(shut down|switch off|turn off|"
                       r"decommission|take down|power off)|decommission|"
                       # work asked for out of hours: "please do it at the weekend", "bitte nicht unter der Woche"
                       r"(please|could you|can you|bitte|könnt ihr|können sie|merci de|pourriez-vous|pouvez-vous)\b"
                       r"[^.!?\n]{0,60}\b(am wochenende|außerhalb der \w{1,12}zeiten|nach feierabend|"
                       r"over the weekend|at the "
                       r"weekend|out of hours|after hours|outside (business|office|working) hours|le week-end|"
                       r"en dehors des "
                       r"heures)|(nicht|not) (unter der woche|during (the week|business hours|office hours|the day))|"
                       r"pas en "
                       r"semaine|(bitte|könnt ihr|können sie)\b.{0,50}\b"
                       r"(abschalten|herunterfahren|ausschalten|stilllegen)|außer betrieb nehmen|(merci d'|"
                       r"pouvez-vous |pourriez-vous |veuillez )(éteindre|arrêter|couper|désactiver)|décommissionner)"),
    # A drill or a course about ransomware, phishing or breaches is planned, not an incident.
    RuleConfig.built_in(name="exercise", value="medium", weight=4.0,
               pattern=r"(exercise|drill|tabletop|awareness (course|session|training)|training (on|session)|"
                       r"session on|workshop on|webinar|übung zu|schulung zu|schulung zum thema|"
                       r"(phishing|sicherheits|datenschutz)-?schulung|schulung (über|für)|sensibilisierung|"
                       r"exercice sur|formation sur|formation de sensibilisation|sensibilisation (à|aux)|"
                       r"formation (à la )?sécurité|"
                       # a phishing simulation's results, a crisis exercise, a continuity review: nothing happened
                       r"phishing[- ]?(simulation|test|campaign|kampagne)|simulat\w{1,6} de phishing|campagne de "
                       r"(phishing|sensibilisation)|(crisis|crash) exercise|exercice (de crise|d'évacuation)|"
                       r"krisenübung|notfallübung|evakuierungsübung|brandschutzübung|evacuation drill|fire drill|"
                       r"in this issue|in dieser ausgabe|dans ce numéro|welcome to the \w{1,20} (edition|issue)|"
                       r"(rédiger|draft|drafting|entwerfen) (une |a |an |our |unsere\w? |notre )?(procédure|procedure|"
                       r"policy|richtlinie)|"
                       r"business continuity|continuity (plan|review)|plan de continuité|"
                       r"notfallplan\w{0,4}|disaster recovery (plan|test|review)|"
                       # staff enrolled in a course: "everyone should take the data leak course", "inscrire tout le monde"
                       r"(take|attend|sign up for|(enrol|register)\w{0,3} [^.!?\n]{0,30}\b(in|on|for)) (the|a|an) "
                       r"[^.!?\n]{0,20}\b(course|training|webinar|e-?learning)|(suivre|suive|suivent|inscri\w{1,6} "
                       r"[^.!?\n]{0,40}à) (la|une|l'|le) (formation|webinaire|session|e-?learning)|(schulung|kurs|"
                       r"webinar|"
                       r"e-?learning) (besuchen|machen|absolvieren)|(für|zur) (die |eine )?(schulung|"
                       r"kurs) anmelden)" + _END),
    # An outage that is over: asked about afterwards, not an emergency now (see still-broken).
    RuleConfig.built_in(name="over-now", value="medium", weight=4.0,
               pattern=r"(nothing is (broken|down|lost)|nothing's (broken|lost)|es ist nichts kaputt|"
                       r"rien n'est (cassé|en panne|"
                       r"bloqué)|nothing has happened|aucune donnée (n'est )?perdue|nichts (ist )?verloren|"
                       r"it does work|(^|[.!?]\s{1,3})tout fonctionne\s?[:.;!]|on arrive à tout "
                       r"faire|everything('s| is) running normally|(chez nous )?tout a fonctionné normalement|"
                       r"(isn't|is not|doesn't|does not) stop(ping)? anyone|nobody has lost anything|(hält|"
                       r"hindert) niemanden|"
                       r"n'empêche personne|"
                       r"nothing is wrong (right )?now|nothing's wrong (right )?now|nothing is wrong at the moment|"
                       r"es ist (gerade |aktuell |im moment )?nichts (kaputt|passiert)|rien ne (va mal|cloche) "
                       r"(pour l'instant|actuellement|en ce moment)|(rather than|not) reporting an? (problem|fault|"
                       r"incident)|(it's|its|it is) back,? (thanks|thank you)|all good[.!]|alles gut[.!]|"
                       r"tout est bon[.!]|"
                       r"it's fine again|is fine again|entwarnung|there is no outage|es gibt keinen ausfall|il n'y a "
                       r"(pas de|aucune) (panne|coupure)|all clear|fin d'alerte|(has been|have been|been) "
                       r"stable since|stable since|seitdem stabil|stable depuis|(tout )?fonctionne (parfaitement|"
                       r"normalement|bien) depuis|depuis [^.!?\n]{0,30}tout fonctionne|demande de compte[- ]rendu|"
                       r"compte[- ]rendu (de|sur|du) (la |l'|cette |cet )?(panne|incident|coupure)|(läuft|geht|"
                       r"funktioniert) "
                       r"seit [^.!?\n]{0,30}\bwieder\b|(working|running|back|works|work) (fine |normally )?again|"
                       r"(it's|it is|everything's|everything is) back (up|online|to normal)|geht wieder[.!,]|"
                       r"alles (wieder )?normal|c'est reparti|ça remarche|alles läuft wie immer|"
                       r"everything (is running|works|runs) "
                       r"(as usual|normally)|tout fonctionne comme d'habitude|"
                       r"(working|running) (fine |normally )?since|back (up|online) (now|since|again)|came back "
                       r"(by itself|on its own|after|up)|has been (fixed|resolved|restored)|report on what happened|"
                       r"post-?mortem|läuft wieder|funktioniert wieder|geht (jetzt )?wieder alles|wieder (da|online|"
                       r"erreichbar)|seitdem läuft|rückblick|tout est revenu|(site|serveur|service|messagerie|réseau|"
                       r"connexion) est revenue?|fonctionne (à nouveau|de nouveau)|refonctionne|(est|a été|sont) "
                       r"rétablie?s?|rétablie? depuis|de nouveau accessible|retour d'expérience|"
                       r"(in|over|during) the (last|past|previous) (year|12 months|twelve months|quarter)|last year|"
                       r"im (letzten|vergangenen) (jahr|quartal)|(letztes|vergangenes) jahr|l'an (dernier|passé)|"
                       r"l'année (dernière|passée|précédente)|le (trimestre|semestre) dernier|"
                       # an outage named by when it was ("Tuesday's outage", "der Ausfall vom Montag")
                       rf"({_WHEN}'s|last (night|week|month)'s) (\w{{1,20}} )?(outage|incident|downtime|crash)|"
                       rf"(outage|incident|downtime|crash|ausfall|störung|panne|coupure)s? (on|of|from|last|vom|von|am|"
                       rf"d'|de|du) ?({_WHEN}|the \d|\d)|(gestrige|letzte|vergangene)[nr]? (\w{{1,20}} )?(ausfall|"
                       r"störung)|(fine|ok|okay|gut|normal) (ever )?since|all good now|back to normal|"
                       r"alles wieder (gut|normal)|wieder normal|all (resolved|fixed|sorted)|alles (behoben|gelöst)|"
                       r"(geht|läuft|funktioniert) (jetzt |nun )?alles wieder|tout est (réglé|résolu)|"
                       r"retour à la normale|c'est revenu|tout est rentré dans "
                       r"l'ordre|(is|was|ist|wurde|est|a été) (now |jetzt |maintenant )?(fixed|resolved|solved|behoben|"
                       r"gelöst|résolue?|réglée?)|write-?up|root cause|ursachenanalyse|analyse des causes|"
                       # the sender's own false alarm: "Edit: never mind, my cable was loose"
                       r"false alarm|fausse alerte|fehlalarm|blinder alarm|hat sich erledigt|never ?mind|"
                       r"(edit|update|nachtrag|mise à jour)\s?[\d:]{0,6}\s?: (c'est bon|ok|all good|alles gut)|"
                       r"störungsbericht|incident report|rapport d'incident)"),
    # "Not sure if this is planned maintenance I didn't hear about": a guess, no announcement. Weight 0: it
    # only cancels planned-maintenance (decide.py).
    RuleConfig.built_in(name="unsure-if-planned", value="medium", weight=0.0,
               pattern=r"\b((not sure|no idea|don't know|do not know|wondering) (if|whether)[^.!?\n]{0,60}\b(planned|"
                       r"scheduled|maintenance)|(maintenance|wartung)\b[^.!?\n]{0,30}\b(i|we) (didn't|did not|"
                       r"haven't|have "
                       r"not) (hear|know|get)|(weiß|wissen) (nicht|ich nicht),? ob[^.!?\n]{0,60}(geplant|wartung)|"
                       r"je ne sais pas si[^.!?\n]{0,60}(prévue|maintenance)|maintenance prévue dont (je|nous) n'(ai|"
                       r"avons) "
                       r"pas)"),
    # "...but it's down again now": a current outage, even in a mail that tells of an earlier one. Weight 0:
    # it only cancels over-now (decide.py), and adds nothing to any priority.
    RuleConfig.built_in(name="still-broken", value="medium", weight=0.0,
               # "still" alone was too wide ("I still need the report"): it must say what is still wrong.
               pattern=r"\b(still (down|offline|not|no|broken|dead|unavailable|unreachable|can't|cannot|failing|"
                       r"crashing|out|frozen|stuck)|is down again|down again now|went down again|dropped again|"
                       r"stopped again|not yet|(not|isn't|aren't|wasn't|hasn't|haven't|no longer) (been |more |"
                       r"any ?more )?(running|working|up) since|not (working|running) again|isn't (working|"
                       r"running) again|"
                       r"immer noch (nicht|kein\w{0,3}|ausgefallen|down|weg|tot|offline)|noch nicht|wieder nicht|"
                       r"schon wieder|wieder (ausgefallen|weg|down)|pas encore|toujours (pas|en panne|hors|"
                       r"indisponible|bloqu\w{0,4}|plant\w{0,4}|impossible|aucun)|de nouveau en panne|"
                       r"retombée? en panne|"
                       # the same trouble back: "heute früh ist genau dasselbe wieder da", a closed ticket reopened
                       r"(dasselbe|das gleiche|derselbe|der gleiche|dieselbe|die gleiche|problem|fehler|"
                       r"störung)\b[^.!?\n]{0,30}"
                       r"\bwieder da|(same|the) (problem|issue|error|fault|thing)('s| is) back|(le même|la même|"
                       r"le problème|"
                       r"la panne|l'erreur)\b[^.!?\n]{0,20}\b(est )?(revenue?|de retour)|reopen (the|this|my|"
                       r"our) ticket|"
                       r"ticket (\w{1,20} ){0,2}wieder (zu )?öffnen|rouvrir (le|ce) ticket|"
                       # "it should be taken offline until this is fixed": a fix wished for
                       r"(until|till|bis|jusqu'à ce que?|jusqu'à ce qu')\b[^.!?\n]{0,40}\b(fixed|resolved|sorted|"
                       r"repaired|"
                       r"behoben|gelöst|repariert|réglée?|résolue?|corrigée?|réparée?))" + _END),
    # One person's trouble said outright: "only me", "alle anderen schon", "les collègues n'ont pas le souci".
    # "It's not just me" (not-only-me) cancels it (decide.py).
    RuleConfig.built_in(name="only-me", value="medium", weight=4.0,
               pattern=rf"{_START}(only (for )?me|(no one|nobody) else( here)? (has|is having|sees|gets|got|"
                       r"received) (the|"
                       r"this|that|it)|"
                       r"(sonst )?(niemand|keiner) (sonst|anderes) hat (das|dieses) problem|personne d'autre n'a "
                       r"(le|ce) (problème|souci)|only mine|only my (pc|laptop|computer|account|machine|mailbox)|"
                       r"just me|"
                       r"just my (pc|laptop|computer|account|machine|mailbox)|everyone else (is fine|can|has|works)|"
                       r"the "
                       r"others (are fine|can|work)|(my )?colleagues (can|are fine|have no (problem|issue))|nur (bei )?"
                       r"mir|nur ich|nur mein\w{0,2}|alle anderen (schon|können|haben|geht|funktioniert)|"
                       r"bei (allen )?(den )?"
                       r"anderen (geht|läuft|funktioniert|klappt)|die (anderen|kollegen) (können|haben kein)|seulement "
                       r"(moi|chez moi|mon|sur mon)|que moi|uniquement (moi|chez moi|mon|sur mon)|"
                       r"les autres (collègues )?"
                       r"(peuvent|n'ont pas|arrivent|fonctionnent)|pour les autres (tout|ça) (va|marche|fonctionne)|"
                       # the colleague beside me has no trouble
                       r"my colleague (sees|can|has no)|mein(e)? (kollege|kollegin) (sieht|kann|hat kein)|(ma|mon) "
                       r"collègue (voit|peut|n'a pas)|"
                       # one thing among others that work: "The other rooms are fine", "les autres caisses vont bien"
                       r"the other (\w{1,20} ){0,2}(are|is|work|works) (fine|ok|okay|normal)|(die )?(anderen|übrigen) "
                       r"(\w{1,20} ){0,2}(gehen|funktionieren|laufen) (normal|problemlos|einwandfrei)|les autres "
                       r"(\w{1,20} ){0,2}(vont bien|fonctionnent|marchent)|(vers|pour|chez) tous les autres,? (ça|"
                       r"cela|tout) "
                       r"(passe|marche|fonctionne)|(to|for) (all|everyone) else,? (it )?(works|goes through)|"
                       # one person's phone: "my work phone hasn't received any new emails"
                       r"(my|mon|mein) (work |business |dienst)?(phone|mobile|handy|téléphone|"
                       r"portable)( professionnel)? "
                       r"(hasn't|has not|doesn't|does not|won't|isn't|ne|n|bekommt|empfängt)|auf meinem (dienst|"
                       r"firmen)?"
                       r"(handy|telefon|smartphone|tablet) (kommen|kommt|geht|gehen)\b)"
                       + _END),
    RuleConfig.built_in(name="not-only-me", value="medium", weight=0.0,
               pattern=r"\b(not (just|only) (me|mine|my)|isn't just me|nicht nur (bei )?(mir|ich|mein\w{0,2})|pas (que|"
                       r"seulement|uniquement) (moi|chez moi|mon)|not the only one|nicht (der|die) einzige|pas (le|la) "
                       r"seule?)" + _END),
    # Not the company's outage: a competitor's site, one's own internet at home, "nothing for you to do".
    RuleConfig.built_in(name="not-ours", value="low", weight=4.0,
               pattern=r"\b(not our problem|nothing for you to do|no action needed|nicht unser problem|ihr müsst "
                       r"nichts tun|kein handlungsbedarf|pas notre problème|rien à faire de votre côté|aucune action|"
                       r"(vous ne pouvez|you can't|you cannot|ihr könnt|sie können) (rien|nothing|"
                       r"nichts) (y )?(faire|do|"
                       r"machen|tun)|(my|mon|mein|meine) (\w{1,20} )?(compte|account|konto) (perso|personnel|privé|"
                       r"personal|"
                       rf"private|privat)\w{{0,2}}{_END}[^.!?\n]{{0,60}}(hacked|piraté|gehackt|compromised|"
                       r"compromis)|(my|mon|"
                       r"mein|"
                       r"meine) (personal|private|privates?) (\w{1,20} )?(account|konto)\b[^.!?\n]{0,60}(hacked|"
                       r"gehackt|"
                       r"compromised)|"
                       r"nothing (needed|required|to do) (from|for|on) (us|you|our side|your side)|"
                       r"von uns aus (ist )?nichts|"
                       r"(für euch|für sie|für dich|eurerseits|von eurer seite) (ist |gibt es )?nichts zu tun|"
                       r"nothing for (it|us|you|the help ?desk|support) to do|our (own )?systems are (all )?(fine|ok|"
                       r"unaffected|running normally)|"
                       r"unsere (eigenen )?systeme (laufen|sind) (normal|ok|in ordnung|nicht betroffen)|nos (propres )?"
                       r"systèmes (vont bien|fonctionnent|ne sont pas touchés)|not aware of any (problem|issue)s? here|"
                       r"rien à faire (pour|de) (nous|vous)|rien à faire de notre côté|"
                       r"(everything|all) (on|at) our (side|end) (is |are )?(working|fine|ok|running)|(on|at) our "
                       r"(side|end),? (everything|all) (is |are )?(working|fine|ok|running)|bei uns (läuft|geht|"
                       r"funktioniert) alles( normal| wie immer)?\s?[.!,;]|chez nous,? tout (fonctionne|va bien|"
                       r"marche)( normalement)?\s?[.!,;]|(it's|it is|the (problem|"
                       r"fault|issue) is) (on|at) their (side|end)|(liegt|ist) (bei|auf) (ihrer|deren) seite|(c'est|"
                       r"le problème est) de leur côté|"
                       r"competitor'?s (website|site|shop|server|service)|(website|site|shop) of (our|a) competitor|"
                       r"(webseite|seite|shop|server) (der|unserer|unseres|eines) (konkurren|wettbewerb)\w{0,6}|"
                       r"(site|boutique|serveur) (de notre|d'un|du) concurrent|(my|mein|meine|ma|mon) (\w{1,20} ){1,3}"
                       r"(at home|zu hause|zuhause|daheim|à la maison|chez moi)|(at|from) my home|bei mir zu hause|"
                       r"home (broadband|internet|wi-?fi|router)|bei mir (zuhause|daheim)|(internet|wlan|wi-?fi|dsl|"
                       r"router) "
                       r"(bei mir )?(zu ?hause|daheim|at home|à la maison)|(ce n'est|c'est) pas chez nous|not (at|"
                       r"on) our (end|side)|"
                       r"not (really )?a work thing|not really (an? )?it (thing|problem|issue|question)|"
                       r"not really it[,;:.!]|"
                       r"not an it (problem|issue|thing|question)|nicht wirklich (ein )?it-?(problem|thema)|"
                       r"kein it-?(problem|"
                       r"thema)|pas vraiment (de l'|l')?informatique|pas un problème informatique|"
                       r"nichts von der firma drauf|nothing (from|of) work on it|"
                       r"(my|mein|meine|ma|mon) (home |private |privater? )?"
                       r"(broadband|dsl|fibre|fiber|internetanschluss|glasfaser|box internet|box)\b|"
                       r"nothing to do with work|(hat )?nichts mit der arbeit zu tun|rien à voir avec le (boulot|"
                       r"travail)|"
                       r"bei (unserem|unseren|dem|einem) \w{0,20}(lieferanten|zulieferer|dienstleister|"
                       r"paketdienst)\b[^.!?\n]{0,80}"
                       r"(ausgefallen|gestört|störung|nicht erreichbar|steht|down|offline)|"
                       # someone else's system down: a supplier's portal, a courier's tracking, the neighbours' wifi
                       rf"{_ELSEWHERE}[^.!?\n]{{0,40}}{_START}{_TROUBLE}{_END})"),
    # "This is not a drill": cancels exercise (decide.py), adds nothing of its own.
    RuleConfig.built_in(name="not-a-drill", value="medium", weight=0.0,
               pattern=r"\b(not a drill|no drill|keine übung|kein test|ce n'est pas un exercice|pas un exercice)"
                       + _END),
    # A suspicious mail reported and not acted on: "Nobody clicked it. Should we delete it?", "Habe NICHT
    # geklickt", "Je n'ai pas cliqué". Its "hacked?" or "Nobody" is a question, not a breach (see CANCELS).
    RuleConfig.built_in(name="not-clicked", value="medium", weight=4.0,
               # Clicking only, or opening what a phishing mail brings: "I haven't replied to the customers yet",
               # "ich habe die Bestellungen nicht eingegeben" or "I haven't opened anything else" say nothing of it.
               pattern=r"(^|[.!?]\s{1,4})(didn't|did not|haven't|have not) (open|opened|click|clicked) (it|them|"
                       r"the link|"
                       r"the attachment|anything)\b|"
                       r"\b((i|we) (haven't|have not|didn't|did not|never) (\w{1,20} or )?(clicked|click)|(i|we) "
                       r"(haven't|have not|didn't|did not|never) (opened|open) (it|them|the link|the attachment)|"
                       r"(nobody|"
                       r"no one|none of us) (has |have )?(clicked|opened (it|them|the link|the attachment))|without "
                       r"clicking|(nicht|nie|niemand|keiner) (hat )?(\w{1,20} )?(geklickt|angeklickt)|"
                       r"nichts (\w{1,20} )?"
                       r"(angeklickt|geklickt)|ohne (zu klicken|draufzuklicken)|(je n'ai|nous n'avons|personne( ici|"
                       r" d'entre nous)? n'a) (pas |"
                       r"rien |jamais )?cliqué|personne ne l'a (ouvert|ouverte)|sans (cliquer|l'ouvrir)|(keiner|"
                       r"niemand|nobody|no one|"
                       r"personne) (hat|has|n'a) [^.!?\n]{0,40}\b(geklickt|angeklickt|clicked|cliqué)|(keiner|niemand|"
                       r"nobody|no one|personne) (hat|has|n'a) (den anhang|die datei|the attachment|the file|"
                       r"la pièce jointe|"
                       r"le fichier) (\w{1,20} )?(geöffnet|opened|ouvert)|"
                       # a forged request for money that nobody paid
                       r"aucun virement n'a été (fait|effectué)|no (transfer|payment) (was|has been) made|"
                       r"nothing (was|has "
                       r"been) (paid|transferred)|(keine überweisung|nichts) (wurde )?(getätigt|ausgeführt|überwiesen))"
                       + _END),
    # Nothing exposed: the stolen laptop was encrypted, the mail to every customer went out in Bcc.
    RuleConfig.built_in(name="not-exposed", value="medium", weight=4.0,
               pattern=r"\b((laptop|notebook|stick|ordinateur|portable|clé|pc|rechner|gerät|appareil|disque|festplatte|"
                       rf"hard drive|phone|handy|téléphone){_gap(30)}(est|était|is|was|ist|war) (fully |voll |"
                       r"entièrement |komplett )?(chiffrée?|encrypted|verschlüsselt)|(il|"
                       r"elle) est (entièrement )?chiffrée?|"
                       r"(immerhin|zum glück|heureusement|luckily|fortunately|at least)[^.!?\n]{0,20}\b(bcc|cci))" + _END),
    # Someone else's breach or outage read about: "I saw in the news that StreamBox had a breach".
    RuleConfig.built_in(name="in-the-news", value="low", weight=4.0,
               pattern=rf"{_START}((saw|read|heard) (it )?(in|on) the (\w{{1,20}} )?(news|paper|papers|press|radio)|"
                       r"habt ihr (schon |das )?gelesen,? dass|(kam|lief|hieß es|"
                       r"hörte ich) (\w{1,20} ){0,2}im (radio|fernsehen)|"
                       r"im (radio|fernsehen) (kam|lief|hieß es|gehört|gesehen)|(heard|said) on the radio|"
                       # heard there, not "the calls to the radio room": "entendu à la radio", "à la radio ce matin"
                       r"(all )?over the (news|radio)|(entendu|dit|annoncé|parlé|passé|vu|écouté|"
                       r"dire) à la (radio|télé)|"
                       r"à la (radio|télé) (ce matin|hier|aujourd'hui|ce soir)|"
                       r"(d'après|selon) (la radio|les infos)|avez-vous lu (que|dans)|in the news (that|today|"
                       r"this morning)|(stand|steht|stand heute|las ich|gelesen) in der (zeitung|presse)|"
                       r"in der (zeitung|"
                       r"presse) (stand|steht|gelesen)|in den nachrichten|(read|saw|seen) (the|an|that|"
                       r"this) (article|news item|news story)|"
                       r"(den|einen|diesen) (artikel|bericht) (\w{1,20} ){0,3}(gelesen|gesehen)|lu l'article|"
                       r"lu un article|"
                       r"l'article (dans|du|paru)|(lu|vu|entendu) (dans la presse|aux "
                       r"(informations|infos|actualités)|dans le journal)|dans la presse (ce matin|aujourd'hui|que))"
                       + _END),
    # A test, demo or training system that is down is no outage of what the business runs on.
    RuleConfig.built_in(name="not-live", value="low", weight=4.0,
               pattern=r"\b((test|staging|demo|sandbox|training|qa|dev) (instance|system|server|environment|site|"
                       r"shop|database|copy)|test instance|testsystem|testserver|testumgebung|testinstanz|demosystem|"
                       r"demoserver|schulungs(system|umgebung)|(serveur|environnement|instance|site|base|système|"
                       r"plateforme|boutique) de (test|démo|démonstration|recette|formation|pré-?production)|préprod)"
                       rf"\b[^.!?\n]{{0,60}}{_DOWN}{_END}|"
                       # ...told apart from the live one: "La prod fonctionne, les clients réservent normalement"
                       r"(la )?prod(uction)? fonctionne|(the )?(live|production) (site|system|shop) (works|is fine|is "
                       r"running|is working)|(das )?(live|produktiv)-?system läuft|"
                       # a training room's machines: "im Schulungsraum gehen alle 12 PCs nicht mehr an"
                       r"(schulungsraum|training room|salle de formation)\b[^.!?\n]{0,60}\b(nicht mehr an|"
                       r"gehen nicht|won't "
                       r"(start|boot|turn on|switch on)|don't (start|boot|turn on)|ne (démarrent|s'allument) plus|"
                       r"down|offline|"
                       r"ausgefallen|en panne)"),
    # A machine nobody uses, or one to throw away, is no outage ("nobody" alone is everyone-affected).
    RuleConfig.built_in(name="unused", value="low", weight=4.0,
               pattern=r"(nobody uses|no one uses|nobody is using|no one is using|nobody's using|not in use|"
                       r"(nobody|no one) (\w{1,20} )?(needs|uses|used) (it|them|this|that)|not used any ?more|unused|"
                       r"(keiner|niemand) (mehr )?(benutzt|genutzt|nutzt|braucht|gebraucht)|ne s'en sert plus|"
                       r"personne ne s'en sert|(nobody|no one) (has|needs|uses) (a |an )?\w{1,20} any ?more|"
                       r"plus personne n'(a|utilise) "
                       r"(de |d')|niemand hat mehr (ein|eine|einen)? ?\w{1,20}|"
                       r"take (it|them) away|get rid of|(nutzt|benutzt|braucht) (\w{1,20} )?niemand|niemand mehr "
                       r"(nutzt|benutzt|braucht)|ungenutzt|unbenutzt|plus personne n'utilise|personne n'utilise plus|"
                       r"ne sert plus|ne servent plus|inutilisée?s?|"
                       r"no longer (used|needed)|dispose of|to be disposed|niemand (nutzt|benutzt|braucht)|"
                       r"nicht mehr (gebraucht|genutzt|benötigt)|entsorgen|verschrotten|personne ne l'utilise|"
                       r"plus utilisée?|n'est plus utilisée?|recycler|mettre au rebut|éteinte? depuis)"),
)

compile_built_in(SIGNAL_RULES)
