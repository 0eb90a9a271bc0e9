"""bot/text.py: whole numbers as people and addresses write them."""

import pytest

from bot.text import whole_number


@pytest.mark.parametrize(("raw", "expected"), [("42", 42), (" 7 ", 7), ("0", 0), ("007", 7), ("", None), (None, None),
                                               ("²", None), ("1²", None), ("٣", None), ("-1", None), ("1e3", None),
                                               ("3.0", None), ("1" * 19, None)])
def test_whole_numbers_are_ascii_digits_only(raw, expected):
    assert whole_number(raw) == expected


def test_a_limit_on_digits():
    assert whole_number("123456", 5) is None and whole_number("12345", 5) == 12345
