"""Tests for kam.lib.clv, with the lifetimes package (0.11.3) as the oracle on CDNOW."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from kam.lib import clv

with warnings.catch_warnings():
    # lifetimes imports pkg_resources and sets a pandas option pandas 3 deprecates.
    warnings.simplefilter("ignore")
    import lifetimes.datasets
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import calibration_and_holdout_data

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return lifetimes.datasets.load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def cdnow_transactions() -> pd.DataFrame:
    frame = lifetimes.datasets.load_dataset("CDNOW_master.txt", sep=r"\s+")
    frame["date"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d")
    return frame


@pytest.fixture(scope="module")
def oracle_bgnbd(cdnow: pd.DataFrame) -> BetaGeoFitter:
    return BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def oracle_gamma_gamma(cdnow: pd.DataFrame) -> GammaGammaFitter:
    repeat = cdnow[cdnow["frequency"] > 0]
    return GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])


@pytest.fixture(scope="module")
def bgnbd(cdnow: pd.DataFrame) -> clv.BetaGeoFit:
    return clv.fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def gamma_gamma(cdnow: pd.DataFrame) -> clv.GammaGammaFit:
    return clv.fit_gamma_gamma(cdnow["frequency"], cdnow["monetary_value"])


def _params(model: clv.BetaGeoFit) -> list[float]:
    return [model.r, model.alpha, model.a, model.b]


# -- fits against lifetimes ---------------------------------------------------


def test_bgnbd_fit_matches_lifetimes_on_cdnow(
    bgnbd: clv.BetaGeoFit, oracle_bgnbd: BetaGeoFitter, cdnow: pd.DataFrame
) -> None:
    np.testing.assert_allclose(_params(bgnbd), oracle_bgnbd.params_.to_numpy(), rtol=1e-4)
    # The values published in the lifetimes docs, to their 4 significant digits.
    np.testing.assert_allclose(_params(bgnbd), [0.2426, 4.414, 0.7929, 2.426], rtol=5e-4)
    assert bgnbd.converged
    assert bgnbd.n_customers == len(cdnow)


def test_bgnbd_log_likelihood_is_lifetimes_total_on_the_natural_time_scale(
    bgnbd: clv.BetaGeoFit, oracle_bgnbd: BetaGeoFitter, cdnow: pd.DataFrame
) -> None:
    # lifetimes reports the mean on a time axis scaled to max(T) = 1; the
    # Jacobian of that change of scale is x * log(scale) per customer.
    scale = 1.0 / cdnow["T"].max()
    expected = -oracle_bgnbd._negative_log_likelihood_ * len(cdnow) + float(
        (cdnow["frequency"] * np.log(scale)).sum()
    )
    assert bgnbd.log_likelihood == pytest.approx(expected, rel=1e-9)


def test_gamma_gamma_fit_matches_lifetimes_on_cdnow(
    gamma_gamma: clv.GammaGammaFit, oracle_gamma_gamma: GammaGammaFitter, cdnow: pd.DataFrame
) -> None:
    got = [gamma_gamma.p, gamma_gamma.q, gamma_gamma.v]
    np.testing.assert_allclose(got, oracle_gamma_gamma.params_.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(got, [6.25, 3.74, 15.44], rtol=2e-3)
    assert gamma_gamma.n_customers == (cdnow["frequency"] > 0).sum()
    assert gamma_gamma.log_likelihood == pytest.approx(
        -oracle_gamma_gamma._negative_log_likelihood_ * gamma_gamma.n_customers, rel=1e-9
    )


@pytest.mark.parametrize("penalizer_coef", [0.001, 0.1])
def test_penalizer_matches_lifetimes(cdnow: pd.DataFrame, penalizer_coef: float) -> None:
    model = clv.fit_bgnbd(
        cdnow["frequency"], cdnow["recency"], cdnow["T"], penalizer_coef=penalizer_coef
    )
    oracle = BetaGeoFitter(penalizer_coef).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(_params(model), oracle.params_.to_numpy(), rtol=1e-4)

    repeat = cdnow[cdnow["frequency"] > 0]
    spend = clv.fit_gamma_gamma(
        repeat["frequency"], repeat["monetary_value"], penalizer_coef=penalizer_coef
    )
    spend_oracle = GammaGammaFitter(penalizer_coef).fit(
        repeat["frequency"], repeat["monetary_value"]
    )
    np.testing.assert_allclose(
        [spend.p, spend.q, spend.v], spend_oracle.params_.to_numpy(), rtol=1e-4
    )


def test_collapsed_rows_with_weights_fit_like_the_full_rows(cdnow: pd.DataFrame) -> None:
    frequency, recency, age, weights = clv.collapse_customers(
        cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    assert frequency.size < len(cdnow)
    assert weights.sum() == len(cdnow)
    collapsed = clv.fit_bgnbd(frequency, recency, age, weights=weights)
    full = clv.fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(_params(collapsed), _params(full), rtol=1e-6)
    assert collapsed.n_customers == len(cdnow)
    assert collapsed.log_likelihood == pytest.approx(full.log_likelihood, rel=1e-9)


def test_likelihood_in_parts_on_threads_fits_like_one_part(
    cdnow: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = (cdnow["frequency"], cdnow["recency"], cdnow["T"])
    whole = clv.fit_bgnbd(*args)
    monkeypatch.setattr(clv, "_PART_ROWS", 100)
    monkeypatch.setattr(clv, "_CORES", 3)
    repeat = int((cdnow["frequency"] > 0).sum())
    assert len(clv._parts(repeat)) == 3
    parts = clv.fit_bgnbd(*args)
    np.testing.assert_allclose(_params(parts), _params(whole), rtol=1e-9)
    assert parts.log_likelihood == pytest.approx(whole.log_likelihood, rel=1e-12)


# -- predictions against lifetimes --------------------------------------------


@pytest.mark.parametrize("t", [0.0, 1.0, 10.0, 39.0, 52.0, 1000.0])
def test_expected_purchases_match_lifetimes(
    bgnbd: clv.BetaGeoFit, oracle_bgnbd: BetaGeoFitter, cdnow: pd.DataFrame, t: float
) -> None:
    got = clv.conditional_expected_number_of_purchases_up_to_time(
        bgnbd, t, cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    expected = oracle_bgnbd.conditional_expected_number_of_purchases_up_to_time(
        t, cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-5, atol=1e-12)


def test_shared_frequency_and_age_pairs_give_the_per_customer_result(
    bgnbd: clv.BetaGeoFit, cdnow: pd.DataFrame
) -> None:
    # A scalar horizon evaluates the hypergeometric term once per distinct (x, T) pair;
    # an array horizon evaluates it per customer. Both must agree.
    x, t_x, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    horizons = [5.0, 52.0, 52.0]
    pooled = clv.expected_purchases_over_horizons(bgnbd, horizons, x, t_x, age)
    for horizon, got in zip(horizons, pooled, strict=True):
        each = clv.expected_purchases_over_horizons(
            bgnbd, [np.full(len(cdnow), horizon)], x, t_x, age
        )[0]
        np.testing.assert_allclose(got, each, rtol=1e-12, atol=0)
        assert got.shape == (len(cdnow),) and np.all(got >= 0)


def test_probability_alive_matches_lifetimes_and_is_one_without_repeats(
    bgnbd: clv.BetaGeoFit, oracle_bgnbd: BetaGeoFitter, cdnow: pd.DataFrame
) -> None:
    got = clv.conditional_probability_alive(bgnbd, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    expected = oracle_bgnbd.conditional_probability_alive(
        cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert np.all(got[cdnow["frequency"].to_numpy() == 0] == 1.0)
    assert np.all((got > 0) & (got <= 1))


def test_expected_average_profit_matches_lifetimes(
    gamma_gamma: clv.GammaGammaFit, oracle_gamma_gamma: GammaGammaFitter, cdnow: pd.DataFrame
) -> None:
    got = clv.conditional_expected_average_profit(
        gamma_gamma, cdnow["frequency"], cdnow["monetary_value"]
    )
    expected = oracle_gamma_gamma.conditional_expected_average_profit(
        cdnow["frequency"], cdnow["monetary_value"]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_customers_without_repeats_get_the_population_mean_spend(
    gamma_gamma: clv.GammaGammaFit,
) -> None:
    population_mean = gamma_gamma.v * gamma_gamma.p / (gamma_gamma.q - 1)
    got = clv.conditional_expected_average_profit(gamma_gamma, [0, 0], [np.nan, 123.0])
    np.testing.assert_allclose(got, [population_mean, population_mean])


@pytest.mark.parametrize("discount_rate", [0.0, 0.01, 0.05])
def test_customer_lifetime_value_matches_lifetimes(
    bgnbd: clv.BetaGeoFit,
    gamma_gamma: clv.GammaGammaFit,
    oracle_bgnbd: BetaGeoFitter,
    oracle_gamma_gamma: GammaGammaFitter,
    cdnow: pd.DataFrame,
    discount_rate: float,
) -> None:
    # CDNOW's summary is in weeks, so a month is 4.345 periods.
    got = clv.customer_lifetime_value(
        bgnbd,
        gamma_gamma,
        cdnow["frequency"],
        cdnow["recency"],
        cdnow["T"],
        cdnow["monetary_value"],
        months=12,
        discount_rate=discount_rate,
        unit="W",
    )
    expected = oracle_gamma_gamma.customer_lifetime_value(
        oracle_bgnbd,
        cdnow["frequency"],
        cdnow["recency"],
        cdnow["T"],
        cdnow["monetary_value"],
        time=12,
        discount_rate=discount_rate,
        freq="W",
    )
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-5)


def test_discounting_lowers_lifetime_value(
    bgnbd: clv.BetaGeoFit, gamma_gamma: clv.GammaGammaFit
) -> None:
    args = (bgnbd, gamma_gamma, [3], [20.0], [38.0], [40.0])
    undiscounted = clv.customer_lifetime_value(*args, discount_rate=0.0, unit="W")
    discounted = clv.customer_lifetime_value(*args, discount_rate=0.02, unit="W")
    assert 0 < discounted[0] < undiscounted[0]
    assert clv.customer_lifetime_value(*args, months=0, unit="W")[0] == 0.0


# -- summary builder against lifetimes -----------------------------------------


@pytest.mark.parametrize(
    ("unit", "multiplier"), [("D", 1.0), ("W", 1.0), ("D", 7.0)], ids=["days", "weeks", "7days"]
)
def test_summary_matches_lifetimes_with_a_calibration_end(
    cdnow_transactions: pd.DataFrame, unit: str, multiplier: float
) -> None:
    calibration_end = "1997-09-30"
    oracle = calibration_and_holdout_data(
        cdnow_transactions,
        "customer_id",
        "date",
        calibration_period_end=calibration_end,
        observation_period_end="1998-06-30",
        freq=unit,
        freq_multiplier=multiplier,
        monetary_value_col="dollar_value",
    ).sort_index()
    summary = clv.summary_from_transactions(
        cdnow_transactions["customer_id"].to_numpy(),
        cdnow_transactions["date"].to_numpy(),
        np.datetime64(calibration_end),
        cdnow_transactions["dollar_value"].to_numpy(),
        unit=unit,  # type: ignore[arg-type]
        unit_multiplier=multiplier,
    )
    np.testing.assert_array_equal(summary.customer_idx, oracle.index.to_numpy())
    np.testing.assert_array_equal(summary.frequency, oracle["frequency_cal"])
    np.testing.assert_allclose(summary.recency, oracle["recency_cal"], rtol=1e-12)
    np.testing.assert_allclose(summary.T, oracle["T_cal"], rtol=1e-12)
    np.testing.assert_allclose(summary.monetary_value, oracle["monetary_value_cal"], rtol=1e-9)


@pytest.mark.parametrize("unit", ["D", "W"])
def test_summary_without_amounts_matches_lifetimes_example_data(unit: str) -> None:
    from lifetimes.utils import summary_data_from_transaction_data

    transactions = lifetimes.datasets.load_transaction_data()
    oracle = summary_data_from_transaction_data(
        transactions, "id", "date", observation_period_end="2014-12-31", freq=unit
    ).sort_index()
    summary = clv.summary_from_transactions(
        transactions["id"].to_numpy(),
        pd.to_datetime(transactions["date"]).to_numpy(),
        "2014-12-31",
        unit=unit,  # type: ignore[arg-type]
    )
    np.testing.assert_array_equal(summary.customer_idx, oracle.index.to_numpy())
    np.testing.assert_array_equal(summary.frequency, oracle["frequency"])
    np.testing.assert_array_equal(summary.recency, oracle["recency"])
    np.testing.assert_array_equal(summary.T, oracle["T"])
    assert np.all(summary.monetary_value == 0.0)


def test_same_day_purchases_count_once_and_their_amounts_add_up() -> None:
    summary = clv.summary_from_transactions(
        customer_idx=[7, 7, 7, 7, 3],
        dates=["2024-01-01", "2024-01-05", "2024-01-05", "2024-01-11", "2024-01-10"],
        observation_end="2024-01-31",
        amounts=[100.0, 30.0, 20.0, 70.0, 5.0],
    )
    np.testing.assert_array_equal(summary.customer_idx, [3, 7])
    np.testing.assert_array_equal(summary.frequency, [0, 2])
    np.testing.assert_array_equal(summary.recency, [0, 10])
    np.testing.assert_array_equal(summary.T, [21, 30])
    # Repeat periods spent 50 and 70; the first purchase (100) is excluded.
    np.testing.assert_array_equal(summary.monetary_value, [0, 60])


def test_purchases_after_the_calibration_end_are_ignored() -> None:
    summary = clv.summary_from_transactions(
        [1, 1, 2], ["2024-01-01", "2024-03-01", "2024-03-01"], "2024-01-31", [1.0, 2.0, 3.0]
    )
    np.testing.assert_array_equal(summary.customer_idx, [1])
    np.testing.assert_array_equal(summary.frequency, [0])
    np.testing.assert_array_equal(summary.T, [30])


# -- edge cases stay finite ----------------------------------------------------


def test_predictions_stay_finite_for_extreme_customers(
    bgnbd: clv.BetaGeoFit, gamma_gamma: clv.GammaGammaFit
) -> None:
    frequency = np.array([0, 0, 1, 5000, 5000, 300, 2])
    recency = np.array([0, 0, 1e-9, 1e9, 10.0, 1e6, 1e9])
    age = np.array([0, 1e12, 1e12, 1e9, 1e9, 1e6, 1e12])
    monetary = np.array([0, 0, 0, 1e9, 0.0, 5.0, 0.0])
    for t in (0.0, 1e-6, 52.0, 1e9):
        expected = clv.conditional_expected_number_of_purchases_up_to_time(
            bgnbd, t, frequency, recency, age
        )
        assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    alive = clv.conditional_probability_alive(bgnbd, frequency, recency, age)
    assert np.all(np.isfinite(alive))
    assert alive[0] == alive[1] == 1.0
    assert alive[3] > 0.99 and alive[4] < 1e-6  # steady heavy buyer vs long-silent one
    value = clv.customer_lifetime_value(
        bgnbd, gamma_gamma, frequency, recency, age, monetary, unit="W"
    )
    assert np.all(np.isfinite(value)) and np.all(value >= 0)


def test_expected_purchases_grow_with_the_horizon(bgnbd: clv.BetaGeoFit) -> None:
    horizons = np.array([0.0, 1.0, 10.0, 100.0])
    expected = clv.conditional_expected_number_of_purchases_up_to_time(
        bgnbd, horizons, [2, 2, 2, 2], [30.0] * 4, [38.0] * 4
    )
    assert expected[0] == 0.0
    assert np.all(np.diff(expected) > 0)


def test_fit_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(2024)
    truth, spend_truth = (0.5, 8.0, 0.9, 3.0), (5.0, 4.0, 20.0)
    data = clv.simulate_customers(rng, rng.uniform(20, 80, 40_000), truth, spend_truth)
    model = clv.fit_bgnbd(data.frequency, data.recency, data.T)
    np.testing.assert_allclose(_params(model), truth, rtol=0.15)
    spend = clv.fit_gamma_gamma(data.frequency, data.monetary_value)
    np.testing.assert_allclose([spend.p, spend.q, spend.v], spend_truth, rtol=0.2)


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([], [], [], "empty"),
        ([1, 2], [1], [2, 3], "same length"),
        ([-1], [0], [5], "non-negative whole"),
        ([1.5], [1], [5], "non-negative whole"),
        ([1], [-1], [5], "negative"),
        ([1], [6], [5], "larger than T"),
        ([0], [2], [5], "recency must be 0"),
        ([1], [np.nan], [5], "finite"),
    ],
)
def test_bad_frequency_recency_t_is_rejected(
    frequency: list[float], recency: list[float], T: list[float], message: str
) -> None:
    with pytest.raises(clv.ModelInputError, match=message):
        clv.fit_bgnbd(frequency, recency, T)


def test_bgnbd_needs_a_repeat_customer() -> None:
    with pytest.raises(clv.ModelInputError, match="repeat customer"):
        clv.fit_bgnbd([0, 0, 0], [0, 0, 0], [5, 10, 20])


def test_gamma_gamma_needs_a_repeat_customer_with_spend() -> None:
    with pytest.raises(clv.ModelInputError, match="repeat buyer"):
        clv.fit_gamma_gamma([0, 0, 2], [0.0, 0.0, 0.0])


def test_gamma_gamma_rejects_negative_spend() -> None:
    with pytest.raises(clv.ModelInputError, match="non-negative"):
        clv.fit_gamma_gamma([1, 2], [10.0, -3.0])


def test_gamma_gamma_ignores_zero_spend_repeat_buyers(cdnow: pd.DataFrame) -> None:
    frequency = np.append(cdnow["frequency"].to_numpy(), [3, 4])
    monetary = np.append(cdnow["monetary_value"].to_numpy(), [0.0, 0.0])
    with_zeros = clv.fit_gamma_gamma(frequency, monetary)
    without = clv.fit_gamma_gamma(cdnow["frequency"], cdnow["monetary_value"])
    assert with_zeros.p == pytest.approx(without.p, rel=1e-6)
    assert with_zeros.n_customers == without.n_customers


def test_fit_that_does_not_converge_raises_or_reports() -> None:
    # Identical spends have no variance: the likelihood keeps rising as p, q grow.
    with pytest.raises(clv.ModelFitError, match="did not converge"):
        clv.fit_gamma_gamma([1, 1, 1], [5.0, 5.0, 5.0])
    fit = clv.fit_gamma_gamma([1, 1, 1], [5.0, 5.0, 5.0], raise_on_failure=False)
    assert not fit.converged


def test_infinite_mean_spend_is_refused() -> None:
    model = clv.GammaGammaFit(
        p=2.0, q=0.9, v=10.0, log_likelihood=0.0, n_customers=1, converged=True
    )
    with pytest.raises(clv.ModelFitError, match="q_constraint"):
        clv.conditional_expected_average_profit(model, [1], [10.0])


def test_summary_rejects_a_calibration_end_before_any_purchase() -> None:
    with pytest.raises(clv.ModelInputError, match="before every purchase"):
        clv.summary_from_transactions([1, 2], ["2024-02-01", "2024-03-01"], "2024-01-31")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customer_idx": [], "dates": [], "observation_end": "2024-01-01"}, "non-empty"),
        (
            {
                "customer_idx": [1],
                "dates": ["2024-01-01"],
                "observation_end": "2024-02-01",
                "amounts": [-5.0],
            },
            "negative",
        ),
        (
            {"customer_idx": [1, 2], "dates": ["2024-01-01"], "observation_end": "2024-02-01"},
            "same length",
        ),
        ({"customer_idx": [1], "dates": ["not a date"], "observation_end": "2024-02-01"}, "dates"),
        (
            {"customer_idx": ["a"], "dates": ["2024-01-01"], "observation_end": "2024-02-01"},
            "integers",
        ),
    ],
)
def test_summary_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(clv.ModelInputError, match=message):
        clv.summary_from_transactions(**kwargs)  # type: ignore[arg-type]
