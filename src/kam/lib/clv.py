"""Customer lifetime value: BG/NBD repeat purchases and Gamma-Gamma spend.

Pure NumPy/SciPy; no Django. The models and their conventions follow the
``lifetimes`` package (0.11.3), which the tests use as an oracle:

- Purchases in the same period (day, or calendar week) count as one
  transaction and their amounts are summed.
- ``frequency`` is the number of *repeat* purchase periods (first one excluded),
  ``recency`` the time from the first to the last purchase, ``T`` the time from
  the first purchase to the observation end, both in periods divided by an
  optional multiplier (``unit="D", unit_multiplier=7`` gives fractional weeks).
- ``monetary_value`` is the mean amount of the repeat periods, 0 without repeats.
- Fits maximise the mean log-likelihood over log-parameters with BFGS (L-BFGS-B
  with ``q_constraint``), with lifetimes' L2 penaliser ``c * sum(params**2)``
  (default 0); BG/NBD is fitted with times rescaled so that max(T) = 1, exactly
  as lifetimes does, so ``alpha`` is penalised on that scale too.

Errors: bad input raises :class:`ModelInputError`, a fit that does not converge
raises :class:`ModelFitError` (both are ``ValueError``). Fallback for callers on
non-convergence: refit with a small penaliser (``penalizer_coef=0.001`` then
``0.01``); if that fails too, do not show model figures for the run and rank by
the plain historical figures instead (RFM scores and last-12-month revenue from
:mod:`kam.lib.pareto`), keeping the previous stored CLV values marked as stale.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Time units per month for the discounted-cash-flow sum, as in lifetimes.
PERIODS_PER_MONTH: dict[str, float] = {"D": 30.0, "W": 4.345, "M": 1.0, "H": 720.0}

# BFGS often stops with "precision loss" right at the optimum of a flat
# log-likelihood; a gradient this small (mean log-likelihood per customer, in
# log-parameter space) still counts as converged.
_GRADIENT_TOLERANCE = 1e-5


class ModelInputError(ValueError):
    """Input data that the models cannot use (empty, negative, inconsistent)."""


class ModelFitError(ValueError):
    """The maximum-likelihood fit failed to converge or gave unusable parameters."""


@dataclass(frozen=True)
class TransactionSummary:
    """Per-customer sufficient statistics, sorted by ``customer_idx``."""

    customer_idx: IntArray
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray


@dataclass(frozen=True)
class BetaGeoFit:
    """Fitted BG/NBD model; ``log_likelihood`` is the total over customers."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: float
    converged: bool
    penalizer_coef: float = 0.0


