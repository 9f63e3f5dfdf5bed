"""Sensitivity of a study's footprint: one-at-a-time ranges (tornado) and Sobol indices (SALib).

One-at-a-time (OAT). Each row changes one choice of the study (or one coherent group of
fields, e.g. the three Art. 8 recycled-content minimums) to a low and a high value. A bar is
exactly one ``lca-battery footprint STUDY --set KEY=VALUE ...`` run: the ``set`` lists in the
result are the ``--set`` arguments that reproduce it (a test checks this). Rows on recycling
(route, CFF A, R2) are run at the 2036 recycled-content minimums or with end-of-life collection,
since with no recycled content and no collection they have no effect; the row says so.

Ranges and why:

* plant electricity: the study's cell-plant electricity x 0.5 and x 1.5 (heat kept), the spread
  of published cell-plant energy figures around the profile in use (Degen & Schuette 2022 report
  a factor of about two between plants); an assumption of this engine, stated as such;
* plant grid: the national mix replaced by the Swedish and the Polish mix (the lowest- and
  highest-carbon European grids of the embedded Ember factors);
* graphite route: all natural / all synthetic (the default is a market mix);
* cobalt allocation: mass instead of economic allocation of the Cu-Co mine (ISO 14044 4.3.4.2);
* nickel origin (cells holding nickel): all class-1 nickel / all Indonesian RKEF nickel converted to matte (the
  ends of the origin routes; the default is a cited feed mix);
* RKEF smelter power (cells holding nickel): the Indonesian smelter's electricity from hydropower (as at the
  one producer whose site figures the route carries, Vale Indonesia) instead of captive coal power (the default),
  i.e. what a cleaner-powered nickel supplier changes;
* cathode active material and synthetic graphite plant grid: the supplier's site on the Swedish and Polish
  mixes (``suppliers.<id>.location``), i.e. what a greener cathode or anode supplier changes;
* recycled content R1: the Art. 8 minimums of 2031 and 2036 (post-consumer Co, Ni, Li);
* recycling route, CFF A, R2: see above;
* cycles and service life change only the declared unit of the regulation (kWh over the
  service life, E_total): they are a separate table on that figure.

Sobol. A variance-based global sensitivity over the continuous parameters (plant electricity,
natural-graphite share, for a cell holding nickel the Indonesian RKEF matte share of its nickel feed against
HPAL MHP (0-1; the default feed is 43 %), economic share of the cobalt allocation, recycled content of Co, Ni
and Li), each uniform over the OAT range: Saltelli/Sobol' sampling and first-order and total indices
by SALib (Herman & Usher 2017; Saltelli et al. 2010), with the sample size and seed stated.
"""
from __future__ import annotations

from ..model.recycling import EU_MINIMUM_RECYCLED_CONTENT

#: the Indonesian RKEF-to-matte step, whose captive coal power a study can move to a grid
RKEF_SMELTER = "nickel_matte_from_npi_id"
MIN_2031 = EU_MINIMUM_RECYCLED_CONTENT[2031]
MIN_2036 = EU_MINIMUM_RECYCLED_CONTENT[2036]


def _content(mins: dict) -> dict:
    """Recycled content of each metal as the whole entry of that metal (a study's own {total: x} or pre/post split
    is replaced, not merged with: a post_consumer beside a given total would contradict it)."""
    return {f"recycling.recycled_content.{m}": {"post_consumer": v} for m, v in sorted(mins.items())}


def _fmt_set(key: str, value) -> str:
    if isinstance(value, dict):
        return f"{key}={{" + ", ".join(f"{k}: {v!r}" for k, v in value.items()) + "}"
    return f"{key}={value}"


