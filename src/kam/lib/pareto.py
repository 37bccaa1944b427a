"""Pareto (80/20), ABC classes and RFM quintile scores on plain arrays.

Pure NumPy; no Django. Conventions, fixed so that a re-run gives the same tiers:

- Ranking is by value, highest first; equal values are ordered by the
  caller's ``tie_break`` key ascending (e.g. the account id), then by input
  position. Negative values (credit notes exceeding sales) rank after all
  others, still highest first, and count as 0 in every share.
- ``cumulative_share`` of an account is the share of the total positive value
  held by it and every account ranked above it.
- An account is in class A when the accounts ranked *above* it hold less than
  ``a_cutoff`` (80%) of the value: the account that crosses the 80% line is A,
  because it is needed to reach 80%. Likewise B below ``b_cutoff`` (95%, i.e.
  the next 15%), C for the rest; zero and negative accounts are always C.
  The same rule gives the Pareto head: the fewest top accounts that reach
  ``share``. Comparisons allow a relative 1e-9 so that float rounding of an
  exact 80% does not move an account across the line.
- All values zero or negative: nobody holds any share, so every account is C
  and the head is empty. Empty input gives empty results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Float sums of shares that should be exactly 0.8 may land on 0.7999999999.
_SHARE_TOLERANCE = 1e-9


class RankingInputError(ValueError):
    """Values that cannot be ranked (not 1-D, not finite, mismatched lengths, bad cutoffs)."""


@dataclass(frozen=True)
class ParetoAnalysis:
    """Ranking, shares and ABC classes; arrays are indexed like the input."""

    order: IntArray
    rank: IntArray
    share: FloatArray
    cumulative_share: FloatArray
    abc_class: NDArray[np.str_]
    head_count: int
    head_account_share: float
    total: float


@dataclass(frozen=True)
class RfmScores:
    """RFM quintile scores 1..5 (5 is best), indexed like the input."""

    recency: NDArray[np.int8]
    frequency: NDArray[np.int8]
    monetary: NDArray[np.int8]


def _as_values(name: str, values: ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise RankingInputError(f"{name} must be a 1-D array.")
    if not np.all(np.isfinite(array)):
        raise RankingInputError(f"{name} must hold finite numbers (no NaN or infinity).")
    return array


def pareto_rank(values: ArrayLike, tie_break: ArrayLike | None = None) -> IntArray:
    """Indices of ``values`` from highest to lowest, ties by ``tie_break`` then position."""
    array = _as_values("values", values)
    if tie_break is None:
        # lexsort is stable, so equal values keep their input order.
        return np.lexsort((-array,)).astype(np.int64)
    keys = np.asarray(tie_break)
    if keys.shape != array.shape:
        raise RankingInputError("tie_break must have one key per value.")
    return np.lexsort((keys, -array)).astype(np.int64)


def pareto_analysis(
    values: ArrayLike,
    *,
    tie_break: ArrayLike | None = None,
    share: float = 0.8,
    a_cutoff: float = 0.8,
    b_cutoff: float = 0.95,
) -> ParetoAnalysis:
    """Rank accounts by value, with shares, ABC classes and the Pareto head.

    ``head_count`` is the fewest top accounts holding at least ``share`` of the
    value and ``head_account_share`` that count over all accounts (the "20%"
    of 80/20). See the module docstring for the boundary and negative rules.
    """
    if not 0 < share <= 1:
        raise RankingInputError("share must be in (0, 1].")
    if not 0 < a_cutoff < b_cutoff <= 1:
        raise RankingInputError("cutoffs must satisfy 0 < a_cutoff < b_cutoff <= 1.")
    array = _as_values("values", values)
    order = pareto_rank(array, tie_break)
    n = array.size
    positive = np.clip(array, 0.0, None)
    total = float(positive.sum())

    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    if total > 0:
        share_of_value = positive / total
        cumulative_ranked = np.cumsum(share_of_value[order])
    else:
        share_of_value = np.zeros(n)
        cumulative_ranked = np.zeros(n)
    cumulative = np.empty(n)
    cumulative[order] = cumulative_ranked
    # Share held by the accounts ranked above each account.
    above_ranked = np.concatenate(([0.0], cumulative_ranked[:-1])) if n else cumulative_ranked
    holds_value = positive[order] > 0

    classes_ranked = np.full(n, "C", dtype="<U1")
    in_b = holds_value & (above_ranked < b_cutoff - _SHARE_TOLERANCE)
    in_a = holds_value & (above_ranked < a_cutoff - _SHARE_TOLERANCE)
    classes_ranked[in_b] = "B"
    classes_ranked[in_a] = "A"
    abc_class = np.empty(n, dtype="<U1")
    abc_class[order] = classes_ranked

    head_count = int(np.count_nonzero(holds_value & (above_ranked < share - _SHARE_TOLERANCE)))
    return ParetoAnalysis(
        order=order,
        rank=rank,
        share=share_of_value,
        cumulative_share=cumulative,
        abc_class=abc_class,
        head_count=head_count,
        head_account_share=head_count / n if n else 0.0,
        total=total,
    )


def abc_classify(
    values: ArrayLike,
    *,
    tie_break: ArrayLike | None = None,
    a_cutoff: float = 0.8,
    b_cutoff: float = 0.95,
) -> NDArray[np.str_]:
    """ABC class ('A', 'B' or 'C') per value; shortcut for :func:`pareto_analysis`."""
    return pareto_analysis(
        values, tie_break=tie_break, a_cutoff=a_cutoff, b_cutoff=b_cutoff
    ).abc_class


def below_and_equal(values: FloatArray) -> tuple[IntArray, IntArray]:
    """Per value: how many values are smaller, and how many equal it (itself included).

    Sorts once; in sorted order each run of equal values starts at its "below" count
    and is as long as its "equal" count, so one pass over the run boundaries gives both
    (binary searches per value took six times as long on a million values).
    """
    n = values.size
    order = np.argsort(values)
    ordered = values[order]
    starts = np.empty(n, dtype=bool)
    if n:
        starts[0] = True
        # NaN never equals NaN: compare so that NaNs (sorted last) form one run.
        same = (ordered[1:] == ordered[:-1]) | (np.isnan(ordered[1:]) & np.isnan(ordered[:-1]))
        np.logical_not(same, out=starts[1:])
    run_start = np.flatnonzero(starts)
    run_length = np.diff(np.append(run_start, n))
    run_of = np.cumsum(starts) - 1
    below = np.empty(n, dtype=np.intp)
    equal = np.empty(n, dtype=np.intp)
    below[order] = run_start[run_of]
    equal[order] = run_length[run_of]
    return below, equal


def quintile_scores(values: ArrayLike, *, higher_is_better: bool = True) -> NDArray[np.int8]:
    """Score 1..5 by mid-rank quintile; equal values always get the same score.

    Each value's percentile is (number below + half the number equal) / n, and
    the score is ceil(5 * percentile), done in integers so it is exact. Distinct
    values split into five equal groups; a block of ties lands on the quintile
    of its middle, so all-equal values all score 3.
    """
    array = _as_values("values", values)
    if not higher_is_better:
        array = -array
    n = array.size
    if n == 0:
        return np.empty(0, dtype=np.int8)
    below, equal = below_and_equal(array)
    twice_percentile_n = 2 * below + equal
    scores = (5 * twice_percentile_n + 2 * n - 1) // (2 * n)
    return np.clip(scores, 1, 5).astype(np.int8)


def rfm_scores(recency_days: ArrayLike, frequency: ArrayLike, monetary: ArrayLike) -> RfmScores:
    """Recency (fewer days since the last order scores higher), frequency and monetary scores."""
    recency = _as_values("recency_days", recency_days)
    frequency_array = _as_values("frequency", frequency)
    monetary_array = _as_values("monetary", monetary)
    if not (recency.shape == frequency_array.shape == monetary_array.shape):
        raise RankingInputError("recency_days, frequency and monetary must have the same length.")
    return RfmScores(
        recency=quintile_scores(recency, higher_is_better=False),
        frequency=quintile_scores(frequency_array),
        monetary=quintile_scores(monetary_array),
    )
