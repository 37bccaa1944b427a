"""Benchmark: fit BG/NBD and Gamma-Gamma on 1,000,000 synthetic customers.

Prints seconds and peak memory of kam.lib.clv, then the same fits with the
``lifetimes`` package (if installed) on a subset, and the speed ratio on that
same subset. Run: ``python benchmarks/bench_clv_fit.py [--customers N]
[--lifetimes-customers N]`` (0 skips lifetimes).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np

from kam.lib import clv

TRUE_TRANSACTIONS = (0.25, 4.0, 0.8, 2.5)  # r, alpha (days), a, b
TRUE_SPEND = (6.0, 3.7, 15.0)  # p, q, v


def synthetic_customers(n: int, seed: int = 1) -> clv.TransactionSummary:
    """Customers first seen up to three years ago, times in whole days as in real data."""
    rng = np.random.default_rng(seed)
    age = rng.integers(30, 3 * 365, n).astype(np.float64)
    data = clv.simulate_customers(rng, age, TRUE_TRANSACTIONS, TRUE_SPEND)
    return clv.TransactionSummary(
        customer_idx=data.customer_idx,
        frequency=data.frequency,
        recency=np.floor(data.recency),
        T=data.T,
        monetary_value=data.monetary_value,
    )


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def peak_mebibytes(function: Callable[[], object]) -> float:
    """Peak traced allocation (NumPy buffers included) while ``function`` runs."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def kam_fits(data: clv.TransactionSummary) -> tuple[Callable[[], object], Callable[[], object]]:
    return (
        lambda: clv.fit_bgnbd(data.frequency, data.recency, data.T),
        lambda: clv.fit_gamma_gamma(data.frequency, data.monetary_value),
    )


def lifetimes_fits(
    data: clv.TransactionSummary,
) -> tuple[Callable[[], object], Callable[[], object]] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lifetimes import BetaGeoFitter, GammaGammaFitter
    except ImportError:
        return None
    repeat = data.frequency > 0
    return (
        lambda: BetaGeoFitter().fit(data.frequency, data.recency, data.T),
        lambda: GammaGammaFitter().fit(data.frequency[repeat], data.monetary_value[repeat]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lifetimes-customers", type=int, default=100_000)
    args = parser.parse_args()

    data = synthetic_customers(args.customers)
    bgnbd, gamma_gamma = kam_fits(data)
    print(f"kam.lib.clv on {args.customers:,} customers")
    bg_seconds, gg_seconds = timed(bgnbd), timed(gamma_gamma)
    model = clv.fit_bgnbd(data.frequency, data.recency, data.T)
    spend = clv.fit_gamma_gamma(data.frequency, data.monetary_value)
    print(f"  BG/NBD       {bg_seconds:7.2f} s  peak {peak_mebibytes(bgnbd):7.1f} MiB  ", end="")
    print(f"r={model.r:.4g} alpha={model.alpha:.4g} a={model.a:.4g} b={model.b:.4g}")
    print(
        f"  Gamma-Gamma  {gg_seconds:7.2f} s  peak {peak_mebibytes(gamma_gamma):7.1f} MiB  ", end=""
    )
    print(f"p={spend.p:.4g} q={spend.q:.4g} v={spend.v:.4g}")
    print(f"  (true parameters {TRUE_TRANSACTIONS} and {TRUE_SPEND})")

    n_subset = min(args.lifetimes_customers, args.customers)
    if n_subset <= 0:
        print("lifetimes comparison skipped (--lifetimes-customers 0)")
        return
    subset = synthetic_customers(n_subset, seed=2)
    theirs = lifetimes_fits(subset)
    if theirs is None:
        print("lifetimes not installed: ratio skipped")
        return
    ours = kam_fits(subset)
    label = "the same data" if n_subset == args.customers else f"a subset of {n_subset:,}"
    print(f"lifetimes vs kam.lib.clv on {label} customers (lifetimes is slow on the full set)")
    for name, our_fit, their_fit in zip(("BG/NBD", "Gamma-Gamma"), ours, theirs, strict=True):
        our_seconds, their_seconds = timed(our_fit), timed(their_fit)
        print(
            f"  {name:<12} lifetimes {their_seconds:7.2f} s  kam {our_seconds:7.2f} s  "
            f"ratio {their_seconds / our_seconds:5.1f}x"
        )


if __name__ == "__main__":
    main()
