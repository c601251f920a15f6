"""Two-stage triage of a new mail: the operator's rules when they hit strongly, else the model; explained."""
from __future__ import annotations

# Pure functions of (subject, text, config, models): no database, no event loop, safe in worker threads.

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from gateway.config import ClassifyConfig, PriorityConfig, RuleConfig
from gateway.mail.reply_strip import new_text
from gateway.pipeline.context import Hit
from gateway.pipeline.rules import CLASSIFY_RULES, PRIORITY_RULES, decide, evaluate
from gateway.triage.clauses import is_reply, stretches, unsigned, without_what_ifs
from gateway.triage.features import MAX_BODY
from gateway.triage.linear import LinearModel
from gateway.triage.signals import CANCELS, NEGATION_RULES, PLANNED_RULES, SIGNAL_RULES

CATEGORY_ORDER = ("bug", "change", "misc")
PRIORITY_ORDER = ("urgent", "high", "medium", "low")
RULE_TEXT = 20000  # how much of the body the rules read, as before


@dataclass(frozen=True)
class Decision:
    """One field's value, which stage set it ("rules", "model" or "default"), how sure, and why."""

    field: str
    value: str
    stage: str
    confidence: float | None = None
    sure: bool = True
    why: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # the rules whose hits the why cites (stage "rules")

    def sentence(self) -> str:
        """e.g. 'category change by the model, not sure: 0.48 (words: add, column, report)'."""
        head = f"{self.field} {self.value}"
        if self.stage == "model":
            head += f" by the model, {'sure' if self.sure else 'not sure'}: {self.confidence:.2f}"
        elif self.stage == "rules":
            head += " by the rules"
        else:
            head += ": the default"
        return f"{head} ({'; '.join(self.why)})" if self.why else head

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "stage": self.stage, "confidence": self.confidence,
                "sure": self.sure, "why": list(self.why), "rules": list(self.rules), "text": self.sentence()}


def _rule_reasons(hits: list[Hit], value: str) -> tuple[str, ...]:
    return tuple(f'{h.rule} matched "{h.detail}"' for h in hits if h.value == value)


def classify(subject: str, body: str, *, config: ClassifyConfig,
             model: LinearModel | None) -> tuple[Decision, list[Hit]]:
    """Category: rules decide when their best total reaches config.rules_decide_at; otherwise the model."""
    hits = evaluate(config.rules if config.rules is not None else CLASSIFY_RULES,
                    subject=subject, body=body[:RULE_TEXT])
    totals: dict[str, float] = defaultdict(float)
    for hit in hits:
        totals[hit.value] += hit.weight
    best = decide(hits, threshold=config.threshold, default=config.default, order=CATEGORY_ORDER)
    if totals and totals.get(best, 0.0) >= config.rules_decide_at or model is None:
        stage = "rules" if totals.get(best, 0.0) >= config.threshold else "default"
        return Decision("category", best, stage, why=_rule_reasons(hits, best),
                        rules=tuple(h.rule for h in hits if h.value == best)), hits
    guess = model.predict(subject, body[:MAX_BODY])
    why = [f"words: {', '.join(guess.words)}"] if guess.words else []
    sure = guess.confidence >= config.sure_at
    if not sure:  # the runner-up is what an engineer weighs it against
        runner_up = max((k for k in guess.probabilities if k != guess.label), key=guess.probabilities.__getitem__)
        why.append(f"else {runner_up} {guess.probabilities[runner_up]:.2f}")
    if totals:
        why.append("rules too weak to decide: " + ", ".join(f"{k} {v:g}" for k, v in sorted(totals.items())))
    return Decision("category", guess.label, "model", round(guess.confidence, 2), sure=sure, why=tuple(why)), hits


def _uncancelled(hits: list[Hit]) -> list[Hit]:
    """`hits` without the calm ones another hit cancels (CANCELS): "down again now" next to "came back"
    leaves the outage standing, "not just me" is no "just me"."""
    cancelled = {calm for h in hits if h.rule in CANCELS for calm in CANCELS[h.rule]}
    return [h for h in hits if h.rule not in cancelled] if cancelled else hits


def _calm(hits: list[Hit]) -> set[str]:
    """The calm rules among `hits` that nothing cancels."""
    return {h.rule for h in _uncancelled(hits)} & NEGATION_RULES


