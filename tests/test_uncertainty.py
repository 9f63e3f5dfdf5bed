"""Monte Carlo from data quality: reproducible, sign-preserving, around the deterministic value."""
import numpy as np
import pytest

from conftest import EXAMPLE
from lca_battery.analysis.uncertainty import sigma
from lca_battery.api import uncertainty


def test_sigma_from_pef_scores():
    # all scores 1: only the basic uncertainty 1.05 remains: sigma = ln(1.05) / 2
    assert sigma({"TeR": 1, "GeR": 1, "TiR": 1, "P": 1}) == pytest.approx(np.log(1.05) / 2, rel=1e-12)
    worse = sigma({"TeR": 4, "GeR": 4, "TiR": 4, "P": 4})
    assert worse > sigma({"TeR": 2, "GeR": 2, "TiR": 2, "P": 2}) > 0


def test_credits_keep_their_sign_when_sampled():
    import stats_arrays as sa
    from lca_battery.bw.matrices import lognormal_distributions
    dist = lognormal_distributions(np.array([-2.0, 3.0, 0.0]), np.array([0.3, 0.3, 0.3]))
    assert list(dist["uncertainty_type"]) == [2, 2, 0] and list(dist["negative"]) == [True, False, False]
    rng = sa.MCRandomNumberGenerator(dist[:2], seed=7)
    draws = np.array([next(rng) for _ in range(500)])
    assert (draws[:, 0] < 0).all() and (draws[:, 1] > 0).all()
    assert np.median(draws[:, 0]) == pytest.approx(-2.0, rel=0.1)


def test_monte_carlo_reproducible_and_around_deterministic(engine):
    a = uncertainty(EXAMPLE, engine=engine, samples=40, seed=3)
    b = uncertainty(EXAMPLE, engine=engine, samples=40, seed=3)
    assert a["samples"] == b["samples"]
    s = a["kg_co2e_per_kwh"]
    assert s["p2_5"] < s["deterministic"] < s["p97_5"]
    assert 0.02 < s["cv"] < 0.6
    c = uncertainty(EXAMPLE, engine=engine, samples=40, seed=4)
    assert c["samples"] != a["samples"]