@dataclass(frozen=True)
class GammaGammaFit:
    """Fitted Gamma-Gamma spend model; ``n_customers`` counts repeat buyers used."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: float
    converged: bool
    penalizer_coef: float = 0.0


# --------------------------------------------------------------------------
# Summary from transactions
# --------------------------------------------------------------------------


def summary_from_transactions(
    customer_idx: ArrayLike,
    dates: ArrayLike,
    observation_end: str | date | np.datetime64,
    amounts: ArrayLike | None = None,
    *,
    unit: Literal["D", "W"] = "D",
    unit_multiplier: float = 1.0,
) -> TransactionSummary:
    """Build (frequency, recency, T, monetary_value) per customer.

    Steps: keep purchases dated on or before ``observation_end``; map dates to
    periods (days, or Monday-to-Sunday weeks like pandas ``"W"``); merge purchases
    of one customer in one period, summing amounts; then count periods per
    customer. Customers with no purchase up to the end are left out. Input need
    not be sorted. ``dates`` and ``observation_end`` are calendar dates (anything
    ``numpy.datetime64`` accepts; a time of day is dropped).
    """
    if unit not in ("D", "W"):
        raise ModelInputError(f"unit must be 'D' or 'W', not {unit!r}.")
    if not unit_multiplier > 0:
        raise ModelInputError("unit_multiplier must be positive.")
    customers = np.asarray(customer_idx)
    if customers.ndim != 1 or customers.size == 0:
        raise ModelInputError("customer_idx must be a non-empty 1-D array.")
    if not np.issubdtype(customers.dtype, np.integer):
        raise ModelInputError("customer_idx must hold integers (map ids to 0..n-1 first).")
    try:
        days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
        end_day = int(np.asarray(observation_end, dtype="datetime64[D]").astype(np.int64))
    except (TypeError, ValueError) as error:
        raise ModelInputError(f"dates and observation_end must be dates: {error}") from error
    if days.shape != customers.shape:
        raise ModelInputError("customer_idx and dates must have the same length.")
    if amounts is None:
        values = np.zeros(days.shape, dtype=np.float64)
    else:
        values = np.asarray(amounts, dtype=np.float64)
        if values.shape != customers.shape:
            raise ModelInputError("amounts must have the same length as customer_idx.")
        if not np.all(np.isfinite(values)):
            raise ModelInputError("amounts must be finite numbers.")
        if np.any(values < 0):
            raise ModelInputError("amounts must not be negative; net refunds into orders first.")

    keep = days <= end_day
    if not np.any(keep):
        raise ModelInputError("observation_end is before every purchase.")
    customers, days, values = customers[keep].astype(np.int64), days[keep], values[keep]

    if unit == "W":
        # Day 0 (1970-01-01) is a Thursday, so (day + 3) // 7 numbers Monday weeks.
        periods, end_period = (days + 3) // 7, (end_day + 3) // 7
    else:
        periods, end_period = days, end_day

    order = np.lexsort((periods, customers))
    customers, periods, values = customers[order], periods[order], values[order]

    # One row per (customer, period): same-period purchases are one transaction.
    new_pair = np.ones(customers.size, dtype=bool)
    new_pair[1:] = (customers[1:] != customers[:-1]) | (periods[1:] != periods[:-1])
    pair_starts = np.flatnonzero(new_pair)
    pair_customers = customers[pair_starts]
    pair_periods = periods[pair_starts]
    pair_values = np.add.reduceat(values, pair_starts)

    new_customer = np.ones(pair_customers.size, dtype=bool)
    new_customer[1:] = pair_customers[1:] != pair_customers[:-1]
    starts = np.flatnonzero(new_customer)
    ends = np.append(starts[1:], pair_customers.size) - 1
    counts = ends - starts + 1

    # The first period's spend is excluded from the repeat-purchase mean.
    repeat_values = pair_values.copy()
    repeat_values[starts] = 0.0
    repeat_totals = np.add.reduceat(repeat_values, starts)
    frequency = (counts - 1).astype(np.float64)
    monetary = np.divide(
        repeat_totals, frequency, out=np.zeros_like(repeat_totals), where=frequency > 0
    )
    first, last = pair_periods[starts], pair_periods[ends]
    return TransactionSummary(
        customer_idx=pair_customers[starts],
        frequency=frequency,
        recency=(last - first) / unit_multiplier,
        T=(end_period - first) / unit_multiplier,
        monetary_value=monetary,
    )


# --------------------------------------------------------------------------
# Input checks and helpers
# --------------------------------------------------------------------------


def _as_float_array(name: str, values: ArrayLike) -> FloatArray:
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise ModelInputError(f"{name} must be 1-D.")
    return array


def _check_frequency_recency_t(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = _as_float_array("frequency", frequency)
    t_x = _as_float_array("recency", recency)
    age = _as_float_array("T", T)
    if x.size == 0:
        raise ModelInputError("frequency, recency and T must not be empty.")
    if not (x.shape == t_x.shape == age.shape):
        raise ModelInputError("frequency, recency and T must have the same length.")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(age))):
        raise ModelInputError("frequency, recency and T must be finite numbers.")
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise ModelInputError("frequency must hold non-negative whole numbers.")
    if np.any(t_x < 0) or np.any(age < 0):
        raise ModelInputError("recency and T must not be negative.")
    if np.any(t_x > age):
        raise ModelInputError("recency must not be larger than T.")
    if np.any(t_x[x == 0] != 0):
        raise ModelInputError("recency must be 0 where frequency is 0.")
    return x, t_x, age


def _check_weights(weights: ArrayLike | None, size: int) -> FloatArray:
    if weights is None:
        return np.ones(size, dtype=np.float64)
    w = _as_float_array("weights", weights)
    if w.shape != (size,):
        raise ModelInputError("weights must have one entry per customer.")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ModelInputError("weights must be finite, non-negative and not all zero.")
    return w


def collapse_customers(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Merge customers with identical (frequency, recency, T), returning their counts.

    The likelihood only needs how many customers share a pattern, so the result
    (frequency, recency, T, weights) fits like the full arrays; worth it for
    weekly or monthly data, where patterns repeat a lot.
    """
    x, t_x, age = _check_frequency_recency_t(frequency, recency, T)
    w = _check_weights(weights, x.size)
    order = np.lexsort((age, t_x, x))
    columns = [x[order], t_x[order], age[order]]
    new_row = np.zeros(order.size, dtype=bool)
    new_row[0] = True
    for column in columns:
        new_row[1:] |= column[1:] != column[:-1]
    starts = np.flatnonzero(new_row)
    x, t_x, age = (column[starts] for column in columns)
    return x, t_x, age, np.add.reduceat(w[order], starts)


