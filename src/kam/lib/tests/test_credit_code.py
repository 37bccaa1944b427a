import pytest

from kam.lib import credit_code

# A published example code (国家税务总局 sample) with a valid check character.
VALID = "91350100M000100Y43"


def test_valid_code_is_accepted_and_normalized():
    assert credit_code.validate(" " + VALID.lower() + " ") == VALID


def test_check_character_is_computed_from_the_first_17():
    assert credit_code.check_character(VALID[:17]) == VALID[17]


def test_wrong_check_character_is_named():
    wrong = VALID[:17] + ("0" if VALID[17] != "0" else "1")
    with pytest.raises(credit_code.CreditCodeError, match="check character"):
        credit_code.validate(wrong)


def test_wrong_length_is_named():
    with pytest.raises(credit_code.CreditCodeError, match="18 characters, not 17"):
        credit_code.validate(VALID[:17])


def test_letters_outside_the_alphabet_are_rejected():
    with pytest.raises(credit_code.CreditCodeError, match="not allowed.*I"):
        credit_code.validate("91350100I000100Y43")
