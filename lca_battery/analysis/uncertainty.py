"""Monte Carlo from data quality: PEF scores -> pedigree factors -> lognormal exchanges.

Each exchange of a dataset gets a lognormal distribution around its deterministic amount
(median = amount; the sign is kept with ``negative``), with

    sigma = 1/2 * sqrt( ln(U_basic)^2 + sum_i ln(U_i)^2 )

where the U_i are the pedigree uncertainty factors (contributions to GSD^2) of the dataset's
scores: PEF precision P -> reliability, TiR -> temporal, GeR -> geographical, TeR -> further
technological correlation (factors of Ciroth et al. 2016, the ecoinvent v3 set; completeness is
not scored by PEF and counts as 1.0); U_basic = 1.05 (Frischknecht et al. 2007). The study's own
choices (shares, BOM, plant energy, recycled content) are decisions, not measurements: they stay
fixed. Characterization factors are fixed too. Samples are drawn by bw2calc (stats_arrays) with
a seed, so a run is reproducible.
"""
from __future__ import annotations

import math

import numpy as np

#: Ciroth et al. 2016 (ecoinvent v3) pedigree uncertainty factors, scores 1..5
PEDIGREE = {
    "reliability": (1.0, 1.54, 1.61, 1.69, 1.69),
    "temporal correlation": (1.0, 1.03, 1.10, 1.19, 1.29),
    "geographical correlation": (1.0, 1.04, 1.08, 1.11, 1.11),
    "further technological correlation": (1.0, 1.18, 1.65, 2.08, 2.80),
}
PEF_TO_PEDIGREE = {"P": "reliability", "TiR": "temporal correlation", "GeR": "geographical correlation",
                   "TeR": "further technological correlation"}
BASIC_UNCERTAINTY = 1.05
SOURCES = ("ciroth2016_pedigree", "frischknecht2007_basic_uncertainty")


def sigma(dqr: dict[str, float]) -> float:
    """Standard deviation of ln(amount) for a dataset with PEF scores ``dqr`` (1..5, may be fractional)."""
    total = math.log(BASIC_UNCERTAINTY) ** 2
    for key, indicator in PEF_TO_PEDIGREE.items():
        score = min(5.0, max(1.0, float(dqr[key])))
        lo, frac = int(math.floor(score)), score - math.floor(score)
        factors = PEDIGREE[indicator]
        u = factors[lo - 1] if frac == 0 else factors[lo - 1] * (1 - frac) + factors[min(lo, 4)] * frac
        total += math.log(u) ** 2
    return 0.5 * math.sqrt(total)


def summary(samples: np.ndarray, deterministic: float) -> dict:
    s = np.sort(np.asarray(samples, dtype=float))
    return {"deterministic": deterministic, "mean": float(s.mean()), "median": float(np.median(s)),
            "sd": float(s.std(ddof=1)) if len(s) > 1 else 0.0,
            "cv": float(s.std(ddof=1) / s.mean()) if len(s) > 1 and s.mean() else 0.0,
            "p2_5": float(np.percentile(s, 2.5)), "p97_5": float(np.percentile(s, 97.5)),
            "p5": float(np.percentile(s, 5)), "p95": float(np.percentile(s, 95)), "n": int(len(s))}
