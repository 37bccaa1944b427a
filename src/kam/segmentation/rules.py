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
    """Rule index (into tier_rules) per account, and a reason text per account.

    The reason names the rule and the figures that made it match.
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
    # Translate the templates once: this loop runs per account (a million at full scale).
    abc_text = _("ABC class %(abc)s")
    rule_text = _("Rule %(n)s (%(tier)s): %(why)s")
    fallback_text = _("no other rule matched")
    labels = {key: str(label) for key, (_attribute, label) in _CONDITION_FIELDS.items()}
    reasons = np.empty(n, dtype=object)
    # Accounts with the same rule and the same conditions held share the reason's shape:
    # build each group's texts column by column instead of account by account.
    for index, conditions in enumerate(rule_parts):
        members = np.flatnonzero(chosen == index)
        if not members.size:
            continue
        # The rule's text around its "why", split once (concatenation beats % per account).
        head, tail = (
            rule_text % {"n": index + 1, "tier": tier_rules[index]["tier"], "why": "\0"}
        ).split("\0")
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
                    texts = {
                        abc: abc_text % {"abc": abc} for abc in set(inputs.abc[group].tolist())
                    }
                    columns.append([texts[abc] for abc in inputs.abc[group].tolist()])
                else:
                    template = f"{labels[key]} {{:,.1f}} ≥ {threshold}"
                    columns.append(list(map(template.format, values[group].tolist())))  # type: ignore[index]
            if not columns:
                reasons[group] = head + fallback_text + tail
            elif len(columns) == 1:
                reasons[group] = [head + why + tail for why in columns[0]]
            else:
                reasons[group] = [
                    head + "; ".join(parts) + tail for parts in zip(*columns, strict=True)
                ]
    return chosen, reasons.tolist()
