"""Our PSIS equals ArviZ's psislw (the reference implementation)."""

from __future__ import annotations

import numpy as np
import pytest
from arviz_stats.base import array_stats

from forecast.psis import psislw


@pytest.mark.parametrize(("scale", "n"), [(0.3, 4000), (1.0, 6000), (2.5, 2000), (4.0, 500)])
def test_matches_arviz(scale, n):
    rng = np.random.default_rng(int(scale * 10) + n)
    log_ratio = rng.normal(0, scale, size=n) + rng.standard_t(3, size=n) * scale / 3
    ours, k_ours = psislw(log_ratio)
    ref, k_ref = array_stats.psislw(-log_ratio)  # ArviZ smooths exp(-ary)
    ref = ref - np.logaddexp.reduce(ref)
    assert k_ours == pytest.approx(float(k_ref), abs=1e-10)
    np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_heavy_tail_is_flagged():
    rng = np.random.default_rng(0)
    _, khat = psislw(rng.normal(0, 4, size=4000))  # log-normal weights, sigma 4
    assert khat > 0.7


def test_weights_are_normalised():
    rng = np.random.default_rng(1)
    lw, _ = psislw(rng.normal(size=1000))
    assert np.exp(lw).sum() == pytest.approx(1.0)
