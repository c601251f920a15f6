"""What a calm word speaks for: the body cut at "but" and at a turn to "now"; what-if questions and signatures set aside."""
from __future__ import annotations

# "The printer has been fixed, but now the network is down for everyone": the recovery speaks of the
# printer, not of the network. A calm signal (over now, planned, unused, a drill, "not urgent") calms
# the stretch it is in; a stretch after "but", "however", "aber", "mais" ... or a sentence that turns
# to the present ("Now ...", "Heute ...", "Aujourd'hui ...") or to the next point of a list ("Finally,
# ...", "Oh, and one more thing", "Enfin, ...") is another matter. Plain sentence ends do not cut: "The
# old server is down. Nobody uses it." speaks of one thing. Nor do numbered or bulleted points: a
# write-up or a newsletter lists what happened under its one calm heading.
# Every pattern is RE2 (linear in the text); RE2's \b is ASCII-only, so each word next to a \b here
# starts or ends in an ASCII letter.

from gateway.mail import linear
from gateway.mail.reply_strip import SIGNATURE_DELIMITERS

_TURN = linear.compile(
    r"\b(but|however|whereas|aber|jedoch|allerdings|mais|cependant|pourtant|par contre|en revanche|toutefois)\b"
    r"|(^|[.!?;:]\s+|\b(and|und|et)\s+)(now|today|this morning|since this morning|jetzt|nun|heute|seit heute|"
    r"maintenant|aujourd'hui|ce matin|depuis ce matin)\b"
    # the next point of a mail that lists several: "Finally, and this is why I write: ...", "Enfin, ..."
    r"|(^|[.!?;]\s+)((oh|ah|ach|and|und|et|p\.?s\.?),?\s+){0,2}(finally|lastly|secondly|thirdly|another thing|one more "
    r"thing|on another note|the (main|real) reason|außerdem|zweitens|drittens|zum schluss|noch etwas|und dann noch|"
    r"was ich fast vergessen hätte|enfin|ensuite|deuxièmement|troisièmement|autre chose|par ailleurs|et surtout|sinon|"
    r"j'allais oublier|dernière chose|un (autre )?truc|une (autre )?chose|un autre point|one (other )?thing|noch (was|"
    r"eine sache))\b"
    r"|\b(the (main|real) reason (i'm|i am) writing|weswegen ich (eigentlich )?schreibe|warum ich (eigentlich )?schreibe|"
    r"la vraie raison de (mon|ce) (mail|message))\b",
    linear.IGNORECASE | linear.MULTILINE, name="triage.clauses.TURN")

# A question that starts with "if" (or "what happens if", "falls", "wenn", "si", "au cas où" ...) asks
# about an outage that has not happened: "If the file server crashed, how long would it take to
# restore?". Only the sentence itself is set aside, from its start to its question mark, so an outage
# reported next to it still counts. "Not sure if the server crashed" is no what-if: the word must open
# the sentence, or follow "what happens", "was passiert", "que se passe-t-il" and the like.
# "In case" ("für den Fall", "au cas où") may stand anywhere in a question: something is asked for in case
# the outage comes ("Could we get a second UPS in case of a power failure?").
_SENTENCE = 200  # how long a what-if question may run from its if-word, and how far back its start is looked for
_WHAT_IF = linear.compile(
    r"(^|[.!?;:]\s+)((what( happens| would happen| do we do| should we do| would we do)?|was (passiert|machen wir|"
    r"tun wir|geschieht|wäre)( eigentlich| dann)?|was (würden|sollten|müssten|könnten) (wir|man|ihr)( eigentlich| dann)? "
    r"(machen|tun)|what would you do|what('s| is) (the|our) plan|"
    r"que (se passe-t-il|se passerait-il|faire|fait-on|ferions-nous|ferait-on|feriez-vous|ferait-il)|"
    r"qu'est-ce qui se passe(rait)?|just (wondering|curious)|only asking|kurze frage|petite question|"
    # "What happens to our orders if ...", "Was passiert mit den Bestellungen, wenn ...", "Que deviennent ... si"
    r"(what (happens|would happen) to|how (would|do|should) we|was (passiert|geschieht) mit|wie (würden|sollen|"
    r"können) wir|que (deviennent|devient|deviendraient|deviendrait)|comment (ferait-on|ferions-nous|fait-on))"
    r"[^.!?\n]{0,60})[,:]?\s+)?"
    r"(if|in case|suppose|supposing|hypothetically|falls|wenn|angenommen|im fall|si|s'il|au cas où|en cas de|"
    rf"imaginons|supposons)[\s,][^.!?\n]{{0,{_SENTENCE}}}\?",
    linear.IGNORECASE | linear.MULTILINE, name="triage.clauses.WHAT_IF")
