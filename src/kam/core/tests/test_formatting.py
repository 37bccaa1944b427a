from decimal import Decimal

from django.utils import translation

from kam.core.templatetags.kam_format import money


def test_money_groups_thousands_in_chinese_and_english():
    with translation.override("zh-hans"):
        assert money(Decimal("1234567.891")) == "¥1,234,567.89"
    with translation.override("en"):
        assert money(Decimal("-1234.5")) == "-¥1,234.50"


def test_missing_or_broken_amounts_show_a_dash_never_nan():
    assert money(None) == "—"
    assert money(float("nan")) == "—"
    assert money("abc") == "—"


def test_whole_yuan_when_asked():
    with translation.override("zh-hans"):
        assert money(Decimal("20366743.4"), 0) == "¥20,366,743"
