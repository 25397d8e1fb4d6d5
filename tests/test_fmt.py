"""forecast.fmt: numbers and words as a reader sees them."""

from __future__ import annotations

import pytest

from forecast.fmt import counted, estimative_word, pct, pp


def test_probabilities_printed_alike_get_the_same_word():
    """The old rule classified the unrounded mean: 0.449 read "unlikely" and 0.4504
    "roughly even chance", both printed as 45% in one scenario chart."""
    for a, b in ((0.449, 0.4504), (0.5496, 0.5504), (0.7951, 0.8049)):
        assert pct(a) == pct(b)
        assert estimative_word(a) == estimative_word(b), (a, b)
    assert estimative_word(0.456) == "roughly even chance"
    assert estimative_word(0.62) == "likely" and estimative_word(0.001) == "almost no chance"
    with pytest.raises(ValueError, match="not a probability"):
        estimative_word(1.2)


def test_counted_words_and_signed_points():
    assert counted(1, "issued forecast") == "1 issued forecast"
    assert counted(2, "issued forecast") == "2 issued forecasts"
    assert counted(1_200, "case-year") == "1,200 case-years"
    assert pp(-0.2, digits=0) == "0 pp" and pp(3.04) == "+3.0 pp"