# ...and "in case" inside a question, up to its question mark; the question is set aside from its start, found
# by looking back (a pattern that began at the sentence's start cost every mail ten times the what-if search).
_IN_CASE = linear.compile(
    rf"[\s,](in case|für den fall|im falle?|au cas où|en cas de)[\s,][^.!?\n]{{0,{_SENTENCE}}}\?",
    linear.IGNORECASE, name="triage.clauses.IN_CASE")


def stretches(body: str) -> list[str]:
    """The body cut before each turn, e.g. "Fixed, but now it is down" -> ["Fixed, ", "but now it is down"].

    Always at least one stretch; joined they give the body back."""
    cuts = [0]
    for match in _TURN.finditer(body):
        start = match.start()
        if start > cuts[-1]:
            cuts.append(start)
    cuts.append(len(body))
    return [body[a:b] for a, b in zip(cuts, cuts[1:])]


def without_what_ifs(text: str) -> tuple[str, str]:
    """(text with each what-if question blanked to spaces, the first one or ""); the length is kept."""
    spans = [(match.start() + len(match.group(1) or ""), match.end()) for match in _WHAT_IF.finditer(text)]
    spans += [(_question_start(text, match.start()), match.end()) for match in _IN_CASE.finditer(text)]
    if not spans:
        return text, ""
    pieces, at = [], 0
    for start, end in sorted(spans):
        start = max(start, at)  # a question both patterns found
        if end > start:
            pieces += [text[at:start], " " * (end - start)]
            at = end
    pieces.append(text[at:])
    start, end = min(spans)
    return "".join(pieces), text[start:end]


def _question_start(text: str, at: int) -> int:
    """Where the sentence holding `at` starts: after the last ".", "!", "?", ";", ":" or line end before it (at
    most _SENTENCE characters back), past the spaces."""
    start = max(at - _SENTENCE, 0)
    for mark in ".!?;:\n":
        start = max(start, text.rfind(mark, start, at) + 1)
    while start < at and text[start].isspace():
        start += 1
    return start


# A reply's subject: the thread's, not news of the writer's ("Re: Mail server - fixed", "AW:", "Antw:", "SV:").
_REPLY = linear.compile(r"^\s*(re|aw|antw|sv)\s*(\[\d+\])?\s*:", linear.IGNORECASE,
                        name="triage.clauses.REPLY")


def is_reply(subject: str) -> bool:
    """Whether `subject` is a reply's ("Re: ...", "AW: ..."), not a forward's or a new mail's."""
    return _REPLY.search(subject) is not None


# A sign-off on a line of its own ("Kind regards,", "Viele Grüße", "Cordialement") and the few short lines
# after it: the sender's name and title. A title is no news ("Incident Response & Data Breach Officer").
_SIGN_OFF = linear.compile(
    r"^[ \t]*(kind regards|best regards|warm regards|regards|best wishes|best|many thanks|thanks|thank you|cheers|"
    r"mit freundlichen grüßen|freundliche grüße|viele grüße|beste grüße|liebe grüße|schöne grüße|grüße|gruß|"
    r"cordialement|bien cordialement|bien à vous|salutations|meilleures salutations|merci)[ \t]*[,.!]?[ \t]*$",
    linear.IGNORECASE | linear.MULTILINE, name="triage.clauses.SIGN_OFF")
SIGNATURE_LINES = 4  # lines after the sign-off; more is a message of its own (or a quote)
# The signature delimiter ("-- " on a line of its own, often sent as "--"): what follows is the signature,
# disclaimers included, however long ("Any unauthorised disclosure may constitute a data breach"), unless a
# quote or a forwarded mail follows it (a forwarded outage is news).
_DELIMITER = linear.compile("^(" + "|".join(sorted(SIGNATURE_DELIMITERS)) + ")$", linear.MULTILINE,
                            name="triage.clauses.DELIMITER")
_PASSED_ON = linear.compile(r"-{5,}|^[ \t]*>|begin forwarded|anfang der weitergeleiteten|début du message",
                            linear.IGNORECASE | linear.MULTILINE, name="triage.clauses.PASSED_ON")


def unsigned(body: str) -> str:
    """The body without a signature under its last sign-off, e.g. "Mouse broken.\nKind regards,\nNadia\nData
    Breach Officer" -> "Mouse broken.\n"; the body itself when no sign-off has at most SIGNATURE_LINES short lines
    under it. Under a signature delimiter ("--") everything is signature."""
    delimiter = None
    for delimiter in _DELIMITER.finditer(body):
        pass
    if delimiter is not None and delimiter.start() > 0 and _PASSED_ON.search(body, delimiter.end()) is None:
        body = body[:delimiter.start()]
    last = None
    for last in _SIGN_OFF.finditer(body):
        pass
    if last is None or last.start() == 0:
        return body
    tail = body[last.end():].strip().splitlines()
    if len(tail) > SIGNATURE_LINES or any(len(line) > 80 for line in tail):
        return body
    return body[:last.start()]