# Repeat customers per thread in the BG/NBD likelihood: below this, one part on the
# calling thread (a thread hand-off costs more than it saves on small data).
_PART_ROWS = 150_000
_CORES = min(os.cpu_count() or 1, 8)
_POOL: ThreadPoolExecutor | None = None


def _parts(rows: int) -> list[slice]:
    """Slices of the repeat customers: one per core, each of at least _PART_ROWS."""
    count = min(_CORES, rows // _PART_ROWS)
    if count <= 1:
        return [slice(0, rows)]
    bounds = np.linspace(0, rows, count + 1).astype(int)
    return [slice(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_CORES, thread_name_prefix="clv")
    return _POOL


def _dot(left: FloatArray, right: FloatArray) -> float:
    """Inner product; einsum avoids BLAS threads, which are slower here on busy cores."""
    return float(np.einsum("i,i->", left, right))


def _minimize(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    x0: FloatArray,
    tol: float,
    bounds: list[tuple[float | None, float | None]] | None,
) -> tuple[FloatArray, bool, str]:
    """Run scipy's default minimiser as lifetimes does; return (x, converged, message)."""

    def guarded(log_params: FloatArray) -> tuple[float, FloatArray]:
        # Keep the line search away from overflow: exp(+-50) is far outside any fit.
        value, gradient = objective(np.clip(log_params, -50.0, 50.0))
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return np.inf, np.zeros_like(log_params)
        return value, gradient

    with np.errstate(all="ignore"):
        result = optimize.minimize(guarded, x0, jac=True, tol=tol, bounds=bounds)
        _, gradient = guarded(result.x)
    small_gradient = bool(np.max(np.abs(gradient)) < _GRADIENT_TOLERANCE)
    converged = bool(np.all(np.isfinite(result.x))) and (bool(result.success) or small_gradient)
    return np.asarray(result.x, dtype=np.float64), converged, str(result.message)


# --------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _BgNbdData:
    """BG/NBD data arranged so that one likelihood evaluation is cheap.

    Customers without repeats contribute -r*log(alpha+T) only, so they are
    reduced to weights per distinct T; repeat customers keep one row each,
    with times looked up in tables of distinct values (few for day data).
    """

    x_values: FloatArray  # distinct frequencies, 0 included
    weight_by_x: FloatArray
    zero_age_values: FloatArray  # distinct T of customers without repeats
    zero_age_weights: FloatArray
    x: FloatArray  # rows of repeat customers from here on
    x_code: IntArray
    time_values: FloatArray  # distinct t_x and T of repeat customers
    recency_code: IntArray
    age_code: IntArray
    weights: FloatArray

    @classmethod
    def build(cls, x: FloatArray, t_x: FloatArray, age: FloatArray, w: FloatArray) -> _BgNbdData:
        x_values, x_code = np.unique(x, return_inverse=True)
        zero = x == 0
        zero_age_values, zero_age_code = np.unique(age[zero], return_inverse=True)
        repeat = ~zero
        time_values, time_code = np.unique(
            np.concatenate([t_x[repeat], age[repeat]]), return_inverse=True
        )
        n_repeat = int(repeat.sum())
        return cls(
            x_values=x_values,
            weight_by_x=np.bincount(x_code, weights=w, minlength=x_values.size),
            zero_age_values=zero_age_values,
            zero_age_weights=np.bincount(
                zero_age_code, weights=w[zero], minlength=zero_age_values.size
            ),
            x=x[repeat],
            x_code=x_code[repeat].astype(np.int64),
            time_values=time_values,
            recency_code=time_code[:n_repeat].astype(np.int64),
            age_code=time_code[n_repeat:].astype(np.int64),
            weights=w[repeat],
        )

    def rescaled(self, scale: float) -> _BgNbdData:
        """The same data with every time multiplied by ``scale``."""
        return replace(
            self,
            zero_age_values=self.zero_age_values * scale,
            time_values=self.time_values * scale,
        )

    def log_likelihood(self, params: FloatArray, with_gradient: bool) -> tuple[float, FloatArray]:
        """Weighted total log-likelihood (Fader, Hardie & Lee 2005, eq. 6) and gradient.

        Per customer: A1 + A2 + log(exp(A3) + [x>0] exp(A4)) with
        A3 = -(r+x) log(alpha+T), A4 = log(a/(b+x-1)) - (r+x) log(alpha+t_x);
        terms of x alone are evaluated once per distinct x.
        """
        r, alpha, a, b = params
        xu = self.x_values
        b_x_minus_1 = b + np.maximum(xu, 1.0) - 1.0
        per_x = (
            special.gammaln(r + xu)
            - special.gammaln(r)
            + r * np.log(alpha)
            + special.gammaln(a + b)
            + special.gammaln(b + xu)
            - special.gammaln(b)
            - special.gammaln(a + b + xu)
        )
        log_zero_age = np.log(alpha + self.zero_age_values)
        log_time = np.log(alpha + self.time_values)
        inverse_time = 1.0 / (alpha + self.time_values)
        log_odds_by_x = np.log(a) - np.log(b_x_minus_1)
        # The repeat customers' sums, in parts on threads for large data (NumPy and
        # SciPy's ufuncs release the GIL, so the parts run on separate cores).
        parts = _parts(self.x.size)
        if len(parts) == 1:
            results = [
                self._repeat_sums(parts[0], r, log_odds_by_x, log_time, inverse_time, with_gradient)
            ]
        else:
            results = list(
                _pool().map(
                    lambda part: self._repeat_sums(
                        part, r, log_odds_by_x, log_time, inverse_time, with_gradient
                    ),
                    parts,
                )
            )
        sums = np.sum([result[0] for result in results], axis=0)
        w_softplus, wk_log_age, w_log_age, w4_log_gap, wk_inverse_age, w4k_inverse_gap = sums
        total = (
            _dot(self.weight_by_x, per_x)
            - r * _dot(self.zero_age_weights, log_zero_age)
            + w_softplus
            - wk_log_age
        )
        if not with_gradient:
            return total, np.zeros(4)

        psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + b + xu)
        n_total = float(self.weight_by_x.sum())
        d_r = _dot(self.weight_by_x, special.digamma(r + xu) - special.digamma(r))
        d_r += n_total * np.log(alpha) - _dot(self.zero_age_weights, log_zero_age)
        d_r -= w_log_age + w4_log_gap
        d_alpha = n_total * r / alpha
        d_alpha -= r * _dot(self.zero_age_weights, 1.0 / (alpha + self.zero_age_values))
        d_alpha -= wk_inverse_age + w4k_inverse_gap
        w4_by_x = np.sum([result[1] for result in results], axis=0)
        d_a = _dot(self.weight_by_x, psi_ab - psi_abx) + float(w4_by_x.sum()) / a
        d_b = _dot(
            self.weight_by_x, psi_ab + special.digamma(b + xu) - special.digamma(b) - psi_abx
        )
        d_b -= _dot(w4_by_x, 1.0 / b_x_minus_1)
        return total, np.array([d_r, d_alpha, d_a, d_b])

    def _repeat_sums(
        self,
        part: slice,
        r: float,
        log_odds_by_x: FloatArray,
        log_time: FloatArray,
        inverse_time: FloatArray,
        with_gradient: bool,
    ) -> tuple[FloatArray, FloatArray]:
        """The weighted per-customer sums of the repeat customers in ``part``.

        Returns the six sums the likelihood and its gradient take (in the order
        log_likelihood unpacks them; the last four are 0 without the gradient) and
        the A4-branch weights summed per distinct x.
        """
        x_code = self.x_code[part]
        age_code = self.age_code[part]
        log_age = log_time[age_code]
        log_gap = log_time[self.recency_code[part]] - log_age
        k = r + self.x[part]
        # d = A4 - A3, so log(exp(A3) + exp(A4)) = A3 + log(1 + exp(d)).
        d = log_odds_by_x[x_code] - k * log_gap
        w = self.weights[part]
        # Stable softplus log(1 + exp(d)); np.logaddexp is several times slower.
        small = np.exp(-np.abs(d))
        softplus = np.maximum(d, 0.0) + np.log1p(small)
        wk = w * k
        sums = np.zeros(6)
        sums[0] = _dot(w, softplus)
        sums[1] = _dot(wk, log_age)
        if not with_gradient:
            return sums, np.zeros(0)
        # Weight times the posterior share of the A4 branch, expit(d), reusing exp(-|d|).
        w4 = np.where(d >= 0, 1.0, small) / (1.0 + small) * w
        inverse_age = inverse_time[age_code]
        inverse_gap = inverse_time[self.recency_code[part]] - inverse_age
        sums[2] = _dot(w, log_age)
        sums[3] = _dot(w4, log_gap)
        sums[4] = _dot(wk, inverse_age)
        sums[5] = _dot(w4 * k, inverse_gap)
        return sums, np.bincount(x_code, weights=w4, minlength=log_odds_by_x.size)


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer_coef: float = 0.0,
    initial_params: tuple[float, float, float, float] | None = None,
    tol: float = 1e-7,
    raise_on_failure: bool = True,
) -> BetaGeoFit:
    """Fit BG/NBD (r, alpha, a, b) by maximum likelihood.

    ``weights`` counts customers per row (see :func:`collapse_customers`).
    ``initial_params`` are natural
    (r, alpha, a, b); the default start is lifetimes' (all 0.1 in log space on
    the rescaled time axis). With ``raise_on_failure=False`` a non-converged fit
    is returned with ``converged=False`` instead of raising ModelFitError.
    """
    x, t_x, age = _check_frequency_recency_t(frequency, recency, T)
    w = _check_weights(weights, x.size)
    if not penalizer_coef >= 0:
        raise ModelInputError("penalizer_coef must be >= 0.")
    if not age.max() > 0:
        raise ModelInputError("At least one customer needs T > 0 to fit the model.")
    if not np.any((x > 0) & (w > 0)):
        # Without a single repeat purchase the likelihood has no finite maximum.
        raise ModelInputError("BG/NBD needs at least one repeat customer (frequency > 0).")
    n_customers = float(w.sum())
    scale = 1.0 / age.max()
    data = _BgNbdData.build(x, t_x, age, w)
    scaled_data = data.rescaled(scale)

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        total, gradient = scaled_data.log_likelihood(params, True)
        value = -total / n_customers + penalizer_coef * float(np.sum(params**2))
        return value, -gradient * params / n_customers + 2.0 * penalizer_coef * params**2

    if initial_params is None:
        x0 = np.full(4, 0.1)
    else:
        r0, alpha0, a0, b0 = initial_params
        x0 = np.log(np.array([r0, alpha0 * scale, a0, b0], dtype=np.float64))
        if not np.all(np.isfinite(x0)):
            raise ModelInputError("initial_params must all be positive.")
    log_params, converged, message = _minimize(objective, x0, tol, None)
    r, alpha_scaled, a, b = np.exp(log_params)
    alpha = alpha_scaled / scale
    params = np.array([r, alpha, a, b])
    log_likelihood, _ = data.log_likelihood(params, False)
    if not (np.all(np.isfinite(params)) and np.isfinite(log_likelihood)):
        raise ModelFitError(f"BG/NBD fit gave unusable parameters ({message}).")
    if not converged and raise_on_failure:
        raise ModelFitError(
            f"BG/NBD fit did not converge ({message}); retry with penalizer_coef=0.001."
        )
    return BetaGeoFit(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=float(log_likelihood),
        n_customers=n_customers,
        converged=converged,
        penalizer_coef=float(penalizer_coef),
    )