def oat_cases(base_result: dict) -> list[dict]:
    """The one-at-a-time rows for a study whose base footprint is ``base_result``."""
    energy = base_result["plant"].get("energy") or {}
    el = base_result["plant"]["electricity_kwh_per_kwh"]
    lo_el, hi_el = float(f"{el * 0.5:.6g}"), float(f"{el * 1.5:.6g}")   # short --set values, run as written
    heat = energy.get("heat_mj_per_kwh", 0.0)
    plant = {"plant.heat_mj_per_kwh_cell": heat}
    reason = "recycling.cff.reason=sensitivity run of the CFF allocation factor A (EF range 0.2-0.8)"
    cff_key, cff_reason = reason.split("=", 1)
    cam = f"cam_{str(base_result.get('chemistry', '')).lower()}"     # a chemistry without a site switch: not applicable
    nickel = []
    if (base_result.get("element_kg_per_kwh") or {}).get("Ni", 0.0) > 0:
        nickel = [
            {"parameter": "nickel origin", "low_label": "all class-1", "high_label": "all Indonesian RKEF matte",
             "low": {"supply.nickel": "class1"}, "high": {"supply.nickel": "npi_matte_id"},
             "why": "ends of the nickel origin routes (the default is China's cited NiSO4 feed mix)"},
            {"parameter": "RKEF smelter power (Indonesia)", "low_label": "hydropower (as at Vale Indonesia)",
             "high_label": "captive coal (default)",
             "low": {f"suppliers.{RKEF_SMELTER}.power": "hydro"}, "high": {},
             "why": "the Indonesian smelter's own power: hydropower (Vale Indonesia's) or captive coal (the parks')"},
        ]
    return nickel + [
        {"parameter": "plant electricity (kWh per kWh cell)", "low_label": f"{lo_el:.3g} (x0.5)",
         "high_label": f"{hi_el:.3g} (x1.5)",
         "low": {**plant, "plant.electricity_kwh_per_kwh_cell": lo_el},
         "high": {**plant, "plant.electricity_kwh_per_kwh_cell": hi_el},
         "why": "spread of published cell-plant energy around the profile in use (assumption, heat kept)"},
        {"parameter": "plant grid", "low_label": "Swedish mix (SE)", "high_label": "Polish mix (PL)",
         "low": {"plant.electricity.mix": {"grid_SE": 1}}, "high": {"plant.electricity.mix": {"grid_PL": 1}},
         "why": "lowest- and highest-carbon European grids of the embedded Ember factors"},
        {"parameter": "cathode active material plant grid", "low_label": "Swedish mix (SE)",
         "high_label": "Polish mix (PL)", "low": {f"suppliers.{cam}.location": "SE"},
         "high": {f"suppliers.{cam}.location": "PL"},
         "why": "a cathode supplier's site: its calcination and route electricity on another grid (same grids as "
                "the plant row)"},
        {"parameter": "synthetic graphite plant grid", "low_label": "Swedish mix (SE)", "high_label": "Polish mix (PL)",
         "low": {"suppliers.graphite_synthetic.location": "SE"}, "high": {"suppliers.graphite_synthetic.location": "PL"},
         "why": "an anode supplier's site: graphitisation and milling electricity on another grid (same grids as "
                "the plant row)"},
        {"parameter": "graphite route", "low_label": "all natural", "high_label": "all synthetic",
         "low": {"supply.graphite": "natural"}, "high": {"supply.graphite": "synthetic"},
         "why": "ends of the market mix"},
        {"parameter": "cobalt allocation (Cu-Co mine)", "low_label": "economic", "high_label": "mass",
         "low": {"allocation.cobalt": "economic"}, "high": {"allocation.cobalt": "mass"},
         "why": "ISO 14044 4.3.4.2: physical versus economic basis"},
        {"parameter": "recycled content R1 (Co, Ni, Li post-consumer)", "low_label": "2036 minimums",
         "high_label": "2031 minimums", "low": _content(MIN_2036), "high": _content(MIN_2031),
         "why": "Regulation (EU) 2023/1542 Art. 8 minimums"},
        {"parameter": "recycling route (at 2036 R1)", "low_label": "hydro_nmc", "high_label": "pyro_nmc",
         "low": {**_content(MIN_2036), "recycling.route": "hydro_nmc"},
         "high": {**_content(MIN_2036), "recycling.route": "pyro_nmc"},
         "why": "route of the recycled salts; no effect without recycled content"},
        {"parameter": "CFF allocation factor A (at 2036 R1)", "low_label": "A = 0.2", "high_label": "A = 0.8",
         "low": {**_content(MIN_2036), "recycling.accounting": "cff", cff_key: cff_reason,
                 **{f"recycling.cff.A.{m}": 0.2 for m in sorted(MIN_2036)}},
         "high": {**_content(MIN_2036), "recycling.accounting": "cff", cff_key: cff_reason,
                  **{f"recycling.cff.A.{m}": 0.8 for m in sorted(MIN_2036)}},
         "why": "EF method: 0.2 (low offer of recycled metal) to 0.8 (high offer)"},
        {"parameter": "end-of-life recycling R2 (CFF, A = 0.2)", "low_label": "90 % collected",
         "high_label": "0 % collected",
         "low": {"recycling.accounting": "cff", "recycling.eol_collection_rate": 0.9},
         "high": {"recycling.accounting": "cff", "recycling.eol_collection_rate": 0.0},
         "why": "credit for recycling at end of life (CFF); excluded from the cradle-to-gate figure"},
    ]


