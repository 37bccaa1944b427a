"""Tests for kam.lib.pareto: 80/20 ranking, ABC classes and RFM scores."""

from __future__ import annotations

import numpy as np
import pytest

from kam.lib import pareto


def test_ranking_is_descending_with_ties_broken_by_the_key() -> None:
    values = [10.0, 50.0, 10.0, 30.0, 10.0]
    keys = ["c", "z", "a", "m", "b"]
    np.testing.assert_array_equal(pareto.pareto_rank(values, keys), [1, 3, 2, 4, 0])


def test_ranking_without_a_key_keeps_input_order_for_ties() -> None:
    np.testing.assert_array_equal(pareto.pareto_rank([5, 7, 5, 7]), [1, 3, 0, 2])


def test_shares_and_cumulative_shares_follow_the_ranking() -> None:
    result = pareto.pareto_analysis([20.0, 50.0, 30.0])
    np.testing.assert_array_equal(result.rank, [3, 1, 2])
    np.testing.assert_allclose(result.share, [0.2, 0.5, 0.3])
    np.testing.assert_allclose(result.cumulative_share, [1.0, 0.5, 0.8])
    assert result.total == 100.0


def test_account_that_crosses_the_80_percent_line_is_class_a() -> None:
    # Cumulative: 0.6, 0.9 (crosses 80%: A), 0.96 (crosses 95%: B), 1.0 (C).
    result = pareto.pareto_analysis([60.0, 30.0, 6.0, 4.0])
    np.testing.assert_array_equal(result.abc_class, ["A", "A", "B", "C"])
    assert result.head_count == 2
    assert result.head_account_share == 0.5


def test_account_after_an_exact_80_percent_is_class_b() -> None:
    # The first two reach exactly 80%; float sums of 0.1-steps must not blur that.
    values = [0.7, 0.1, 0.1, 0.05, 0.05]
    np.testing.assert_array_equal(pareto.abc_classify(values), ["A", "A", "B", "B", "C"])
    assert pareto.pareto_analysis(values).head_count == 2


def test_classic_80_20_distribution_puts_a_fifth_of_accounts_in_the_head() -> None:
    values = np.array([16.0] * 20 + [0.25] * 80)  # 20 accounts hold 320 of 340
    result = pareto.pareto_analysis(values)
    assert result.head_count == 17  # 17 * 16 = 272 >= 0.8 * 340 = 272
    assert result.head_account_share == pytest.approx(0.17)
    assert set(result.abc_class[:17]) == {"A"}


def test_thresholds_are_configurable() -> None:
    values = [40.0, 30.0, 20.0, 10.0]
    np.testing.assert_array_equal(
        pareto.abc_classify(values, a_cutoff=0.5, b_cutoff=0.9), ["A", "A", "B", "C"]
    )
    assert pareto.pareto_analysis(values, share=0.5).head_count == 2
    assert pareto.pareto_analysis(values, share=1.0).head_count == 4


def test_negative_values_rank_last_and_hold_no_share() -> None:
    result = pareto.pareto_analysis([-5.0, 0.0, 10.0, -1.0, 30.0])
    np.testing.assert_array_equal(result.order, [4, 2, 1, 3, 0])
    np.testing.assert_allclose(result.share, [0.0, 0.0, 0.25, 0.0, 0.75])
    assert result.total == 40.0
    np.testing.assert_array_equal(result.abc_class, ["C", "C", "A", "C", "A"])


def test_all_zero_values_make_every_account_class_c() -> None:
    result = pareto.pareto_analysis([0.0, 0.0, -3.0])
    np.testing.assert_array_equal(result.abc_class, ["C", "C", "C"])
    np.testing.assert_array_equal(result.share, [0.0, 0.0, 0.0])
    assert result.head_count == 0 and result.head_account_share == 0.0
    assert result.total == 0.0


def test_empty_input_gives_empty_results() -> None:
    result = pareto.pareto_analysis([])
    assert result.order.size == result.abc_class.size == 0
    assert result.head_count == 0 and result.total == 0.0
    assert pareto.rfm_scores([], [], []).recency.size == 0


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ([1.0, np.nan], {}, "finite"),
        ([1.0, np.inf], {}, "finite"),
        ([[1.0]], {}, "1-D"),
        ([1.0], {"a_cutoff": 0.9, "b_cutoff": 0.8}, "cutoffs"),
        ([1.0], {"share": 0.0}, "share"),
        ([1.0, 2.0], {"tie_break": [1]}, "tie_break"),
    ],
)
def test_bad_input_is_rejected(
    values: list[float], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(pareto.RankingInputError, match=message):
        pareto.pareto_analysis(values, **kwargs)  # type: ignore[arg-type]


def test_quintiles_split_distinct_values_into_five_equal_groups() -> None:
    scores = pareto.quintile_scores(np.arange(10.0))
    np.testing.assert_array_equal(scores, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    shuffled = np.random.default_rng(0).permutation(100).astype(float)
    assert np.bincount(pareto.quintile_scores(shuffled))[1:].tolist() == [20] * 5


def test_tied_values_share_one_score_whatever_their_order() -> None:
    values = np.array([3.0, 1.0, 3.0, 3.0, 2.0, 3.0, 5.0])
    scores = pareto.quintile_scores(values)
    assert len(set(scores[values == 3.0])) == 1
    permutation = np.random.default_rng(1).permutation(values.size)
    np.testing.assert_array_equal(pareto.quintile_scores(values[permutation]), scores[permutation])
    np.testing.assert_array_equal(pareto.quintile_scores([7.0, 7.0, 7.0]), [3, 3, 3])


def test_rfm_rewards_recent_frequent_high_spending_accounts() -> None:
    recency_days = [2, 400, 30, 90, 10]
    frequency = [12, 1, 4, 2, 8]
    monetary = [9000.0, 50.0, 800.0, 120.0, 3000.0]
    scores = pareto.rfm_scores(recency_days, frequency, monetary)
    np.testing.assert_array_equal(scores.recency, [5, 1, 3, 2, 4])
    np.testing.assert_array_equal(scores.frequency, [5, 1, 3, 2, 4])
    np.testing.assert_array_equal(scores.monetary, [5, 1, 3, 2, 4])
    assert scores.recency.dtype == np.int8


def test_rfm_rejects_arrays_of_different_length() -> None:
    with pytest.raises(pareto.RankingInputError, match="same length"):
        pareto.rfm_scores([1, 2], [1], [1, 2])
