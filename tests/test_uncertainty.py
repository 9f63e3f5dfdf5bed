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
    # the statement says what the interval leaves out and why the median is not the deterministic figure
    text = a["statement"]
    assert f"({s['median']:.2f})" in text and f"({s['deterministic']:.2f})" in text
    assert f"{(s['median'] - s['deterministic']) / s['deterministic']:+.1%}" in text
    assert "lognormal" in text and "sensitivity" in text


def test_monte_carlo_chunks_are_streams_of_their_own(engine, monkeypatch):
    """Each chunk of samples is drawn from its own stream spawned from the seed: the first samples of a
    run do not depend on how many are asked for, and a chunk is drawn without the ones before it (what
    lets a Dask worker draw its chunk from the seed and the chunk's number alone)."""
    from lca_battery import montecarlo as mc
    monkeypatch.setattr(mc, "CHUNK", 16)
    a = uncertainty(EXAMPLE, engine=engine, samples=40, seed=3)["samples"]
    b = uncertainty(EXAMPLE, engine=engine, samples=23, seed=3)["samples"]
    assert a[:23] == b                                   # chunks 0 and 1 (its 7 first samples) the same
    z2 = mc.chunk_draws(3, 2, (8, 5))
    assert np.array_equal(z2, mc.chunk_draws(3, 2, (8, 5)))
    assert not np.allclose(z2, mc.chunk_draws(3, 1, (8, 5)))      # chunks differ
    assert not np.allclose(z2, mc.chunk_draws(4, 2, (8, 5)))      # seeds differ
    ref = np.random.SeedSequence(3).spawn(3)[2]                   # numpy's parallel streams, as documented
    assert np.array_equal(z2, np.random.default_rng(ref).standard_normal((8, 5)))


