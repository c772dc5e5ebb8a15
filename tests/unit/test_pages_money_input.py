"""Yuan typed into a page (search prices, a listing's price and tiers) are read in one place, and no text a person
can type there reaches the API as a number it did not mean, nor fails the page."""
import pytest

from web.pages.common import fen


@pytest.mark.parametrize("typed, expected", [
    ("15", 1500), ("3.50", 350), (" 3.5 ", 350), ("0", 0), ("0.01", 1),
])
def test_yuan_as_people_write_them_are_read_in_fen(typed, expected):
    assert fen(typed) == expected


@pytest.mark.parametrize("typed", ["", "fifteen", "十五", "-1", "nan", "inf", "-inf", "1e999", "Infinity", "1,5"])
def test_words_negative_amounts_and_numbers_that_are_no_amount_are_refused(typed):
    assert fen(typed) is None
