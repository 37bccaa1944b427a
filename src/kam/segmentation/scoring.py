"""The scoring computation on arrays: Pareto, ABC, RFM, CLV, scores, return rate, tiers.

No ORM here: :mod:`kam.segmentation.figures` feeds it, the services store its result.
Documented fallbacks (never NaN on screen, never a crash):

- No cost data at all: accounts are ranked by revenue (``value_basis = "revenue"``).
  With some cost data, an account's margin is revenue minus its cost scaled up to
  all its lines (cost × lines / lines with cost); an account without any cost keeps
  revenue as its Pareto value (counted in ``accounts_without_cost``).
- Zero or negative totals rank last and count as 0 in every share (class C).
- One order only: frequency 0; P(alive) is 1 by the model's convention and the
  expected spend is the population mean.
- CLV model that fails to converge: refit with penalisers 0.001 then 0.01. If BG/NBD
  still fails, CLV, P(alive) and expected purchases stay empty for the run and the
  value score uses the remaining components. If Gamma-Gamma fails (or gives q <= 1,
  an infinite mean spend), the expected order value is the account's own mean repeat
  spend (the mean spend of all purchase days for one-time buyers) and CLV uses it.
  The run message says which fallback was taken.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from kam.lib import pareto
from kam.segmentation import rules
from kam.segmentation.figures import AccountFigures, day_number
from kam.segmentation.models import UNIT_DAYS

if TYPE_CHECKING:
    from kam.lib import clv as clv_model

Period = Literal["day", "week"]
PENALIZERS = (0.0, 0.001, 0.01)


def models_preload() -> None:
    """Import the CLV models (and SciPy) on a thread while the caller reads the figures.

    The caller mostly waits for the database meanwhile. An import that fails there fails
    again, with its error, where the models are used.
    """
    threading.Thread(target=_models_import, name="models-import", daemon=True).start()


def _models_import() -> None:
    # The CLV models import SciPy (≈ 0.5 s), which only the models step needs. (An error
    # is raised again by the models step's own import.)
    with contextlib.suppress(Exception):
        from kam.lib import clv  # noqa: F401


@dataclass
class ClvSummary:
    """BG/NBD inputs per purchasing account (``index`` points into the figures arrays)."""

    index: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary: np.ndarray
    # Revenue and count of all purchase days (for the empirical spend fallback).
    day_revenue_total: float = 0.0
    days_total: float = 0.0


@dataclass
class ClvResult:
    transactions: clv_model.BetaGeoFit | None
    spend: clv_model.GammaGammaFit | None
    summary: ClvSummary
    p_alive: np.ndarray
    expected_purchases: np.ndarray
    expected_order_value: np.ndarray
    clv: np.ndarray
    messages: list[str] = field(default_factory=list)


def clv_summary(figures: AccountFigures, period: Period) -> ClvSummary:
    """Frequency (repeat purchase days), recency and T from the first purchase, in the unit."""
    purchase_days = figures["purchase_days"]
    index = np.flatnonzero(purchase_days > 0)
    unit = UNIT_DAYS[period]
    first = figures["first_purchase"][index]
    last = figures["last_purchase"][index]
    frequency = purchase_days[index] - 1.0
    repeat_revenue = figures["purchase_revenue"][index] - figures["first_purchase_revenue"][index]
    monetary = np.divide(
        repeat_revenue, frequency, out=np.zeros_like(repeat_revenue), where=frequency > 0
    )
    return ClvSummary(
        index=index,
        frequency=frequency,
        recency=(last - first) / unit,
        T=(day_number(figures.as_of) - first) / unit,
        monetary=np.maximum(monetary, 0.0),
        day_revenue_total=float(figures["purchase_revenue"][index].sum()),
        days_total=float(purchase_days[index].sum()),
    )


def fit_models(
    summary: ClvSummary,
) -> tuple[clv_model.BetaGeoFit | None, clv_model.GammaGammaFit | None, list[str]]:
    """Fit BG/NBD and Gamma-Gamma with the penaliser fallback; None where impossible."""
    from kam.lib import clv as clv_model

    messages: list[str] = []
    transactions = spend = None
    if summary.index.size == 0:
        return None, None, ["No purchases up to the date: no CLV model."]
    for penalizer in PENALIZERS:
        try:
            transactions = clv_model.fit_bgnbd(
                summary.frequency, summary.recency, summary.T, penalizer_coef=penalizer
            )
            if penalizer:
                messages.append(f"BG/NBD converged only with penaliser {penalizer}.")
            break
        except clv_model.ModelInputError as error:
            messages.append(f"BG/NBD not fitted: {error}")
            break
        except clv_model.ModelFitError as error:
            last_error = error
    else:
        messages.append(f"BG/NBD did not converge ({last_error}); CLV left empty.")
    for penalizer in PENALIZERS:
        try:
            spend = clv_model.fit_gamma_gamma(
                summary.frequency, summary.monetary, penalizer_coef=penalizer
            )
            if spend.q <= 1.0:
                spend = clv_model.fit_gamma_gamma(
                    summary.frequency, summary.monetary, penalizer_coef=penalizer, q_constraint=True
                )
            if penalizer:
                messages.append(f"Gamma-Gamma converged only with penaliser {penalizer}.")
            break
        except clv_model.ModelInputError as error:
            messages.append(f"Gamma-Gamma not fitted: {error}")
            break
        except clv_model.ModelFitError as error:
            last_error = error
    else:
        messages.append(f"Gamma-Gamma did not converge ({last_error}).")
    if spend is not None and spend.q <= 1.0:
        messages.append("Gamma-Gamma q <= 1 even with the constraint: not used.")
        spend = None
    return transactions, spend, messages


def clv_compute(
    figures: AccountFigures,
    *,
    period: Period,
    horizon_periods: float,
    months: int,
    annual_discount_rate: float,
) -> ClvResult:
    """Fit both models on the figures and predict per purchasing account.

    ``horizon_periods`` is the N of "expected purchases in the next N periods";
    CLV sums ``months`` months discounted monthly at the annual rate.
    """
    summary = clv_summary(figures, period)
    transactions, spend, messages = fit_models(summary)
    args = (summary.frequency, summary.recency, summary.T)
    with np.errstate(all="ignore"):
        return _clv_predict(
            transactions,
            spend,
            summary,
            args,
            horizon_periods,
            months,
            annual_discount_rate,
            period,
            messages,
        )


def _clv_predict(
    transactions: clv_model.BetaGeoFit | None,
    spend: clv_model.GammaGammaFit | None,
    summary: ClvSummary,
    args: tuple[np.ndarray, np.ndarray, np.ndarray],
    horizon_periods: float,
    months: int,
    annual_discount_rate: float,
    period: Period,
    messages: list[str],
) -> ClvResult:
    from kam.lib import clv as clv_model

    n = summary.index.size
    empty = np.full(n, np.nan)
    p_alive, expected, order_value, value = empty, empty.copy(), empty.copy(), empty.copy()
    per_month = clv_model.PERIODS_PER_MONTH["W" if period == "week" else "D"]
    cumulative: list[np.ndarray] = []
    if transactions is not None:
        p_alive = clv_model.conditional_probability_alive(transactions, *args)
        # The horizon and every month of the CLV in one call (inputs checked once).
        expected, *cumulative = clv_model.expected_purchases_over_horizons(
            transactions,
            [horizon_periods, *(month * per_month for month in range(1, months + 1))],
            *args,
        )
    if spend is not None:
        order_value = clv_model.conditional_expected_average_profit(
            spend, summary.frequency, summary.monetary
        )
    elif n:
        # Empirical fallback: own mean repeat spend, else the mean spend of all purchase days.
        overall = float(summary.day_revenue_total / max(summary.days_total, 1.0))
        order_value = np.where(summary.frequency > 0, summary.monetary, overall)
        messages.append("Expected order value falls back to each account's own mean spend.")
    if transactions is not None and n:
        monthly = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
        value = np.zeros(n)
        previous = np.zeros(n)
        # Discounted sum of each month's expected purchases times the expected order value
        # (the convention of clv_model.customer_lifetime_value, usable with the fallback).
        for month, up_to_month in enumerate(cumulative, start=1):
            value += order_value * (up_to_month - previous) / (1.0 + monthly) ** month
            previous = up_to_month
    return ClvResult(transactions, spend, summary, p_alive, expected, order_value, value, messages)


def percentile_scores(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """0-100 mid-rank percentile among ``mask`` rows with a finite value; NaN elsewhere."""
    result = np.full(values.size, np.nan)
    usable = mask & np.isfinite(values)
    if not usable.any():
        return result
    below, equal = pareto.below_and_equal(values[usable])
    result[usable] = 100.0 * (below + 0.5 * equal) / below.size
    return result


def weighted_score(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted mean of the 0-100 components present per account (weights renormalised)."""
    size = next(iter(components.values())).size
    total = np.zeros(size)
    weight_sum = np.zeros(size)
    for name, weight in weights.items():
        if weight <= 0 or name not in components:
            continue
        values = components[name]
        present = np.isfinite(values)
        total[present] += weight * values[present]
        weight_sum[present] += weight
    return np.divide(total, weight_sum, out=np.full(size, np.nan), where=weight_sum > 0)