def as_set_args(values: dict) -> list[str]:
    """``--set`` arguments reproducing a run."""
    return [_fmt_set(k, v) for k, v in values.items()]


def one_at_a_time(total, overrides: dict, base_result: dict) -> dict:
    """Tornado rows: base, low and high kg CO2e/kWh, swing, the ``--set`` arguments of each end.

    ``total(overrides)`` is the study's kg CO2e/kWh with those overrides (the caller's solver: this module
    does not reach up into the API)."""
    from ..errors import LcaBatteryError
    base = base_result["kg_co2e_per_kwh"]
    rows, skipped = [], []
    for case in oat_cases(base_result):
        try:
            lo = total({**overrides, **case["low"]})
            hi = total({**overrides, **case["high"]})
        except LcaBatteryError as exc:
            skipped.append({"parameter": case["parameter"], "reason": str(exc)})
            continue
        rows.append({"parameter": case["parameter"], "low_label": case["low_label"], "high_label": case["high_label"],
                     "low": lo, "high": hi, "base": base, "swing": abs(hi - lo),
                     "low_change": lo / base - 1 if base else 0.0, "high_change": hi / base - 1 if base else 0.0,
                     "low_set": as_set_args(case["low"]), "high_set": as_set_args(case["high"]), "why": case["why"]})
    rows.sort(key=lambda r: -r["swing"])
    return {"base": base, "rows": rows, "not_applicable": skipped}


def service_life(st, base_result: dict) -> dict:
    """kg CO2e per kWh of E_total (the regulation's declared unit) over cycles and service life, for the parsed
    study ``st``.

    The study's own values are the base when it states them; otherwise the draft delegated act's
    M1 default of 60 cycles a year and 10 years (an assumption of this table only)."""
    from ..report.declaration import lifetime_energy
    life = lifetime_energy(st, base_result["cell"]["energy_kwh"])
    cycles = life["cycles_per_year"] if life else 60
    years = life["service_life_years"] if life else 10
    usable = st.declaration.usable_capacity_share
    per_cell = base_result["kg_co2e_per_cell"]
    kwh = base_result["cell"]["energy_kwh"]
    rows = []
    for c in sorted({cycles * 0.5, cycles, cycles * 1.5}):
        for y in sorted({years * 0.8, years, years * 1.2}):
            rows.append({"cycles_per_year": c, "service_life_years": y,
                         "kg_co2e_per_kwh_e_total": per_cell / (kwh * usable * c * y),
                         "set": as_set_args({"declaration.cycles_per_year": c, "declaration.service_life_years": y,
                                             "declaration.justification": "sensitivity"})})
    return {"base_cycles_per_year": cycles, "base_service_life_years": years, "usable_capacity_share": usable,
            "assumed": life is None, "rows": rows}


