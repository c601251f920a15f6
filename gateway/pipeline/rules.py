"""Keyword/regex rules with weights, shared by classify and prioritise; built-in defaults live here."""
from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from gateway.config import RuleConfig
from gateway.mail import linear
from gateway.pipeline.context import Hit

# Built-in classification rules; an operator replaces them with [[classify.rules]] in config.toml.
CLASSIFY_RULES: tuple[RuleConfig, ...] = (
    RuleConfig.built_in(name="error-words", value="bug", weight=2.0,
               pattern=r"\b(error|exception|crash(es|ed)?|traceback|stack ?trace|fails?|failed|failing|broken|"
                       r"does(n't| not) work|not working|stopped working|bug|wrong (result|total|value)s?|"
                       r"incorrect|hangs?|freez(es|ing)|500 internal|timed? ?out)\b"),
    RuleConfig.built_in(name="change-request", value="change", weight=2.0,
               pattern=r"\b(could you|can you|please|would like to|we need|request(ing)?)\b.{0,60}\b"
                       r"(add|change|new|extra|additional|modify|rename|remove|move|include)\b"),
    RuleConfig.built_in(name="change-words", value="change", weight=1.5,
               pattern=r"\b(feature request|enhancement|new (column|report|field|option|workflow|filter)|"
                       r"change request|would be nice|instead of|suggestion)\b"),
    # Account requests often read like change requests ("please create a new ..."): they outweigh them.
    RuleConfig.built_in(name="account-words", value="misc", weight=3.0,
               pattern=r"\b(new (user|starter|employee|client|customer) account|create (an? )?account|"
                       r"(reset|forgot(ten)?|change) (my |the )?password|locked out|access to|permissions?|"
                       r"onboard(ing)?|leaver|new starter)\b"),
    RuleConfig.built_in(name="question-words", value="misc", weight=1.0, field="subject",
               pattern=r"(\?\s*$|^(how|what|where|when|who|is there|can i)\b)"),
)

# Emergencies (urgent) as the help desk defines them, then ordinary priority hints.
PRIORITY_RULES: tuple[RuleConfig, ...] = (
    RuleConfig.built_in(name="service-down", value="urgent", weight=3.0,
               pattern=r"\b((server|service|site|website|system|database|network|vpn|email|mail|erp|crm)s? "
                       r"(is |are )?(down|offline|unreachable|not responding)|outage|production (is )?down)\b"),
    RuleConfig.built_in(name="many-users", value="urgent", weight=3.0,
               # a number of people alone is no emergency ("a room for 20 people"): they must be stuck
               pattern=r"\b((1\d|[2-9]\d|\d{3,})\+? (users|people|staff|employees|customers|colleagues)\b.{0,40}\b"
                       r"(can(no|')t|are unable|unable|affected|cut off|locked out)|"
                       r"(ten|twelve|fifteen|twenty|fifty|hundred|all|everyone|nobody|no one)( of our| the)? "
                       r"(users|people|staff|employees|customers)? ?(can(no|')t|are unable|affected|is affected))\b"),
    RuleConfig.built_in(name="losing-money", value="urgent", weight=3.0,
               pattern=r"\b(losing (money|revenue|sales|orders)|cannot (take|process) (payments|orders)|"
                       r"payments? (are )?failing|checkout (is )?(down|broken))\b"),
    RuleConfig.built_in(name="data-leak", value="urgent", weight=3.0,
               pattern=r"\b(data (leak|breach)|leak(ing|ed)? (customer|personal|client) data|breach|"
                       r"exposed (customer|personal|client) data|ransomware|compromised)\b"),
    RuleConfig.built_in(name="urgent-words", value="high", weight=1.5,
               pattern=r"\b(urgent|asap|as soon as possible|critical|emergency|immediately)\b"),
    RuleConfig.built_in(name="low-words", value="low", weight=1.5,
               pattern=r"\b(no rush|low priority|when you (have|get) (the )?time|whenever convenient|nice to have)\b"),
)


@lru_cache(maxsize=256)
def _compiled(name: str, pattern: str) -> linear.Pattern:
    # Linear time (RE2): operator rules run on every mail's text; config check refuses what RE2 cannot run.
    return linear.compile(pattern, linear.IGNORECASE | linear.MULTILINE, name=f"rules.{name}")


def compile_built_in(rules: tuple[RuleConfig, ...]) -> None:
    """Compile (and so register, for the linear-time test) rules that ship when their module loads: they are
    made with RuleConfig.built_in(), unchecked, so one RE2 cannot run fails the import."""
    for rule in rules:
        _compiled(rule.name, rule.pattern)


compile_built_in(CLASSIFY_RULES + PRIORITY_RULES)


@lru_cache(maxsize=32)
def _screen(patterns: tuple[str, ...]) -> linear.PatternSet:
    # One pass over a text tells which rules can match it; only those are searched for their detail.
    return linear.PatternSet("rules.screen", patterns, linear.IGNORECASE | linear.MULTILINE)


_FIELDS = {"subject": ("subject",), "body": ("body",), "any": ("subject", "body")}


def evaluate(rules: tuple[RuleConfig, ...], *, subject: str, body: str) -> list[Hit]:
    """Every rule that matches, with the matched text as detail."""
    texts = {"subject": subject, "body": body}
    screen = _screen(tuple(rule.pattern for rule in rules))
    matching = {field: screen.which(text) for field, text in texts.items()}  # None: search every rule
    hits = []
    for index, rule in enumerate(rules):
        for field in _FIELDS[rule.field]:
            if matching[field] is not None and index not in matching[field]:
                continue
            match = _compiled(rule.name, rule.pattern).search(texts[field])
            if match:
                hits.append(Hit(rule=rule.name, value=rule.value, weight=rule.weight,
                                # a word's edge that knows accented letters (signals._START, _END) takes the
                                # space beside the word: shown without it
                                detail=match.group(0).strip()[:80]))
                break
    return hits


def decide(hits: list[Hit], *, threshold: float, default: str, order: tuple[str, ...]) -> str:
    """The value with the highest total weight at or over `threshold`; ties go to the earlier in `order`."""
    totals: dict[str, float] = defaultdict(float)
    for hit in hits:
        totals[hit.value] += hit.weight
    best = sorted(totals.items(), key=lambda item: (-item[1], order.index(item[0]) if item[0] in order else 99))
    if best and best[0][1] >= threshold:
        return best[0][0]
    return default
