"""Is a bug report complete? Summary, steps to reproduce, how often it happens, screenshot or error text."""
from __future__ import annotations

import re

REPORT_TEXT = 5000  # the start of the mail is where people describe the fault

# Each pattern is linear-time (alternations, bounded gaps) and reads English, German and French.
STEPS = re.compile(
    r"(steps to reproduce|to reproduce|steps:|^\s{0,8}(1[.)]|step 1|first,?)\s|\b(when|whenever|after|as soon as|"
    r"every time|each time) (i|we)\b|\bthen (i|it)\b|\bi (clicked|opened|pressed|tried|selected)\b|"
    r"\bwhile (saving|opening|printing|exporting|logging in|uploading)\b|\bbeim (speichern|öffnen|drucken|"
    r"exportieren|anmelden|klicken|starten|hochladen)\b|\blors de (l'|la |le )?(enregistrement|ouverture|"
    r"impression|export|connexion)|\ben (cliquant|ouvrant|enregistrant|imprimant)\b|"
    r"schritte|wenn ich\b.{0,40}\b(klicke|öffne|speichere|drucke|starte|exportiere|anmelde)|nachdem ich|"
    r"étapes|quand je\b.{0,40}\b(clique|ouvre|enregistre|imprime|lance|exporte)|dès que je|après avoir)",
    re.IGNORECASE | re.MULTILINE)
HOW_OFTEN = re.compile(
    r"\b(every time|each time|always|all the time|never|sometimes|occasionally|intermittent\w{0,20}|only once|"
    r"every (few|\d{1,7}|one|two|three|five|ten) (seconds|minutes|hours|days)|every (morning|day)|since (monday|"
    r"tuesday|wednesday|thursday|friday|yesterday|this morning|the update)|alle paar|seit (gestern|montag|dem)|"
    r"toutes les (\d{1,7}|cinq|dix) minutes|depuis (hier|lundi|ce matin|la mise à jour)|"
    r"once a|several times|again and again|it happens|reproducible|jedes mal|immer|manchmal|ab und zu|"
    r"mehrmals|nur einmal|à chaque fois|chaque fois|toujours|parfois|de temps en temps|plusieurs fois)\b",
    re.IGNORECASE)
EVIDENCE = re.compile(
    r"(screenshot|screen shot|attached|attachment|error\b|exception|\"[^\"\n]{4,200}\"|code \d{1,7}|"
    r"bildschirmfoto|anbei|im anhang|fehlermeldung|meldung|capture d'écran|ci-joint|en pièce jointe|"
    r"message d'erreur|erreur)", re.IGNORECASE)

# In the order a customer is asked for them, with the plain words the acknowledgement uses.
ASK = {"steps": "the steps that lead to the problem (what you clicked or typed, in order)",
       "how_often": "whether it happens every time or only sometimes",
       "evidence": "a screenshot or the exact error message, if there is one"}


def bug_report_parts(subject: str, text: str, *, attachments: int = 0) -> dict[str, bool]:
    """Which parts of a good bug report the mail has, e.g. {"summary": True, "steps": False, ...}."""
    body = (text or "")[:REPORT_TEXT]
    return {"summary": bool((subject or "").strip() or body.strip()),
            "steps": bool(STEPS.search(body)),
            "how_often": bool(HOW_OFTEN.search(body)),
            "evidence": attachments > 0 or bool(EVIDENCE.search(body))}


def missing(parts: dict[str, bool]) -> list[str]:
    """What to ask the customer for: steps and how often always; evidence only with them (asking once)."""
    wanted = [key for key in ("steps", "how_often") if not parts.get(key, True)]
    if wanted and not parts.get("evidence", True):
        wanted.append("evidence")
    return [ASK[key] for key in wanted]


def describe(parts: dict[str, bool]) -> str:
    """'bug report: summary yes, steps no, how often yes, evidence no' (announcement, tickets show)."""
    return "bug report: " + ", ".join(f"{part.replace('_', ' ')} {'yes' if there else 'no'}"
                                      for part, there in parts.items())
