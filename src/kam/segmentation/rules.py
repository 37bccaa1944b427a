"""Score weights and tier rules: defaults, validation and vectorised evaluation.

Tier rules are an ordered JSON list; the first rule an account matches gives its
proposed tier. Each rule is an object:

    {"tier": "key", "label_en": "Key", "label_zh": "重点客户",
     "match": "any", "abc": "A", "min_value_score": 70}

Conditions (all optional): ``abc`` (classes, e.g. "A" or "AB"), ``min_value_score``,
``min_potential_score`` (0-100), ``min_clv``, ``min_margin``, ``min_revenue`` (CNY),
``min_strategic`` (the highest person-set strategic criterion, 0-5). ``match`` is
"all" (default: every condition must hold) or "any". A rule without conditions
matches every account, and the last rule must be such a catch-all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

STRATEGIC_CRITERIA = [
    "strategic_project",
    "market_influence",
    "technology_absorption",
    "growth_potential",
]
POTENTIAL_CRITERIA = ["business_potential", "development_potential", "service_potential"]
# Figures ranked into 0-100 percentiles for the scores.
VALUE_FIGURES = ["margin", "revenue", "clv", "growth_12m"]
POTENTIAL_FIGURES = ["growth_12m"]
NUMERIC_CONDITIONS = [
    "min_value_score",
    "min_potential_score",
    "min_clv",
    "min_margin",
    "min_revenue",
    "min_strategic",
]
RULE_KEYS = {"tier", "label_en", "label_zh", "match", "abc", *NUMERIC_CONDITIONS}
_TIER_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def default_value_weights() -> dict[str, float]:
    return {
        "margin": 0.35,
        "revenue": 0.15,
        "clv": 0.2,
        "growth_12m": 0.1,
        "strategic_project": 0.05,
        "market_influence": 0.05,
        "technology_absorption": 0.05,
        "growth_potential": 0.05,
    }


def default_potential_weights() -> dict[str, float]:
    return {
        "business_potential": 0.35,
        "development_potential": 0.25,
        "service_potential": 0.2,
        "growth_12m": 0.2,
    }


def default_tier_rules() -> list[dict[str, Any]]:
    return [
        {
            "tier": "strategic",
            "label_en": "Strategic",
            "label_zh": "战略客户",
            "abc": "A",
            "min_value_score": 80,
        },
        {
            "tier": "key",
            "label_en": "Key",
            "label_zh": "重点客户",
            "match": "any",
            "abc": "A",
            "min_value_score": 70,
        },
        {
            "tier": "important",
            "label_en": "Important",
            "label_zh": "重要客户",
            "match": "any",
            "abc": "B",
            "min_potential_score": 70,
        },
        {"tier": "ordinary", "label_en": "Ordinary", "label_zh": "普通客户"},
    ]


def weights_validate(weights: Any, allowed: list[str], field: str) -> dict[str, float]:
    """Weights as {name: number >= 0} over known names, not all zero."""
    if not isinstance(weights, dict) or not weights:
        raise ValidationError({field: _("Give the weights as an object {name: number}.")})
    unknown = sorted(set(weights) - set(allowed))
    if unknown:
        raise ValidationError(
            {
                field: _("Unknown weight %(names)s; allowed: %(allowed)s.")
                % {"names": ", ".join(unknown), "allowed": ", ".join(allowed)}
            }
        )
    clean: dict[str, float] = {}
    for name, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise ValidationError(
                {field: _("Weight %(name)s must be a number >= 0.") % {"name": name}}
            )
        clean[name] = float(value)
    if sum(clean.values()) <= 0:
        raise ValidationError({field: _("At least one weight must be above 0.")})
    return clean


# (The scoring reads an account's tier as its rule's position in 10 bits: see figures.py.)
MAX_RULES = 100


def _conditions(rule: dict[str, Any]) -> list[str]:
    return [key for key in ("abc", *NUMERIC_CONDITIONS) if key in rule]


def tier_rules_validate(tier_rules: Any) -> list[dict[str, Any]]:
    """Check the rule list; raise ValidationError naming the rule and the problem."""
    field = "tier_rules"
    if not isinstance(tier_rules, list) or not tier_rules:
        raise ValidationError({field: _("Give the tier rules as a non-empty list of objects.")})
    if len(tier_rules) > MAX_RULES:
        raise ValidationError({field: _("At most %(n)s tier rules.") % {"n": MAX_RULES}})
    seen: set[str] = set()
    clean = []
    for number, rule in enumerate(tier_rules, start=1):

        def fail(message: str, number: int = number) -> ValidationError:
            return ValidationError({field: _("Rule %(n)s: %(m)s") % {"n": number, "m": message}})

        if not isinstance(rule, dict):
            raise fail(_("must be an object."))
        unknown = sorted(set(rule) - RULE_KEYS)
        if unknown:
            raise fail(_("unknown key %(keys)s.") % {"keys": ", ".join(unknown)})
        tier = rule.get("tier")
        if not isinstance(tier, str) or not _TIER_CODE.match(tier):
            raise fail(_("'tier' must be a short code of lower-case letters, digits, - or _."))
        if tier in seen:
            raise fail(_("tier %(tier)s appears twice.") % {"tier": tier})
        seen.add(tier)
        if rule.get("match", "all") not in ("all", "any"):
            raise fail(_('\'match\' must be "all" or "any".'))
        if "abc" in rule and (
            not isinstance(rule["abc"], str) or not rule["abc"] or set(rule["abc"]) - set("ABC")
        ):
            raise fail(_('\'abc\' must be classes such as "A" or "AB".'))
        for key in NUMERIC_CONDITIONS:
            value = rule.get(key)
            if key in rule and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise fail(_("%(key)s must be a number.") % {"key": key})
        for key in ("label_en", "label_zh"):
            if key in rule and not isinstance(rule[key], str):
                raise fail(_("%(key)s must be text.") % {"key": key})
        clean.append(dict(rule))
    if _conditions(clean[-1]):
        raise ValidationError(
            {field: _("The last rule must have no conditions, so that every account gets a tier.")}
        )
    return clean


def tier_labels(tier_rules: list[dict[str, Any]], language: str = "zh-hans") -> dict[str, str]:
    key = "label_zh" if language.startswith("zh") else "label_en"
    return {
        rule["tier"]: rule.get(key) or rule.get("label_en") or rule["tier"] for rule in tier_rules
    }


@dataclass(frozen=True)
class TierInputs:
    """Per-account arrays the rules test (NaN where a figure is missing)."""

    abc: np.ndarray
    value_score: np.ndarray
    potential_score: np.ndarray
    clv: np.ndarray
    margin: np.ndarray
    revenue: np.ndarray
    strategic: np.ndarray


# Marks a reason stored by a scoring run as a code for reason_text (a character people
# do not start a reason with).
REASON_MARK = "§"

_CONDITION_FIELDS: dict[str, tuple[str, Any]] = {
    "min_value_score": ("value_score", gettext_lazy("value score")),
    "min_potential_score": ("potential_score", gettext_lazy("potential score")),
    "min_clv": ("clv", "CLV"),
    "min_margin": ("margin", gettext_lazy("margin")),
    "min_revenue": ("revenue", gettext_lazy("revenue")),
    "min_strategic": ("strategic", gettext_lazy("strategic criterion")),
}


def tiers_propose(
    tier_rules: list[dict[str, Any]], inputs: TierInputs
) -> tuple[np.ndarray, list[str]]:
    """Rule index (into tier_rules) per account, and a reason per account.

    The reason names the rule and the figures that made it match, stored in no
    language (see reason_text, which words it in the reader's).
    """
    n = inputs.abc.size
    chosen = np.full(n, -1, dtype=np.int64)
    # Per rule: which accounts match, and the parts of the reason that held.
    rule_parts: list[list[tuple[str, Any, str, Any]]] = []
    for index, rule in enumerate(tier_rules):
        conditions = []
        for key in _conditions(rule):
            if key == "abc":
                held = np.isin(inputs.abc, list(rule["abc"]))
                conditions.append(("abc", held, rule["abc"], None))
            else:
                attribute, _label = _CONDITION_FIELDS[key]
                values = getattr(inputs, attribute)
                with np.errstate(invalid="ignore"):
                    held = np.nan_to_num(values, nan=-np.inf) >= float(rule[key])
                conditions.append((key, held, str(rule[key]), values))
        if not conditions:
            matched = np.ones(n, dtype=bool)
        elif rule.get("match", "all") == "any":
            matched = np.logical_or.reduce([c[1] for c in conditions])
        else:
            matched = np.logical_and.reduce([c[1] for c in conditions])
        chosen[(chosen < 0) & matched] = index
        rule_parts.append(conditions)
    chosen[chosen < 0] = len(tier_rules) - 1
    reasons = np.empty(n, dtype=object)
    # Accounts with the same rule and the same conditions held share the reason's shape:
    # build each group's texts column by column instead of account by account.
    for index, conditions in enumerate(rule_parts):
        members = np.flatnonzero(chosen == index)
        if not members.size:
            continue
        head = f"{REASON_MARK}{index + 1}|{tier_rules[index]['tier']}"
        pattern = np.zeros(members.size, dtype=np.int64)
        for bit, (_key, held, _threshold, _values) in enumerate(conditions):
            pattern |= held[members].astype(np.int64) << bit
        for shape in np.unique(pattern).tolist():
            group = members[pattern == shape]
            columns: list[list[str]] = []
            for bit, (key, _held, threshold, values) in enumerate(conditions):
                if not shape >> bit & 1:
                    continue
                if key == "abc":
                    columns.append(["|abc=" + abc for abc in inputs.abc[group].tolist()])
                else:
                    template = f"|{key}={{:.1f}}>={threshold}"
                    columns.append(list(map(template.format, values[group].tolist())))  # type: ignore[index]
            if not columns:
                reasons[group] = head
            elif len(columns) == 1:
                reasons[group] = [head + part for part in columns[0]]
            else:
                reasons[group] = [head + "".join(parts) for parts in zip(*columns, strict=True)]
    return chosen, reasons.tolist()


def reason_text(stored: str) -> str:
    """A stored tier reason in the active language.

    Scoring runs store their reasons language-neutral (REASON_MARK, the rule's number
    and tier, then ``|abc=B`` or ``|min_margin=1234.5>=500`` per condition that held),
    so that every reader sees them in their own language; the reasons people write,
    and anything else that does not read as such a code, are shown as they are.
    """
    if not stored.startswith(REASON_MARK):
        return stored
    number, _bar, rest = stored[len(REASON_MARK) :].partition("|")
    tier, *parts = rest.split("|")
    if not number.isdigit() or not tier:
        return stored
    whys = []
    for part in parts:
        key, _equals, value = part.partition("=")
        if key == "abc":
            whys.append(_("ABC class %(abc)s") % {"abc": value})
            continue
        figure, _at_least, threshold = value.partition(">=")
        try:
            amount = float(figure)
        except ValueError:
            return stored
        if key not in _CONDITION_FIELDS or not threshold:
            return stored
        whys.append(f"{_CONDITION_FIELDS[key][1]} {amount:,.1f} ≥ {threshold}")
    why = "; ".join(whys) if whys else _("no other rule matched")
    return _("Rule %(n)s (%(tier)s): %(why)s") % {"n": number, "tier": tier, "why": why}
