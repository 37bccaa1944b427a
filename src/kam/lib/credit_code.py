"""Unified social credit code (统一社会信用代码, GB 32100-2015): check character and validation."""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


class CreditCodeError(ValueError):
    """The text is not a valid unified social credit code."""


def check_character(first17: str) -> str:
    """The 18th character for the first 17 characters of a code."""
    total = sum(
        ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True)
    )
    return ALPHABET[(31 - total % 31) % 31]


def normalize(code: str) -> str:
    return code.strip().upper()


def validate(code: str) -> str:
    """Return the normalized code, or raise CreditCodeError saying what is wrong."""
    value = normalize(code)
    if len(value) != LENGTH:
        raise CreditCodeError(f"must be {LENGTH} characters, not {len(value)}")
    bad = sorted({char for char in value if char not in ALPHABET})
    if bad:
        raise CreditCodeError(f"contains characters not allowed in a credit code: {''.join(bad)}")
    expected = check_character(value[:17])
    if value[17] != expected:
        raise CreditCodeError(f"check character is {value[17]}, expected {expected}")
    return value