def _live_stretches(rules: tuple[RuleConfig, ...], subject: str, body: str) -> list[tuple[str, list[Hit]]]:
    """The stretches of the body (the first with the subject) that no calm signal speaks for, with their
    hits; [] when the body is one stretch (then the calm words speak for the whole mail).

    A calm stretch speaks for itself and for the stretch before it ("The mail server was down this
    morning | but came back after the restart"), never for the one after it ("The printer has been
    fixed, | but now the network is down for everyone")."""
    parts = stretches(body)
    if len(parts) == 1:
        return []
    read = [evaluate(rules, subject=subject if index == 0 else "", body=part) for index, part in enumerate(parts)]
    calm = [bool(_calm(part_hits)) for part_hits in read] + [False]
    return [(subject + "\n" + part if index == 0 else part, read[index]) for index, part in enumerate(parts)
            if not calm[index] and not calm[index + 1]]


def prioritise(subject: str, body: str, *, config: PriorityConfig, model: LinearModel | None,
               header: Hit | None = None) -> tuple[Decision, list[Hit]]:
    """Priority: rules and the built-in signals first; the emergency model may raise to urgent unless negated.

    A calm signal calms only the stretch of the mail it is in (gateway/triage/clauses.py): "The printer
    has been fixed, but now the network is down for everyone" stays urgent. What-if questions ("if the
    server crashed, would we lose data?") and a signature under a sign-off are set aside before anything reads
    the mail."""
    rules = config.rules if config.rules is not None else PRIORITY_RULES
    if config.use_model:
        rules = rules + SIGNAL_RULES
    body = body[:RULE_TEXT]
    asked: list[Hit] = []
    if config.use_model:
        body = unsigned(body)  # a signature's titles ("Data Breach Officer") are no news
        subject, said_subject = without_what_ifs(subject)
        body, said_body = without_what_ifs(body)
        if said_subject or said_body:
            asked.append(Hit(rule="what-if", value="medium", weight=0.0, detail=(said_subject or said_body)[:80]))
    said = new_text(body)  # what the sender just wrote, above a quote ("> ...", "-----Original Message-----")
    # new_text folds blank lines and strips: only a cut (a quote, a reply header, a signature) is worth a
    # second reading, which is a third of this function's time on a long mail
    if said.strip() and said.split() != body.split():
        # A calm reply above a quoted outage ("Working again, thanks! > The shop is down"): the quote is the
        # history the reply calms, so only the reply is read. A reply that tells of an outage of its own
        # keeps its quote, as an outage under a harmless quote does.
        told = evaluate(rules, subject="", body=said)
        if _calm(told) and not any(h.value == "urgent" for h in told):
            body = said
        elif not _calm(told) and is_reply(subject) and _calm(evaluate(rules, subject="", body=body)):
            # ...and a reply whose calm words are all in what it quotes ("Sorry to reopen this: it's back
            # > ... should be back to normal"): the fix told there is what the reply answers, not how things
            # are now, so the reply is read on its own, without the subject, which is the thread's.
            subject, body = "", said
    hits = evaluate(rules, subject=subject, body=body) + asked
    if header:
        hits.append(header)
    hits = _uncancelled(hits)
    calm = _calm(hits)
    if calm and calm <= COURTESY and any(h.rule in COUNTED for h in hits):
        hits, calm = [h for h in hits if h.rule not in COURTESY], set()
    read = (subject, body)  # what the model reads
    if calm:
        live = _live_stretches(rules, subject, body)
        if any(h.value == "urgent" for _, part_hits in live for h in part_hits):
            # an outage in a stretch no calm word speaks for: the calm words do not outvote it
            hits, calm = [h for h in hits if h.rule not in NEGATION_RULES], set()
        else:
            if calm & PLANNED_RULES:  # "down on Saturday for maintenance", "was down yesterday, fine again"
                hits = [h for h in hits if h.value != "urgent"]
            if live:  # the model may still find an emergency where no calm word speaks
                read, calm = ("", " ".join(text for text, _ in live)), set()
    value = decide(hits, threshold=config.threshold, default=config.default, order=PRIORITY_ORDER)
    doubt: tuple[str, ...] = ()
    if value == "urgent" and model is not None and config.use_model and config.model_may_doubt:
        hits, doubt = _doubted(hits, read, model, own={rule.name for rule in config.rules or ()})
        if doubt:
            value = decide(hits, threshold=config.threshold, default=config.default, order=PRIORITY_ORDER)
    # "No rush if it's already known, but the whole website is gone": a courtesy about the pace says nothing
    # of the situation, so it raises the model's bar (emergency_despite_calm_at) rather than silencing it.
    # What the other calm words say (over, planned, a drill, someone else's, one person's, a suspicious mail
    # nobody clicked) it cannot judge.
    courtesy = bool(calm) and calm <= COURTESY and config.emergency_despite_calm_at < 1
    # A mail with no body to read (none written, or only what-if questions) leaves the model its subject alone,
    # and a subject such as "Kurze Frage", which writers of understated emergencies favour, is no emergency by
    # itself; the rules still read the subject.
    if (value != "urgent" and model is not None and config.use_model and (not calm or courtesy) and not doubt
            and body.strip()):
        guess = model.predict(*read, explain=0)  # words only for an emergency, below
        emergency = guess.probabilities.get("1", 0.0)
        if emergency >= (config.emergency_despite_calm_at if calm else config.emergency_at):
            said = model.explain(*read, guess.label)
            words = f"; words: {', '.join(said)}" if said else ""
            despite = f'; despite "{next(h.detail for h in hits if h.rule in calm)}"' if calm else ""
            return Decision("priority", "urgent", "model", round(emergency, 2),
                            why=(f"looks like an emergency{words}{despite}",)), hits
    stage = "rules" if any(h.value == value for h in hits) else "default"
    return Decision("priority", value, stage, why=_rule_reasons(hits, value) + doubt,
                    rules=tuple(h.rule for h in hits if h.value == value)), hits


