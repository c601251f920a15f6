"""Words that give away an auto-reply or a bounce in a subject or at the start of a body (en de fr es it nl …)."""
from __future__ import annotations

import unicodedata

from gateway.mail import linear

# Subjects of auto-replies that carry no header saying so. Only at the very start and only when
# followed by ":", "(" or the end, so "Out of office setting broken" from a customer is not a hit.
_AUTO_REPLY_SUBJECTS = (
    "out of office autoreply", "out of office", "out of the office", "automatic reply", "auto-reply",
    "auto reply", "autoreply", "auto response", "auto-response", "autoresponse", "autorespons", "ooo",
    "vacation reply", "abwesenheitsnotiz", "automatische antwort", "abwesenheit", "reponse automatique",
    "absence du bureau", "message d'absence", "respuesta automatica", "fuera de la oficina",
    "fuori sede", "risposta automatica", "afwezig", "automatisch antwoord", "afwezigheidsbericht",
    "franvaro", "autosvar", "automatisk svar", "fravær",
)
# "Away until May 5", "OOO until 3 June", "Im Urlaub bis 12.8.": the phrase, then a word for "until".
_AWAY = ("away", "out of (?:the )?office", "ooo", "on (?:holiday|vacation|leave)", "abwesend",
         "nicht im buro", "im urlaub", "absente?", "en conges", "en vacances", "ausente", "de vacaciones",
         "fuera de la oficina", "assente", "in ferie", "fuori ufficio", "afwezig", "met vakantie")
_UNTIL = ("until", "till", "through", "bis", "jusqu'(?:au|a)", "hasta", "fino al?", "tot")
# Bounce subjects, also from antivirus gateways and old MTAs; followed by ":", "(", "-", "." or the end.
_BOUNCE_SUBJECTS = (
    "delivery status notification", "mail delivery status notification", "undeliverable",
    "undeliverable mail", "undeliverable message", "undelivered", "undelivered mail returned to sender",
    "undelivered mail", "undelivered message", "mail delivery failed", "mail delivery failure",
    "returned mail", "delivery failure", "delivery failure notification", "delivery failed",
    "failed delivery", "failure delivery", "permanent delivery failure", "email delivery failure",
    "delivery warning", "delivery notification", "delivery delayed", "failure notice",
    "delivery has failed", "message delivery has failed", "message delivery failure", "mail failure",
    "mail failed", "mail system error", "nondeliverable mail", "non-delivery report", "delayed mail",
    "warning: could not send message", "warning--could not send mail", "could not send mail",
    "mail could not be delivered", "message could not be delivered", "your message could not be delivered",
    "message not delivered", "there was an error sending your mail", "returned to sender",
    "uncaught bounce notification",  # Mailman passing on a bounce it could not read
    # de
    "unzustellbar", "nicht zustellbar", "unzustellbare nachricht", "zustellung fehlgeschlagen",
    "benachrichtigung zum ubermittlungsstatus", "fehler bei der zustellung", "zustellungsfehler",
    # fr
    "non remis", "non distribuable", "echec de la remise", "echec de remise", "echec de la distribution",
    "notification d'etat de remise", "message non remis", "avis de non-remise",
    # es
    "no se puede entregar", "no entregado", "mensaje no entregado", "error de entrega",
    "notificacion de estado de entrega", "correo devuelto",
    # it
    "non recapitabile", "non recapitato", "messaggio non recapitato", "mancato recapito",
    "notifica stato di consegna", "errore di consegna", "impossibile recapitare",
    # nl
    "onbestelbaar", "niet bezorgd", "niet afgeleverd", "bezorging mislukt", "kan niet worden bezorgd",
    # ru, ja: seen from mail.ru, Trend Micro and KDDI gateways
    "ваше сообщение не доставлено", "メッセージを配信できません", "メールエラー通知",
)
# Abuse feedback sent without a report part (Hotmail's JMRP); the phrase is followed by an address.
_REPORT_SUBJECTS = ("complaint about message from",)
_TAG = r"\s*(?:\[[^\]\n]{1,40}\]\s*)?"  # "[Postmaster] Email Delivery Failure"