#: Sobol parameters: name, --set key builder, range builder (from the base result)
def sobol_problem(base_result: dict) -> list[dict]:
    el = base_result["plant"]["electricity_kwh_per_kwh"]
    nickel = [{"name": "Indonesian RKEF matte share of the nickel feed (rest HPAL MHP)", "bounds": [0.0, 1.0],
               "kind": "nickel"}] if (base_result.get("element_kg_per_kwh") or {}).get("Ni", 0.0) > 0 else []
    return [
        {"name": "plant electricity (kWh/kWh)", "bounds": [el * 0.5, el * 1.5], "kind": "plant_electricity"},
        {"name": "natural graphite share", "bounds": [0.0, 1.0], "kind": "graphite"},
        *nickel,
        {"name": "economic share of cobalt allocation", "bounds": [0.0, 1.0], "kind": "cobalt"},
        {"name": "recycled Co (post-consumer)", "bounds": [0.0, MIN_2036["Co"]], "kind": "R1:Co"},
        {"name": "recycled Ni (post-consumer)", "bounds": [0.0, MIN_2036["Ni"]], "kind": "R1:Ni"},
        {"name": "recycled Li (post-consumer)", "bounds": [0.0, MIN_2036["Li"]], "kind": "R1:Li"},
    ]



def _sobol_overrides(params: list[dict], x, heat: float) -> dict:
    ov = {}
    for p, v in zip(params, x):
        v = float(v)
        if p["kind"] == "plant_electricity":
            ov["plant.electricity_kwh_per_kwh_cell"] = v
            ov["plant.heat_mj_per_kwh_cell"] = heat
        elif p["kind"] == "graphite":
            ov["supply.graphite"] = {"natural": v, "synthetic": 1.0 - v}
        elif p["kind"] == "cobalt":
            ov["allocation.cobalt"] = {"economic": v, "mass": 1.0 - v}
        elif p["kind"] == "nickel":
            ov["supply.nickel"] = {"npi_matte_id": v, "hpal_mhp": 1.0 - v}
        else:
            ov.update(_content({p["kind"][3:]: v}))
    return ov


def sobol(total, overrides: dict, base_result: dict, n: int = 64, seed: int = 42,
          progress=None, totals=None) -> dict:
    """First-order (S1) and total (ST) Sobol indices of kg CO2e/kWh, with 95 % confidence halves.

    ``total(overrides)`` as for :func:`one_at_a_time`; ``totals(list of the runs' own settings)``, when given,
    computes all the runs at once on top of ``overrides`` (the caller's sweep engine), else each run is a
    ``total`` call; ``n`` is SALib's base sample (a power of 2); the model runs ``n * (D + 2)`` times."""
    import numpy as np
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample
    from ..errors import LcaBatteryError
    heat = (base_result["plant"].get("energy") or {}).get("heat_mj_per_kwh", 0.0)
    params, skipped = [], []
    for p in sobol_problem(base_result):     # a parameter the study cannot take (e.g. Co in LFP) is left out
        try:
            total({**overrides, **_sobol_overrides([p], [p["bounds"][1]], heat)})
            params.append(p)
        except LcaBatteryError as exc:
            skipped.append({"parameter": p["name"], "reason": str(exc)})
    problem = {"num_vars": len(params), "names": [p["name"] for p in params],
               "bounds": [p["bounds"] for p in params]}
    X = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    if totals is not None:
        Y = np.asarray(totals([_sobol_overrides(params, x, heat) for x in X]), dtype=float)
    else:
        Y = np.empty(len(X))
        for i, x in enumerate(X):
            Y[i] = total({**overrides, **_sobol_overrides(params, x, heat)})
            if progress:
                progress(i + 1, len(X))
    Si = sobol_analyze.analyze(problem, Y, calc_second_order=False, seed=seed, print_to_console=False)
    rows = [{"parameter": p["name"], "low": p["bounds"][0], "high": p["bounds"][1],
             "S1": float(Si["S1"][i]), "S1_conf": float(Si["S1_conf"][i]),
             "ST": float(Si["ST"][i]), "ST_conf": float(Si["ST_conf"][i])} for i, p in enumerate(params)]
    rows.sort(key=lambda r: -r["ST"])
    return {"n": n, "seed": seed, "runs": int(len(X)), "mean": float(Y.mean()), "sd": float(Y.std(ddof=1)),
            "sampler": "SALib sobol (Saltelli scheme, scrambled Sobol' sequence), first-order and total indices",
            "rows": rows, "not_applicable": skipped}