# The built-in signals whose words have everyday senses ("traffic is down", "I work offline on the
# train", "the breach at the retailer in the news", "what counts as a data leak?"): the only ones the
# model may doubt. A fraud, a standstill or many people stuck is never argued away. The leak signals joined
# with shipped-13: left out one at a time, the read blind sets kept all 916 of their 936 emergencies found
# and lost 2 of 17 false alarms; the four unread sets 2 of 18, none found lost.
DOUBTED = frozenset({"service-down", "service-down-any-language", "data-leak", "data-leak-any-language"})
# The calm words that say nothing of the situation: about the pace ("no rush", "rien d'urgent"). "I didn't
# click it" is not one of them: beside a reported phishing mail the model is often sure of an emergency
# (0.90 to 0.97 on blind9, blind10, blind14 to blind16), and what clicking does not explain (files held
# for ransom, a password given away, someone else's data seen) cancels it (signals.CANCELS).
COURTESY = frozenset({"not-urgent"})
# Who is stuck and money going out: a courtesy about the pace changes neither ("pas d'urgence, but none of our
# six centres can open the diary"), so these stand beside it. An outage word alone (DOUBTED) and a leak, often
# read about elsewhere, stay with the model's raised bar.
COUNTED = frozenset({"everyone-affected", "ten-or-more-people", "ten-or-more-people-after", "ten-or-more-machines",
                     "standstill", "losing-money-any-language"})


def _doubted(hits: list[Hit], read: tuple[str, str], model: LinearModel, *,
             own: set[str]) -> tuple[list[Hit], tuple[str, ...]]:
    """The hits with an outage signal's urgent lowered to high, and why, when that is all that says urgent
    and the emergency model's reading of the mail's words leans calm; else the hits as they are, no why.

    A signal sees a few words, the model the mail they are in. Its probability alone will not do: a
    one-line mail gives the model little to read, and it falls back on its prior (most mail is calm), so
    "Our shop is down since this morning" gets 0.05. What doubts is the words' own pull, the score less
    the intercept: below zero they say calm, as the outage look-alikes of
    tests/data/triage/emergencies_dev2.csv do (-0.35 to -1.05) and no real emergency of the dev sets
    does (+0.35 and up). An operator's own rule of the same name, and a header, are never doubted."""
    urgent = [h for h in hits if h.value == "urgent"]
    if not urgent or any(h.rule in own or h.rule not in DOUBTED for h in urgent) or len(model.intercept) != 1:
        return hits, ()
    pull = model.scores(*read)[0] - model.intercept[0]
    if pull >= 0:
        return hits, ()
    lowered = [replace(h, value="high") if h.value == "urgent" else h for h in hits]
    return lowered, (f"not urgent: the model reads the whole mail as calm ({pull:+.2f} from its prior)",)


@dataclass(frozen=True)
class Triage:
    category: Decision
    priority: Decision
    hits: tuple[Hit, ...]


def triage(subject: str, body: str, *, classify_config: ClassifyConfig, priority_config: PriorityConfig,
           category_model: LinearModel | None, emergency_model: LinearModel | None,
           header: Hit | None = None) -> Triage:
    """Both decisions for one new mail, e.g. Triage(category=Decision('category', 'bug', 'rules', ...), ...)."""
    category, category_hits = classify(subject, body, config=classify_config, model=category_model)
    priority, priority_hits = prioritise(subject, body, config=priority_config, model=emergency_model,
                                         header=header)
    return Triage(category=category, priority=priority, hits=tuple(category_hits + priority_hits))