def fold(text: str, limit: int = 300) -> str:
    """Lower case without accents, at most `limit` characters: "Réponse" and "Reponse" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text[:limit]).casefold()
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _alternatives(phrases: tuple[str, ...]) -> str:
    folded = (fold(phrase) for phrase in phrases)  # "メッセージ" loses its dakuten as the subject does
    return "|".join(map(linear.escape, sorted(folded, key=len, reverse=True)))


def _subject_pattern(phrases: tuple[str, ...], tail: str, name: str) -> linear.Pattern:
    return linear.compile(_TAG + "(" + _alternatives(phrases) + ")" + tail, name=name)


_SUBJECTS = (
    (_subject_pattern(_AUTO_REPLY_SUBJECTS, r"\s*(?::|\(|$)", "autotext.AUTO_REPLY_SUBJECT"), "auto-reply subject"),
    (linear.compile(r"\s*((?:" + "|".join(_AWAY) + r") (?:" + "|".join(_UNTIL) + r"))\b[^?]*$",
                    name="autotext.AWAY_UNTIL_SUBJECT"), "auto-reply subject"),
    (_subject_pattern(_BOUNCE_SUBJECTS, r"\s*(?::|\(|-|\.|\x{3002}|$)", "autotext.BOUNCE_SUBJECT"), "bounce subject"),
    (linear.compile(r"\s*(warning: message) \S{1,100} delayed", name="autotext.EXIM_DELAY_SUBJECT"),
     "bounce subject"),
    (_subject_pattern(_REPORT_SUBJECTS, r"\s", "autotext.REPORT_SUBJECT"), "report subject"),
)

# How auto-replies with no header and a plain subject ("Re: your mail") begin their body, after an
# optional greeting. Folded: lower case, no accents. Only a short body without a question or a
# plea for help counts, so "I'm away until Monday and the VPN fails, can you help?" is answered.
_I_AM = "(?:i am|i['\u2019]m|i will be|i['\u2019]ll be) (?:currently |now |still )?"
_AUTO_REPLY_OPENINGS = (
    _I_AM + r"(?:out of (?:the )?office|away from (?:the )?office|on (?:annual )?leave|on (?:holiday|vacation)"
    r"|away until|away from|travelling|traveling|out until|not in the office)",
    r"this is an? (?:automatic|automated|auto-generated) (?:reply|response|message)",
    r"ich bin (?:derzeit |zurzeit |momentan |bis [^ ]{1,20} |vom [^ ]{1,20} bis [^ ]{1,20} )?"
    r"(?:nicht im buro|abwesend|im urlaub|nicht erreichbar)",
    r"ich befinde mich (?:derzeit |zurzeit |momentan )?(?:im urlaub|ausser haus|nicht im buro)",
    r"dies ist eine automatische (?:antwort|nachricht)",
    r"je suis (?:actuellement )?(?:absente?|en conges|en vacances)", r"je serai absente?",
    r"ceci est une reponse automatique", r"estoy (?:fuera de la oficina|de vacaciones|ausente)",
    r"me encuentro (?:fuera de la oficina|de vacaciones|ausente)", r"esta es una respuesta automatica",
    r"ik ben (?:momenteel |op dit moment )?(?:afwezig|niet op kantoor|met vakantie)",
    r"dit is een automatisch (?:antwoord|bericht)", r"sono (?:attualmente )?(?:fuori ufficio|in ferie|assente)",
    r"questa e una risposta automatica",
)
_GREETINGS = (
    r"hello", r"hi", r"hallo", r"guten tag", r"bonjour", r"hola", r"buongiorno", r"ciao", r"goedendag",
    r"dear [^,\n]{0,40}", r"thank you for your (?:e-?mail|message)", r"thanks for your (?:e-?mail|message)",
    r"vielen dank fur ihre (?:e-?mail|nachricht)", r"merci pour votre (?:e-?mail|message)",
    r"gracias por su (?:correo|mensaje)", r"grazie per (?:la sua|il suo) (?:e-?mail|messaggio)",
    r"bedankt voor uw (?:e-?mail|bericht)",
)
_OPENING = r"^(?:(?:" + "|".join(_GREETINGS) + r")[,.!]?\s*)*("
_AUTO_REPLY_BODY = linear.compile(_OPENING + "|".join(_AUTO_REPLY_OPENINGS) + ")", name="autotext.AUTO_REPLY_BODY")
# A person who is away and still needs something: never an auto-reply, however it begins.
_PLEA = linear.compile(
    r"\b(?:can you|could you|please help|help me|does not work|doesn't work|not working|fails|failed|error"
    r"|broken|konnen sie|funktioniert nicht|fehler|pouvez-vous|ne fonctionne pas|erreur"
    r"|no funciona|non funziona|werkt niet)\b", name="autotext.PLEA")
# How bounces from gateways that send no DSN begin, after an optional greeting or MTA preamble.
_BOUNCE_OPENINGS = (
    r"your (?:e-?mail |message )?(?:to [^\n]{1,200} )?(?:could not|cannot|can't|was not|wasn't|has not been)"
    r" (?:be )?delivered",
    r"(?:the )?(?:following |original )?(?:e-?mail |message |mail )(?:to [^\n]{1,200} )?"
    r"(?:could not|cannot|was not|has not been) (?:be )?delivered",
    r"this is an automatically generated delivery status notification",
    r"delivery (?:to the following recipients? )?(?:has )?failed", r"delivery has failed",
    r"message delivery to [^\n]{1,200} failed", r"i'm sorry to have to inform you that your message",
    r"this message was created automatically by mail delivery software",
    r"ihre (?:nachricht|e-?mail) (?:an [^\n]{1,200} )?(?:konnte|kann) nicht zugestellt werden",
    r"votre message (?:a [^\n]{1,200} )?n'a pas (?:pu etre|ete) (?:remis|distribue)",
    r"(?:su|tu) (?:mensaje|correo) (?:a [^\n]{1,200} )?no (?:se )?(?:pudo ser|ha podido ser|pudo) entregad?o?",
    r"il (?:suo )?messaggio (?:a [^\n]{1,200} )?non (?:e stato|puo essere) recapitato",
    r"uw bericht (?:aan [^\n]{1,200} )?(?:kon|kan) niet (?:worden )?(?:bezorgd|afgeleverd)",
)
_MTA_PREAMBLE = r"(?:this is the mail system at host [^\n]{1,100}\.\s*)?"
_BOUNCE_BODY = linear.compile(_OPENING.removesuffix("(") + _MTA_PREAMBLE + "(" + "|".join(_BOUNCE_OPENINGS) + ")",
                              name="autotext.BOUNCE_BODY")
# Words for a delivery failure anywhere in a subject: the gate before flufl.bounce's heuristics run.
_FAILURE_WORDS = linear.compile(
    r"deliver|undeliver|returned|failure|failed|bounce|non-delivery|zustell|remis|distribu|entreg"
    r"|devuelto|recapit|bezorg|afgeleverd|onbestelbaar|не доставлено|配信|エラー", name="autotext.FAILURE_WORDS")
# What a bounce has and a person's mail seldom has: an enhanced status code or returned header lines.
_EVIDENCE = linear.compile(r"\b[45]\.\d{1,3}\.\d{1,3}\b"
                           r"|^[ \t>]*(?:received|message-id|return-path|x-original-to):[ \t]",
                           linear.IGNORECASE | linear.MULTILINE, name="autotext.EVIDENCE")
_BODY_MAX = 1500
_BOUNCE_HEAD = 2000
_BOUNCE_QUESTION_SPAN = 500


def subject_reason(subject: str) -> str | None:
    """'auto-reply subject: out of office', 'bounce subject: returned mail', … or None."""
    folded = fold(subject)
    for pattern, kind in _SUBJECTS:
        match = pattern.match(folded)
        if match:
            return f"{kind}: {match.group(1)}"
    return None


def body_reason(text: str) -> str | None:
    """'auto-reply body: i am on holiday', 'bounce body: …' for the start of a body, or None."""
    text = text.strip()
    head = " ".join(fold(text, _BOUNCE_HEAD).split())
    # A bounce explains and does not ask; what it returns below may ask anything.
    first_paragraph = text.split("\n\n", 1)[0][:_BOUNCE_QUESTION_SPAN]
    bounce = _BOUNCE_BODY.match(head)
    if bounce and "?" not in first_paragraph:
        return f"bounce body: {bounce.group(1)[:80]}"
    if not head or len(text) > _BODY_MAX or "?" in text or _PLEA.search(head):
        return None
    match = _AUTO_REPLY_BODY.match(head)
    return f"auto-reply body: {match.group(1)}" if match else None


def mentions_failure(subject: str) -> bool:
    """True when a subject speaks of a failed or returned delivery, in one of several languages."""
    return bool(_FAILURE_WORDS.search(fold(subject)))


def delivery_evidence(text: str) -> bool:
    """True when `text` quotes an enhanced status code (5.1.1) or the header lines of a returned mail."""
    return bool(_EVIDENCE.search(text))
