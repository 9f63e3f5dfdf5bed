"""Sizes up to which ``lca-battery verify`` re-runs a report's sampled results (a module without imports:
the CLI builds its help from them at start-up)."""

#: a report's Monte Carlo is re-run by ``verify`` up to this many samples (vectorised: ~10,000 a second)
MAX_RECOMPUTE_SAMPLES = 50_000
#: model runs per unit of the Sobol' base sample N at most: D + 2 for the D = 7 parameters of a cell holding nickel
#: (Saltelli's scheme without second-order indices, lca_battery.analysis.sensitivity); a cell that takes fewer runs fewer
SOBOL_RUNS_PER_N = 9
#: a report's Sobol' indices are re-run by ``verify`` up to this many model runs (9 N; one scenario table through
#: the sweep engine, ~190 a second on 2 cores: about 90 s at the limit; 4,096 when each run was a solve of its own)
MAX_RECOMPUTE_SOBOL_RUNS = 16384

#: Upper bounds of the run sizes, refused up front by the CLI and the API (a larger run would exhaust memory or run
#: for hours): Monte Carlo samples (each sample's total, stages and gases are kept and written to samples.csv), the
#: Sobol' base sample (up to 9 N runs: 589,824 at the bound, about 50 min on 2 cores at the measured 16,384 runs
#: in 87 s) and the points of a recycled-content curve (one solve each per metal and rule).
MAX_SAMPLES = 10_000_000
MAX_SOBOL_N = 65_536
MAX_STEPS = 1_001


def count_problem(value: int, minimum: int, maximum: int | None = None, why: str = "",
                  power_of_two: bool = False) -> str | None:
    """What is wrong with the whole number ``value`` as a run size (at least ``minimum``, at most ``maximum``, with
    ``why`` saying what the bound is for; ``power_of_two``: 0 or a power of 2), or None: the one wording of the
    command line's options and of the API's arguments."""
    if value < minimum:
        return f"must be at least {minimum} (got {value})"
    if maximum is not None and value > maximum:
        return f"must be at most {maximum:,} (got {value:,}){why}"
    if power_of_two and value and value & (value - 1):
        lower = 1 << (value.bit_length() - 1)
        return f"must be 0 or a power of 2 (got {value}; e.g. {lower} or {lower * 2})"
    return None