def conditional_probability_alive(
    model: BetaGeoFit, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(alive | x, t_x, T); exactly 1 for customers with frequency 0 (lifetimes)."""
    x, t_x, age = _check_frequency_recency_t(frequency, recency, T)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    log_odds_dead = (r + x) * (np.log(alpha + age) - np.log(alpha + t_x)) + np.log(
        a / (b + np.maximum(x, 1.0) - 1.0)
    )
    return np.where(x == 0, 1.0, special.expit(-log_odds_dead))


def conditional_expected_number_of_purchases_up_to_time(
    model: BetaGeoFit, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected repeat purchases in the next ``t`` periods (FHL 2005, eq. 10).

    ``t`` is a scalar or an array broadcastable to the customers. Written as
    P(alive) times the expected purchases of a live customer, with the Gauss
    hypergeometric function in its Euler-transformed form
    (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose parameters do not grow
    with x, so heavy buyers and huge T stay finite.
    """
    return expected_purchases_over_horizons(model, [t], frequency, recency, T)[0]


def expected_purchases_over_horizons(
    model: BetaGeoFit,
    horizons: Sequence[ArrayLike],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> list[FloatArray]:
    """``conditional_expected_number_of_purchases_up_to_time`` for several horizons at once.

    The inputs are checked and P(alive) computed once (a CLV sums a dozen horizons).
    """
    x, t_x, age = _check_frequency_recency_t(frequency, recency, T)
    arrays = [np.asarray(t, dtype=np.float64) for t in horizons]
    if any(not np.all(np.isfinite(h)) or np.any(h < 0) for h in arrays):
        raise ModelInputError("t must be finite and non-negative.")
    p_alive = conditional_probability_alive(model, x, t_x, age)
    # The hypergeometric term depends on (x, T) only, and customers share few pairs (whole
    # repeat counts, T in whole days): evaluate it once per distinct pair, then spread.
    _x_values, x_code = np.unique(x, return_inverse=True)
    age_values, age_code = np.unique(age, return_inverse=True)
    pair_values, pair_code = np.unique(
        x_code.astype(np.int64) * age_values.size + age_code, return_inverse=True
    )
    pair_x = _x_values[pair_values // age_values.size]
    pair_age = age_values[pair_values % age_values.size]
    results: list[FloatArray] = []
    done: dict[float, FloatArray] = {}  # equal scalar horizons are computed once
    for horizon in arrays:
        key = float(horizon) if horizon.ndim == 0 else None
        if key is not None and key in done:
            results.append(done[key])
            continue
        if horizon.ndim == 0:
            per_pair = _expected_purchases(model, horizon, pair_x, pair_age, 1.0)
            expected = np.maximum(np.nan_to_num(p_alive * per_pair[pair_code]), 0.0)
        else:
            expected = _expected_purchases(model, horizon, x, age, p_alive)
        if key is not None:
            done[key] = expected
        results.append(expected)
    return results


def _expected_purchases(
    model: BetaGeoFit,
    horizon: FloatArray,
    x: FloatArray,
    age: FloatArray,
    p_alive: FloatArray | float,
) -> FloatArray:
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    if abs(a - 1.0) < 1e-9:
        # The formula has a removable singularity at a = 1; step just beside it.
        a = 1.0 + 1e-9
    z = horizon / (alpha + age + horizon)
    hyp = special.hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    not_yet = np.exp((a - 1.0) * np.log1p(-z)) * hyp
    expected = p_alive * (a + b + x - 1.0) / (a - 1.0) * (1.0 - not_yet)
    # Guard tiny negative values from cancellation when t is near 0.
    return np.maximum(np.nan_to_num(expected, nan=0.0, posinf=0.0), 0.0)


# --------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------


def _check_frequency_monetary(
    frequency: ArrayLike, monetary_value: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    x = _as_float_array("frequency", frequency)
    m = _as_float_array("monetary_value", monetary_value)
    if x.size == 0:
        raise ModelInputError("frequency and monetary_value must not be empty.")
    if x.shape != m.shape:
        raise ModelInputError("frequency and monetary_value must have the same length.")
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x != np.floor(x)):
        raise ModelInputError("frequency must hold non-negative whole numbers.")
    repeat = x > 0
    if not np.all(np.isfinite(m[repeat])) or np.any(m[repeat] < 0):
        raise ModelInputError("monetary_value must be finite and non-negative for repeat buyers.")
    return x, m


@dataclass(frozen=True)
class _GammaGammaData:
    """Repeat buyers' spend, with every parameter-free sum done once.

    The log-likelihood (Fader, Hardie & Lee 2005b) per customer is
    gammaln(px+q) - gammaln(px) - gammaln(q) + q log v + (px-1) log m
    + px log x - (px+q) log(xm+v); only log(xm+v) needs a pass over all rows,
    the gamma functions are evaluated once per distinct x.
    """

    x_values: FloatArray
    weight_by_x: FloatArray
    spend: FloatArray  # x * m per row
    weights: FloatArray
    weighted_x: FloatArray
    sum_weighted_log_m: float
    sum_weighted_x_log_m: float

    @classmethod
    def build(cls, x: FloatArray, m: FloatArray, w: FloatArray) -> _GammaGammaData:
        x_values, x_code = np.unique(x, return_inverse=True)
        log_m = np.log(m)
        return cls(
            x_values=x_values,
            weight_by_x=np.bincount(x_code, weights=w, minlength=x_values.size),
            spend=x * m,
            weights=w,
            weighted_x=w * x,
            sum_weighted_log_m=_dot(w, log_m),
            sum_weighted_x_log_m=_dot(w * x, log_m),
        )

    def log_likelihood(self, params: FloatArray, with_gradient: bool) -> tuple[float, FloatArray]:
        """Weighted total log-likelihood and its gradient in (p, q, v)."""
        p, q, v = params
        xu, wx = self.x_values, self.weight_by_x
        pxu = p * xu
        n_total = float(wx.sum())
        log_total = np.log(self.spend + v)
        sum_w_log_total = _dot(self.weights, log_total)
        sum_wx_log_total = _dot(self.weighted_x, log_total)
        total = (
            _dot(wx, special.gammaln(pxu + q) - special.gammaln(pxu) + pxu * np.log(xu))
            - n_total * special.gammaln(q)
            + n_total * q * np.log(v)
            + p * self.sum_weighted_x_log_m
            - self.sum_weighted_log_m
            - p * sum_wx_log_total
            - q * sum_w_log_total
        )
        if not with_gradient:
            return total, np.zeros(3)
        psi_pxq = special.digamma(pxu + q)
        inverse_total = 1.0 / (self.spend + v)
        d_p = _dot(wx * xu, psi_pxq - special.digamma(pxu) + np.log(xu))
        d_p += self.sum_weighted_x_log_m - sum_wx_log_total
        d_q = _dot(wx, psi_pxq) - n_total * special.digamma(q) + n_total * np.log(v)
        d_q -= sum_w_log_total
        d_v = n_total * q / v - p * _dot(self.weighted_x, inverse_total)
        d_v -= q * _dot(self.weights, inverse_total)
        return total, np.array([d_p, d_q, d_v])


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer_coef: float = 0.0,
    q_constraint: bool = False,
    tol: float = 1e-7,
    raise_on_failure: bool = True,
) -> GammaGammaFit:
    """Fit Gamma-Gamma (p, q, v) on repeat buyers by maximum likelihood.

    Rows with frequency 0 are ignored, and so are repeat buyers whose mean
    spend is exactly 0 (the model needs positive spend); all others count.
    ``q_constraint`` keeps q >= 1 as lifetimes' option does. Spend is rescaled
    to mean 1 inside the optimiser for conditioning; the penaliser still acts
    on the natural (p, q, v) like lifetimes.
    """
    x, m = _check_frequency_monetary(frequency, monetary_value)
    w = _check_weights(weights, x.size)
    if not penalizer_coef >= 0:
        raise ModelInputError("penalizer_coef must be >= 0.")
    usable = (x > 0) & (m > 0) & (w > 0)
    if not np.any(usable):
        raise ModelInputError(
            "Gamma-Gamma needs at least one repeat buyer (frequency > 0) with positive spend."
        )
    x, m, w = x[usable], m[usable], w[usable]
    n_customers = float(w.sum())
    scale = 1.0 / float(np.average(m, weights=w))
    natural = np.array([1.0, 1.0, 1.0 / scale])
    scaled_data = _GammaGammaData.build(x, m * scale, w)

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        total, gradient = scaled_data.log_likelihood(params, True)
        natural_params = params * natural
        value = -total / n_customers + penalizer_coef * float(np.sum(natural_params**2))
        return value, -gradient * params / n_customers + 2.0 * penalizer_coef * natural_params**2

    x0 = np.full(3, 0.1) + np.log(np.array([1.0, 1.0, scale]))
    bounds: list[tuple[float | None, float | None]] | None = (
        [(None, None), (0.0, None), (None, None)] if q_constraint else None
    )
    log_params, converged, message = _minimize(objective, x0, tol, bounds)
    params = np.exp(log_params) * natural
    log_likelihood, _ = _GammaGammaData.build(x, m, w).log_likelihood(params, False)
    if not (np.all(np.isfinite(params)) and np.isfinite(log_likelihood)):
        raise ModelFitError(f"Gamma-Gamma fit gave unusable parameters ({message}).")
    if not converged and raise_on_failure:
        raise ModelFitError(
            f"Gamma-Gamma fit did not converge ({message}); retry with q_constraint=True "
            "or penalizer_coef=0.001."
        )
    p, q, v = params
    return GammaGammaFit(
        p=float(p),
        q=float(q),
        v=float(v),
        log_likelihood=float(log_likelihood),
        n_customers=n_customers,
        converged=converged,
        penalizer_coef=float(penalizer_coef),
    )


def conditional_expected_average_profit(
    model: GammaGammaFit, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """Expected mean spend per transaction; frequency-0 customers get the population mean.

    A weighted average of the population mean v*p/(q-1) and the customer's own
    mean, the weight growing with frequency. Needs q > 1 (else the population
    mean is infinite): refit with ``q_constraint=True`` if it is not.
    """
    x, m = _check_frequency_monetary(frequency, monetary_value)
    p, q, v = model.p, model.q, model.v
    if not q > 1.0:
        raise ModelFitError(
            f"Gamma-Gamma q={q:.4g} <= 1 gives an infinite mean spend; refit with q_constraint."
        )
    population_mean = v * p / (q - 1.0)
    individual_weight = p * x / (p * x + q - 1.0)
    own_mean = np.where(x > 0, m, 0.0)
    return (1.0 - individual_weight) * population_mean + individual_weight * own_mean


def customer_lifetime_value(
    transactions_model: BetaGeoFit,
    spend_model: GammaGammaFit,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    unit: Literal["D", "W", "M", "H"] = "D",
) -> FloatArray:
    """Discounted value of the next ``months`` months per customer (lifetimes' convention).

    For month k = 1..months: expected purchases between (k-1)*f and k*f periods
    (f = periods per month: 30 days, 4.345 weeks, 1 month, 720 hours, matching
    ``unit``, the time unit the BG/NBD model was fitted in) times the
    Gamma-Gamma expected spend, divided by (1 + discount_rate)**k. The
    discount rate is monthly: an annual rate R is (1 + R)**(1/12) - 1.
    """
    if unit not in PERIODS_PER_MONTH:
        raise ModelInputError(f"unit must be one of {sorted(PERIODS_PER_MONTH)}.")
    if months < 0:
        raise ModelInputError("months must not be negative.")
    if not discount_rate > -1:
        raise ModelInputError("discount_rate must be greater than -1.")
    x, t_x, age = _check_frequency_recency_t(frequency, recency, T)
    spend = conditional_expected_average_profit(spend_model, x, monetary_value)
    per_month = PERIODS_PER_MONTH[unit]
    value = np.zeros_like(x)
    previous = np.zeros_like(x)
    for month in range(1, months + 1):
        cumulative = conditional_expected_number_of_purchases_up_to_time(
            transactions_model, month * per_month, x, t_x, age
        )
        value += spend * (cumulative - previous) / (1.0 + discount_rate) ** month
        previous = cumulative
    return value


# --------------------------------------------------------------------------
# Synthetic data (tests, benchmarks, demo data)
# --------------------------------------------------------------------------


def simulate_customers(
    rng: np.random.Generator,
    T: ArrayLike,
    transactions_params: tuple[float, float, float, float],
    spend_params: tuple[float, float, float] | None = None,
) -> TransactionSummary:
    """Draw (frequency, recency, T, monetary_value) from BG/NBD and Gamma-Gamma.

    Exact and loop-free: N(T) ~ Poisson(lambda*T) purchases would happen if the
    customer never dropped out; J ~ Geometric(p) is the repeat purchase after
    which they drop out. If N < J the customer saw N purchases, the last at T
    times the maximum of N uniforms; otherwise J, the J-th of N uniform
    arrivals, at T * Beta(J, N-J+1). Without ``spend_params`` monetary is 0.
    """
    age = _as_float_array("T", T)
    if age.size == 0 or np.any(age < 0) or not np.all(np.isfinite(age)):
        raise ModelInputError("T must be a non-empty array of non-negative numbers.")
    r, alpha, a, b = transactions_params
    n = age.size
    rate = rng.gamma(r, 1.0 / alpha, n)
    dropout = rng.beta(a, b, n)
    possible = rng.poisson(rate * age)
    last_repeat = rng.geometric(dropout)
    dropped = possible >= last_repeat
    frequency = np.where(dropped, last_repeat, possible).astype(np.float64)
    share_of_t = np.zeros(n)
    alive = ~dropped & (possible > 0)
    share_of_t[alive] = rng.random(int(alive.sum())) ** (1.0 / possible[alive])
    share_of_t[dropped] = rng.beta(
        last_repeat[dropped], possible[dropped] - last_repeat[dropped] + 1
    )
    monetary = np.zeros(n)
    if spend_params is not None:
        p, q, v = spend_params
        spend_rate = rng.gamma(q, 1.0 / v, n)
        repeat = frequency > 0
        # The mean of x Gamma(p, nu) spends is Gamma(p*x, rate nu*x).
        monetary[repeat] = rng.gamma(
            p * frequency[repeat], 1.0 / (spend_rate[repeat] * frequency[repeat])
        )
    return TransactionSummary(
        customer_idx=np.arange(n, dtype=np.int64),
        frequency=frequency,
        recency=share_of_t * age,
        T=age,
        monetary_value=monetary,
    )