def _clv_of_config(figures: AccountFigures, config: Any) -> ClvResult:
    """clv_compute with the run's settings (``config``: a ScoringConfig-like object)."""
    period: Period = config.clv_period
    return clv_compute(
        figures,
        period=period,
        horizon_periods=config.clv_horizon_months * (30.0 if period == "day" else 4.345),
        months=config.clv_horizon_months,
        annual_discount_rate=config.clv_annual_discount_rate,
    )


def _thread_started(function: Callable[..., Any], *args: Any) -> Future[Any]:
    """``function(*args)`` running on a thread of its own; its future gives the result
    (or raises its error). The thread ends when the function returns."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="models")
    future = pool.submit(function, *args)
    pool.shutdown(wait=False)
    return future


@dataclass
class ScoreResult:
    """Everything computed per account (services.SCORE_COLUMNS are stored), plus the run summary."""

    columns: dict[str, np.ndarray]
    reasons: list[str]
    summary: dict[str, Any]
    clv: ClvResult | None


def scores_compute(
    figures: AccountFigures,
    *,
    config: Any,
    service_costs: dict[int, tuple[float, float, float]] | None = None,
    with_clv: bool = True,
) -> ScoreResult:
    """The whole scoring of one date on arrays; ``config`` is a ScoringConfig-like object.

    ``service_costs`` maps account id to (visits, service hours, recovery costs).
    Steps: margin and Pareto value; Pareto and ABC; RFM; growth and share of wallet;
    CLV; value and potential scores; cost to serve and return rate; proposed tiers.
    """
    n = figures.size
    ids = figures["account_id"]
    has_orders = figures["has_orders"] > 0
    revenue = figures["revenue"]
    # Revenue − cost scaled up to every line; NaN where no line has a cost.
    margin = figures["margin"]
    with_cost = ~np.isnan(margin)
    # The CLV models run on a thread meanwhile: everything up to the CLV percentile needs
    # none of their results (NumPy's sorts and the models' sums let go of the GIL).
    models = _thread_started(_clv_of_config, figures, config) if with_clv else None
    basis = "margin" if with_cost.any() else "revenue"
    value = np.where(with_cost, margin, revenue) if basis == "margin" else revenue.copy()

    analysis = pareto.pareto_analysis(
        value,
        tie_break=ids,
        share=config.pareto_share,
        a_cutoff=config.abc_a_cutoff,
        b_cutoff=config.abc_b_cutoff,
    )

    as_of_day = day_number(figures.as_of)
    buyers = figures["purchase_days"] > 0
    recency_days = np.where(buyers, as_of_day - figures["last_purchase"], np.nan)
    r_score = np.full(n, np.nan)
    f_score = np.full(n, np.nan)
    m_score = np.full(n, np.nan)
    if buyers.any():
        rfm = pareto.rfm_scores(recency_days[buyers], figures["orders"][buyers], revenue[buyers])
        r_score[buyers], f_score[buyers], m_score[buyers] = rfm.recency, rfm.frequency, rfm.monetary

    previous = figures["revenue_prev_12m"]
    growth = np.divide(
        figures["revenue_12m"] - previous, previous, out=np.full(n, np.nan), where=previous > 0
    )
    wallet = figures["wallet_size"]
    share_of_wallet = np.divide(
        np.maximum(figures["revenue_12m"], 0.0), wallet, out=np.full(n, np.nan), where=wallet > 0
    )

    margin_percentile = percentile_scores(value, has_orders)
    revenue_percentile = percentile_scores(revenue, has_orders)
    growth_percentile = percentile_scores(growth, has_orders)

    clv_result = None
    p_alive = np.full(n, np.nan)
    expected = np.full(n, np.nan)
    order_value = np.full(n, np.nan)
    lifetime_value = np.full(n, np.nan)
    frequency = np.full(n, np.nan)
    recency = np.full(n, np.nan)
    age = np.full(n, np.nan)
    monetary = np.full(n, np.nan)
    if models is not None:
        clv_result = models.result()
        index = clv_result.summary.index
        p_alive[index] = clv_result.p_alive
        expected[index] = clv_result.expected_purchases
        order_value[index] = clv_result.expected_order_value
        lifetime_value[index] = clv_result.clv
        frequency[index] = clv_result.summary.frequency
        recency[index] = clv_result.summary.recency
        age[index] = clv_result.summary.T
        monetary[index] = clv_result.summary.monetary

    profile = {name: figures[name] for name in rules.STRATEGIC_CRITERIA + rules.POTENTIAL_CRITERIA}
    criteria = {
        name: np.where(values >= 0, values * 20.0, np.nan) for name, values in profile.items()
    }
    value_components = {
        # Margin where known, else revenue: the same value the Pareto ranking uses.
        "margin": margin_percentile,
        "revenue": revenue_percentile,
        "clv": percentile_scores(lifetime_value, has_orders),
        "growth_12m": growth_percentile,
        **{name: criteria[name] for name in rules.STRATEGIC_CRITERIA},
    }
    value_score = weighted_score(value_components, config.value_weights)
    potential_components = {
        "growth_12m": value_components["growth_12m"],
        **{name: criteria[name] for name in rules.POTENTIAL_CRITERIA},
    }
    potential_score = weighted_score(potential_components, config.potential_weights)

    visits = np.zeros(n)
    hours = np.zeros(n)
    recovery = np.zeros(n)
    if service_costs:
        positions = np.searchsorted(ids, np.fromiter(service_costs, dtype=np.int64))
        known = positions < n
        known[known] &= ids[positions[known]] == np.fromiter(service_costs, dtype=np.int64)[known]
        triples = np.array(list(service_costs.values()), dtype=np.float64).reshape(-1, 3)
        visits[positions[known]] = triples[known, 0]
        hours[positions[known]] = triples[known, 1]
        recovery[positions[known]] = triples[known, 2]
    cost_to_serve = (
        visits * config.cost_per_visit
        + hours * config.cost_per_service_hour
        + recovery
        + config.discount_rate * np.maximum(revenue, 0.0)
    )
    return_rate = np.divide(value, cost_to_serve, out=np.full(n, np.nan), where=cost_to_serve > 0)

    strategic = np.max(np.vstack([profile[name] for name in rules.STRATEGIC_CRITERIA]), axis=0)
    chosen, reasons = rules.tiers_propose(
        config.tier_rules,
        rules.TierInputs(
            abc=analysis.abc_class,
            value_score=value_score,
            potential_score=potential_score,
            clv=lifetime_value,
            margin=np.where(np.isnan(margin), value, margin),
            revenue=revenue,
            strategic=np.where(strategic >= 0, strategic, np.nan),
        ),
    )
    tier_codes = np.array([rule["tier"] for rule in config.tier_rules], dtype=object)
    proposed = tier_codes[chosen]

    columns = {
        "account_id": ids,
        "revenue": revenue,
        "margin": margin,
        "value": value,
        "orders": figures["orders"],
        "purchase_days": figures["purchase_days"],
        # First and last purchase day (a day with positive net revenue).
        "first_order": np.where(figures["first_day"] >= 0, figures["first_day"], np.nan),
        "last_order": np.where(figures["last_day"] >= 0, figures["last_day"], np.nan),
        "revenue_12m": figures["revenue_12m"],
        "growth_12m": growth,
        "recency_days": recency_days,
        "r_score": r_score,
        "f_score": f_score,
        "m_score": m_score,
        "share_of_wallet": share_of_wallet,
        "rank": analysis.rank,
        "share": analysis.share,
        "cumulative_share": analysis.cumulative_share,
        "abc_class": analysis.abc_class.astype(object),
        "previous_abc": figures.previous_abc(),
        "frequency": frequency,
        "recency": recency,
        "age": age,
        "monetary": monetary,
        "p_alive": p_alive,
        "expected_purchases": expected,
        "expected_order_value": order_value,
        "clv": lifetime_value,
        "value_score": value_score,
        "potential_score": potential_score,
        "cost_to_serve": cost_to_serve,
        "return_rate": return_rate,
        "current_tier": figures.current_tiers(),
        "proposed_tier": proposed,
        # The same two as positions in the tier rules (-1 no tier, -2 a tier not in them).
        "current_tier_index": figures.current_tier_index(),
        "proposed_tier_index": chosen,
    }
    classes, counts = np.unique(analysis.abc_class, return_counts=True)
    summary: dict[str, Any] = {
        "accounts": n,
        "accounts_with_orders": int(has_orders.sum()),
        "value_basis": basis,
        "accounts_without_cost": int((has_orders & ~with_cost).sum()) if basis == "margin" else 0,
        "head_count": analysis.head_count,
        "head_account_share": analysis.head_account_share,
        "value_total": analysis.total,
        "abc_counts": {str(c): int(k) for c, k in zip(classes, counts, strict=True)},
        "messages": list(clv_result.messages) if clv_result else [],
    }
    if clv_result is not None:
        summary["clv"] = clv_parameters(clv_result, config.clv_period)
    return ScoreResult(columns=columns, reasons=reasons, summary=summary, clv=clv_result)


def clv_parameters(result: ClvResult, period: str) -> dict[str, Any]:
    """The fitted parameters as JSON-able values (None where a model was not fitted)."""
    transactions, spend = result.transactions, result.spend
    return {
        "period": period,
        "r": transactions.r if transactions else None,
        "alpha": transactions.alpha if transactions else None,
        "a": transactions.a if transactions else None,
        "b": transactions.b if transactions else None,
        "p": spend.p if spend else None,
        "q": spend.q if spend else None,
        "v": spend.v if spend else None,
        "log_likelihood": {
            "bgnbd": transactions.log_likelihood if transactions else None,
            "gamma_gamma": spend.log_likelihood if spend else None,
        },
        "n_accounts": int(result.summary.index.size),
        "n_repeat": int((result.summary.frequency > 0).sum()),
    }


def as_of_default() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()