def test_fast_monte_carlo_exact_per_sample_and_at_zero_noise(engine):
    """The vectorised solve equals SciPy's SuperLU on the same sampled matrices, and bw2calc at zero noise."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla
    from lca_battery import montecarlo as mc
    from lca_battery.api import prepare_mapping
    from lca_battery.compiled import CompiledModel
    from lca_battery.model.superstructure import ROOT
    for ov in ({}, {"plant.country": "SE"}):
        st, mapping, eng = prepare_mapping(EXAMPLE, ov, engine)
        det = eng.solve(mapping.entries, st.method).total
        model = CompiledModel.from_engine(eng)
        ex = mc.exchanges(eng, model)
        cells = mc.study_cells(model, mapping.entries)
        cf = model.cf[(st.method, "total")]
        S = mc.Sampler(model, ex, [cells], cf, model.cols[ROOT])
        assert S.scores(np.zeros((1, ex.n_uncertain)))[0] == pytest.approx(det, rel=1e-9)
        tv, bv = S.values(next(S.draws(5, 3)))
        fast = mc.solve_values(S, tv, bv, 0)
        for k in range(3):
            A = sp.coo_matrix((np.where(ex.t_flip, -tv[:, k], tv[:, k]), (ex.t_row, ex.t_col)), shape=model.A.shape).tolil()
            for r, c, v in zip(*cells[:3]):
                A[r, c] = v
            B = sp.coo_matrix((bv[:, k], (ex.b_row, ex.b_col)), shape=model.B.shape).tolil()
            for r, c, v in zip(*cells[3:]):
                B[r, c] = v
            f = np.zeros(model.A.shape[0])
            f[model.cols[ROOT]] = 1.0
            ref = cf @ (B.tocsr() @ spla.splu(A.tocsc()).solve(f))
            assert fast[k] == pytest.approx(ref, rel=1e-9)
            assert fast[k] != pytest.approx(det, rel=1e-6)      # really sampled


def test_fast_monte_carlo_matches_bw2calc_statistically(engine):
    fast = uncertainty(EXAMPLE, engine=engine, samples=2000, seed=11)
    # 1,000 bw2calc draws: the 2.5 and 97.5 % points of 400 right-skewed draws moved by 0.65 SD between inventory
    # versions (sampling noise, only 10 draws above the upper one)
    slow = uncertainty(EXAMPLE, engine=engine, samples=1000, seed=11, fast=False)
    assert fast["solver"] != slow["solver"]
    f, s = fast["kg_co2e_per_kwh"], slow["kg_co2e_per_kwh"]
    assert f["deterministic"] == s["deterministic"]
    assert abs(f["median"] - s["median"]) < 0.25 * s["sd"]
    assert abs(f["mean"] - s["mean"]) < 0.25 * s["sd"]
    # the spread as the 5-95 % range: the SD of a few hundred right-skewed samples moves by 25 % between seeds
    assert 0.8 < (f["p95"] - f["p5"]) / (s["p95"] - s["p5"]) < 1.25
    assert abs(f["p97_5"] - s["p97_5"]) < 0.6 * s["sd"] and abs(f["p2_5"] - s["p2_5"]) < 0.6 * s["sd"]
    # same seed, same numbers; a prefix of a longer run is the shorter run
    assert uncertainty(EXAMPLE, engine=engine, samples=50, seed=11)["samples"] == fast["samples"][:50]


def test_paired_monte_carlo(engine):
    r = uncertainty(EXAMPLE, engine=engine, samples=500, seed=2, paired_with=EXAMPLE,
                    paired_overrides={"plant.country": "SE"})
    p = r["paired"]
    alone = uncertainty(EXAMPLE, {"plant.country": "SE"}, engine=engine, samples=500, seed=2)
    assert p["samples"] == alone["samples"]                  # the same draws as a run of its own
    assert r["samples"] == uncertainty(EXAMPLE, engine=engine, samples=500, seed=2)["samples"]
    d = p["difference"]
    assert d["deterministic"] == pytest.approx(r["kg_co2e_per_kwh"]["deterministic"]
                                               - p["kg_co2e_per_kwh"]["deterministic"], rel=1e-12)
    # paired draws: the difference is far narrower than the spread of either study
    assert d["sd"] < 0.5 * r["kg_co2e_per_kwh"]["sd"]
    assert p["share_lower"] == 0.0 and d["p2_5"] > 0        # a Chinese grid plant is above a Swedish one


def test_paired_scenarios_share_the_draws(engine, tmp_path, capsys):
    """Scenarios sampled beside the study with the same draws (paired Monte Carlo over a grid): each scenario's
    samples are the samples of that scenario run alone with the same seed, its difference to the study has its own
    distribution, and the command writes them per scenario and per sample."""
    import numpy as np
    from lca_battery.api import uncertainty
    from lca_battery.cli import main
    scs = [{"plant.country": "SE"}, {"plant.country": "PL"}]
    r = uncertainty(EXAMPLE, engine=engine, samples=400, seed=9, scenarios=scs)
    alone = uncertainty(EXAMPLE, ["plant.country=SE"], engine=engine, samples=400, seed=9)
    assert r["scenario_samples"][0] == alone["samples"]
    se = r["scenarios"][0]
    diff = np.array(r["scenario_samples"][0]) - np.array(r["samples"])
    assert se["difference"]["median"] == pytest.approx(float(np.median(diff)))
    assert se["share_lower"] == 1.0 and se["values"] == {"plant.country": "SE"}   # Swedish power: lower in every draw
    assert se["difference"]["sd"] < r["kg_co2e_per_kwh"]["sd"] / 2                  # paired: far narrower
    code = main(["uncertainty", str(EXAMPLE), "--samples", "300", "--paired-grid", "plant.country=SE,PL",
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "paired scenarios" in out and "P(S < A)" in out
    folder = next(tmp_path.iterdir())
    rows = (folder / "scenarios.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("scenario,plant.country,") and rows[1].startswith("scenario_1,SE,")
    assert "scenario_2_kg_co2e_per_kwh" in (folder / "samples.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    code = main(["uncertainty", str(EXAMPLE), "--samples", "300", "--paired-grid", "plant.countri=SE",
                 "--no-write"])
    err = capsys.readouterr().err
    assert code == 2 and "plant.countri" in err and "--paired-grid" in err and "Traceback" not in err
