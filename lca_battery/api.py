"""Public Python API: ``footprint`` and friends. The CLI is a thin layer over these."""
from __future__ import annotations

import platform
from pathlib import Path

from . import __version__
from .analysis import contribution as contrib
from .bw.project import METHODS
from .calc import Engine
from .inventory.records import STAGES
from .model.cell import element_content
from .model.electricity import RULE_LABELS, rule_label
from .model.entries import study_fields
from .model.superstructure import PLANT_ELECTRICITY, all_processes, electricity_alternatives
from .prepare import get_engine, prepare, prepare_mapping  # noqa: F401  (prepare: part of the API)
from .report.registry import credit_pact_files, credit_suppliers, dataset_registry


def footprint(study, overrides=None, *, engine: Engine | None = None, details: bool = True,
              on_headline=None) -> dict:
    """Cradle-to-gate carbon footprint of the study's cell.

    Parameters
    ----------
    study : str, Path, dict or Study
        A study file, its parsed content, or a validated :class:`~lca_battery.study.Study`.
    overrides : list of "key.path=value" or dict, optional
        Changes to study fields, as ``--set`` on the command line.
    engine : Engine, optional
        Reuse a set-up engine (a sweep does).
    details : bool
        Also compute per-material contributions (one extra solve per cell input).
    on_headline : callable(result), optional
        Called once the headline fields (total, stages, gases, largest processes, label, method) are set and
        before the slower tables (materials, mass balance, datasets, declaration) are computed; the command
        line hands them to its chart worker then. The dict it gets is the result being filled in.

    Returns
    -------
    dict
        JSON-ready result, kg CO2e per kWh of cell capacity unless a key says otherwise; README "Command line"
        (``footprint``: what each run writes) describes the fields.

    Examples
    --------
    >>> r = footprint("examples/nmc811-cn.yaml", ["plant.country=SE"])   # doctest: +SKIP
    >>> round(r["kg_co2e_per_kwh"], 1)                                     # doctest: +SKIP
    """
    study, mapping, engine = prepare_mapping(study, overrides, engine)
    entries = mapping.entries
    solved = engine.solve(entries, study.method)
    ed, ed_source = mapping.bom_info["energy_density_kwh_per_kg"], mapping.bom_info["energy_density_source"]
    kwh_per_cell = study.cell.energy_kwh
    total = solved.total
    solved.stage_overrides = dict(study.stage_overrides)
    stages, eol, by_stage = contrib.stage_split(engine, solved, entries, with_supply=True)
    rows = contrib.process_table(engine, solved, by_stage=by_stage)
    credit_suppliers(rows, mapping.suppliers, engine, solved)
    procs = all_processes(engine.inventory)
    cell = procs[mapping.cell_id]
    composition = element_content(cell.id, procs, {b.input: b.kg_per_kg_cell for b in mapping.bom})
    plant_kwh = float(solved.supply[engine.column(solved, PLANT_ELECTRICITY)])
    el = mapping.electricity
    rules = {el.rule: total}
    el_study = study.plant.electricity
    if el_study.contract and el_study.mix is None:
        other = "iso14067" if el.rule == "eu_delegated_act" else "eu_delegated_act"
        _, m2, _ = prepare_mapping(study, engine=engine, rule=other)
        rules[other] = engine.solve(m2.entries, study.method).total
    field = study_fields(study)          # the study field behind each entry, for parameters.csv
    result = {
        "study": study.name,
        "label": "partial carbon footprint (cradle-to-gate), ISO 14067",
        "declared_unit": "1 kWh of cell energy capacity (nominal Ah x V)",
        "chemistry": cell.id[len("cell_"):].upper(),
        "battery_model": study.cell.model,
        "plant_country": study.plant.country,
        "kg_co2e_per_kwh": total,
        "kg_co2e_per_cell": total * kwh_per_cell,
        "kg_co2e_per_kg": total * ed,
        "stages": {s: stages.get(s, 0.0) for s in STAGES} | (
            {contrib.UNASSIGNED: stages[contrib.UNASSIGNED]} if contrib.UNASSIGNED in stages else {}),
        "gases": contrib.gas_scores(solved),
        "top_processes": [{"name": r["name"], "id": r["id"], "location": r["location"], "stage": r["stage"],
                           "kg_co2e_per_kwh": r["kg_co2e"], "share": r["share"],
                           **({"supplier_source": r["source"]} if r.get("data", "").startswith("supplier") else {})}
                          for r in rows[:10]],
        "most_relevant_processes": [{"id": r["id"], "name": r["name"], "share": r["share"], "dqr": r["dqr"]}
                                    for r in rows if r["most_relevant"]],
        "dqr_weighted": contrib.weighted_dqr([r for r in rows if r["dqr"] is not None]),
        "cobalt_kg_per_kwh": composition.get("Co", 0.0) / ed,
        "element_kg_per_kwh": {el: v / ed for el, v in sorted(composition.items())},
        "cell": {"energy_kwh": kwh_per_cell, "energy_density_kwh_per_kg": ed,
                 "energy_density_source": ed_source, "kg_per_kwh": 1.0 / ed,
                 "mass_kg": kwh_per_cell / ed, "format": study.cell.format,
                 "method": mapping.bom_info.get("method"),
                 "stated_mass_kg": mapping.bom_info.get("stated_mass_kg"),
                 "stated_vs_design": mapping.bom_info.get("stated_vs_design")},
        "warnings": list(mapping.bom_info.get("warnings", [])),
        "plant": {"country": study.plant.country, "electricity_kwh_per_kwh": plant_kwh,
                  "electricity_mix": {k: v for k, v in el.shares.items() if v},
                  "electricity_rule": el.rule, "electricity_rule_label": el.label,
                  "electricity_notes": el.notes,
                  "energy": mapping.plant_energy.as_dict() if mapping.plant_energy else None,
                  "yield": (mapping.plant_energy.yield_.as_dict()
                            if mapping.plant_energy and mapping.plant_energy.yield_ else None),
                  "result_by_rule": {r: {"kg_co2e_per_kwh": v, "rule": rule_label(r, study.plant.electricity)}
                                     for r, v in rules.items()}},
        "bom": [{"input": b.input, "name": b.name, "role": b.role, "kg_per_kg_cell": b.kg_per_kg_cell,
                 "kg_per_cell": b.kg_per_kg_cell * kwh_per_cell / ed, "default_kg_per_kg_cell": b.default_kg_per_kg_cell,
                 "data": b.data} for b in mapping.bom],
        "cell_design": {k: v for k, v in mapping.bom_info.items()},
        "suppliers": mapping.suppliers,
        "recycling": {**mapping.recycling,
                      "end_of_life_burdens": eol["burdens"] if eol else 0.0,
                      "end_of_life_credits": eol["credits"] if eol else 0.0,
                      "avoided": eol["avoided"] if eol else []},
        "method": {"family": study.method, "label": METHODS[study.method]["label"],
                   "indicators": {k: " | ".join(v) for k, v in METHODS[study.method].items() if k != "label"}},
        "inventory": {"content_hash": engine.inventory.content_hash, "root": _root_label(engine.inventory.root)},
        "background": _background_info(engine),
        "software": {"lca_battery": __version__, "python": platform.python_version(),
                     "brightway_project": engine.build.get("project"), "solver": solved.solver, **_versions()},
        "parameters": [{"input": e.input, "output": e.output, "amount": e.amount, "parameter": field(e.parameter)}
                       for e in entries],     # zeros too: applying them all reproduces the number
    }
    from .report.declaration import end_of_life_included, rules_check
    if end_of_life_included(result):
        result["label"] = ("carbon footprint including end-of-life burdens and credits (not cradle-to-gate), "
                           "ISO 14067")
    if on_headline is not None:
        on_headline(result)
    result["electricity_sites"] = contrib.electricity_sites(engine, solved, entries, by_stage) if details else []
    result["greenhouse_gases"] = contrib.greenhouse_gases(engine, solved) if details else []
    result["processes"] = rows
    result["datasets"] = dataset_registry(engine, solved, mapping)
    credit_pact_files(study, result)
    if details:
        result["materials"] = contrib.input_contributions(engine, solved, cell.id)
        for m in result["materials"]:
            m["kg_co2e_per_kwh"] = m.pop("kg_co2e")
    from .analysis.massbalance import balances
    replaced = {s["process"] for s in mapping.suppliers if s["pcf_kg_co2e_per_kg"] is not None or s.get("replaced_by")}
    result["mass_balance"] = {
        m: {"entering_kg_per_kwh": b["entering_total"], "in_product_kg_per_kwh": b["in_product"],
            "losses_kg_per_kwh": b["losses_total"], "relative_residual": b["relative_residual"],
            "processes_creating_metal": sorted(b["created"])}
        for m, b in balances(engine, solved, composition, boundary=replaced).items() if composition.get(m)}
    notes = list(el.notes)
    for m, b in result["mass_balance"].items():
        if b["processes_creating_metal"] or abs(b["relative_residual"]) > 1e-9:
            notes.append(f"{m} mass balance does not close (processes creating metal: "
                         f"{', '.join(b['processes_creating_metal']) or 'none'}; relative residual "
                         f"{b['relative_residual']:.2g})")
    if replaced and any(v["R1"] for v in mapping.recycling["metals"].values()):
        notes.append(f"supplier data replace {', '.join(sorted(replaced))}: recycled content applies only to "
                     f"the metal supply of the rest of the chain; the supplier's own recycled content is in its figure")
    no_dqr = [r for r in rows if r["dqr"] is None]
    if no_dqr:
        share = sum(abs(r["kg_co2e"]) for r in no_dqr) / (sum(abs(r["kg_co2e"]) for r in rows) or 1.0)
        notes.append(f"weighted DQR leaves out {', '.join(r['id'] for r in no_dqr)} ({share:.1%} of the absolute "
                     f"contributions): supplier data without a DQR (suppliers.<id>.dqr)")
    for s in mapping.suppliers:
        if not s["used"]:
            notes.append(f"supplier data for {s['process']} unused: {s['process']} is not in the supply chain of "
                         f"this study (a material downstream of it is replaced by supplier data, or the cell does "
                         f"not use it); its figure has no effect on the result")
    result["notes"] = notes
    result["rules"] = rules_check(study, result)
    result["check"] = {"stages_sum": sum(result["stages"].values()), "total": total}
    from .report.declaration import declaration, passport
    result["declaration"] = declaration(study, result)
    result["passport"] = passport(study, result)
    return result


def _root_label(root: str) -> str:
    """The inventory folder without an absolute path (results must not depend on the machine):
    'shipped' for the package's own inventories, else the folder's name."""
    pkg = Path(__file__).resolve().parent
    shipped = {(pkg.parent / "inventories").resolve(), (pkg / "_inventories").resolve()}
    return "shipped" if Path(root).resolve() in shipped else f"custom: {Path(root).name}"


def pact(study, overrides=None, *, engine: Engine | None = None, created=None, file: str | None = None) -> dict:
    """The study's result as a WBCSD PACT v3 ProductFootprint (a JSON-ready dict, validated against
    the models of :mod:`lca_battery.report.pact`)."""
    from .report import pact as pc
    from .report import study_report as sr
    from .study import as_overrides
    overrides = as_overrides(overrides, str(study))
    st, mapping, engine = prepare_mapping(study, overrides, engine)
    result = footprint(study, overrides, engine=engine, details=False)
    solved = engine.solve(mapping.entries, st.method)
    supplier_dqi = {row["id"]: row["pact"]["dqi"] for row in result["datasets"]
                    if row.get("pact") and row["pact"]["dqi"]}
    rep = {"cutoff": sr.cutoff_log(engine, solved, result["kg_co2e_per_kwh"]),
           "primary_data": sr.primary_share(result),
           "allocation": {"cobalt": st.allocation.get("cobalt", "economic (inventory default)"),
                          "recycling": st.allocation.get("recycling") or "default of each route: economic where "
                                                                         "every co-product has a price, else mass",
                          "recycled content accounting": st.recycling.accounting},
           "supplier_dqi": supplier_dqi}
    return pc.product_footprint(st, result, rep, engine, created=created,
                                file=file or (str(study) if isinstance(study, (str, Path)) else "<study>"))
def _background_info(engine: Engine) -> dict:
    from .background import OPEN
    return dict(OPEN) if engine.background is None else engine.background.describe()


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for pkg in ("bw2data", "bw2calc", "bw2io", "bw_processing", "numpy", "scipy", "kvxopt", "pypardiso"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    import sys
    from importlib.util import find_spec
    from .linalg import SOLVER
    out["sparse_lu"] = SOLVER                  # the engine's own factorisations (sweeps, linked background)
    bc = sys.modules.get("bw2calc")            # not imported on the warm path: bw2calc's own test, by spec
    pardiso = getattr(bc, "PYPARDISO", False) if bc else find_spec("pypardiso") is not None
    umfpack = getattr(bc, "UMFPACK", False) if bc else find_spec("scikits") is not None and \
        find_spec("scikits.umfpack") is not None
    out["bw2calc_solver"] = ("pardiso (pypardiso)" if pardiso else
                             "umfpack (scikit-umfpack)" if umfpack else "superlu (scipy)")
    return out


def run_size(name: str, value, minimum: int, maximum: int | None = None, why: str = "",
             power_of_two: bool = False) -> int:
    """``value`` as a whole number within the bounds the command line enforces for its option ``name`` (e.g.
    ``samples`` >= 2 and <= :data:`~lca_battery.report.limits.MAX_SAMPLES`), else :class:`LcaBatteryError`
    naming it (a program gets the CLI's message, not numpy's)."""
    import numbers
    from .errors import LcaBatteryError
    from .report.limits import count_problem
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise LcaBatteryError(f"{name} must be a whole number (got {value!r})", field=name)
    value = int(value)
    problem = count_problem(value, minimum, maximum, why, power_of_two)
    if problem:
        raise LcaBatteryError(f"{name} {problem}", field=name)
    return value


def compare(study, overrides=None, *, engine: Engine | None = None, steps: int = 11, progress=None) -> dict:
    """Recycled versus virgin supply: per material and per cell (recycled-content curves).

    Parameters
    ----------
    study, overrides
        As for :func:`footprint`.
    steps : int
        Points of each curve from 0 to 100 % recycled content.
    progress : callable(done, total), optional

    Returns
    -------
    dict with ``materials`` (kg CO2e per kg salt and per kg contained metal, virgin versus each
    route), ``curves`` (kg CO2e/kWh by metal, accounting rule and recycled content), the EU
    minimum recycled content, ``routes`` (each recycling route that treats this cell: its modelled recovery of
    Co, Ni, Li and Cu against the EU material-recovery targets of Annex XII Part C), the accounting rule of the
    study and the critical-review notice.
    """
    from .analysis.compare import CRITICAL_REVIEW, curves, material_table
    from .model.recycling import EU_MATERIAL_RECOVERY_TARGETS, EU_MINIMUM_RECYCLED_CONTENT, recovery_against_targets
    from .model.recycling import routes as recycling_routes
    from .errors import StudyError
    from .report.limits import MAX_STEPS
    from .study import as_overrides
    steps = run_size("steps", steps, 2, MAX_STEPS)
    overrides = as_overrides(overrides, str(study))
    st, mapping, engine = prepare_mapping(study, overrides, engine)
    solved = engine.solve(mapping.entries, st.method)
    procs = all_processes(engine.inventory)
    mats = material_table(engine, solved, procs, engine.inventory)
    metals = mapping.recycling["recyclable_metals"]
    if not metals:
        useful = [r for r in mapping.recycling["routes_for_cell"] if r != st.recycling.route and
                  prepare_mapping(study, {**overrides, "recycling.route": r}, engine)[1].recycling["recyclable_metals"]]
        from .model.recycling import route_applies
        cell = procs[mapping.cell_id]
        why = ("treats other cells (LFP routes treat LFP cells, the others cells that hold Co or Ni)"
               if not route_applies(st.recycling.route, cell, procs) else
               "recovers none of Co, Ni, Li that this cell's cathode draws")
        raise StudyError(f"route '{st.recycling.route}' {why}: the recycled-content curves need the route that "
                         "recycles this cell",
                         file=str(study), field="recycling.route",
                         allowed=", ".join(useful) or "no route recovers them for this chemistry")
    rows = curves(lambda ov: footprint(study, ov, engine=engine, details=False), overrides, metals=metals,
                  steps=steps, progress=progress)
    base = footprint(study, overrides, engine=engine, details=False)
    # only the metals the cell holds (its element content): an LFP cell's table has no Co or Ni salts
    content = base["element_kg_per_kwh"]
    in_cell = [m for m in ("Co", "Ni", "Li") if content.get(m, 0.0) > 0]
    absent = [m for m in ("Co", "Ni", "Li") if m not in in_cell]
    # a supplier figure for the cathode chain replaces the salts the curves vary: say why they are flat
    replaced = sorted(s_["process"] for s_ in base["suppliers"] if s_.get("used", True)
                      and (s_["pcf_kg_co2e_per_kg"] is not None or s_.get("replaced_by"))
                      and s_["process"].startswith(("cathode_", "cam_", "pcam_")))
    supplier_note = (f"supplier data replace {', '.join(replaced)}: the recycled content of the salts behind them "
                     f"changes nothing in this cell (flat cut-off and CFF curves); the supplier's own recycled "
                     f"content is in its figure" if replaced else "")
    # and only the routes that treat this cell (an NMC cell's table has no salts of the LFP route)
    mats = [r for r in mats if r["metal"] in in_cell
            and (r["route"] is None or r["route"] in mapping.recycling["routes_for_cell"])]
    return {
        "study": st.name, "chemistry": base["chemistry"], "plant_country": st.plant.country,
        "accounting_of_study": st.recycling.accounting,
        "route_of_study": st.recycling.route, "eol_collection_rate": st.recycling.eol_collection_rate,
        "allocation_of_recycling_coproducts": st.allocation.get("recycling") or "default of each route: "
        "economic where every co-product has a price, else mass",
        "cff_parameters": {"A": {m: st.recycling.cff.a(m) for m in in_cell},
                           "qsin_qp": st.recycling.cff.qsin_qp, "qsout_qp": st.recycling.cff.qsout_qp,
                           "reason": st.recycling.cff.reason or "EF defaults (A = 0.2 for metals, Q = 1)"},
        "kg_co2e_per_kwh": base["kg_co2e_per_kwh"],
        "materials": mats,
        "metals": metals,
        "metals_not_in_cell": absent,
        "metals_not_in_cell_note": (f"{', '.join(absent)}: not in this {base['chemistry']} cell (0 kg per kWh in its "
                                    f"element content), so no salts or curves for {'it' if len(absent) == 1 else 'them'}"
                                    if absent else ""),
        "curves": rows,
        "supplier_note": supplier_note,
        "eu_minimum_recycled_content": {str(k): v for k, v in EU_MINIMUM_RECYCLED_CONTENT.items()},
        # the routes that treat this cell: their modelled material recovery against Annex XII Part C
        "routes": [{"route": name, "process": proc.id, **recovery_against_targets(proc)}
                   for name, proc in sorted(recycling_routes(engine.inventory).items())
                   if name in mapping.recycling["routes_for_cell"]],
        "eu_material_recovery_targets": {str(k): v for k, v in EU_MATERIAL_RECOVERY_TARGETS.items()},
        "critical_review": CRITICAL_REVIEW,
        "method": base["method"], "inventory": base["inventory"], "software": base["software"],
    }


def sweep(study, grid: dict[str, list] | None = None, overrides=None, *, engine: Engine | None = None,
          progress=None, table: list[dict] | None = None, fast: bool = True, client=None,
          parsed: dict | None = None, materials: bool = True, memo=None) -> list[dict]:
    """Footprints over the Cartesian product of ``grid`` (study path -> values) and/or the rows of a
    scenario ``table`` (each a mapping of study paths to values), on the same matrices.

    With ``fast`` (default) the scenarios are solved by exact low-rank updates of one factorisation
    (:mod:`lca_battery.compiled`); each row equals ``footprint --set ...`` alone (tests: 1e-9). A grid, and
    a table (rows x grid) when it pays, are built separably by the grid engine (a table on the virtual
    grid of its columns' distinct values: :func:`lca_battery.sweep_engine.table_frame`), on the open or a
    linked background; else each scenario is built (the per-scenario path).
    ``fast=False`` runs bw2calc per scenario (the reference).

    Each row has the scenario's values, ``kg_co2e_per_kwh``, ``kg_co2e_per_kg``, ``kg_co2e_per_cell``,
    ``stage:<stage>``, ``gas:<part>`` and, with ``materials`` (default), ``material:<process id>``: the
    cradle-to-gate footprint per kWh of each direct input of the scenario's cell, as ``footprint``'s
    ``materials`` (electrode coatings, electrolyte, foils, separator, casing, plant steps...); a row has only
    its own cell's inputs (another chemistry's are absent; NaN in :func:`sweep_frame`). They add up to the
    total minus what lies outside the cell's inputs: the cell's own direct emissions, distribution and the
    end-of-life branch. They need a left update from the same small Woodbury matrices (on the 103,680-scenario
    grid of ``scripts/bench_fast_sweep.py --big``, 2 cores under load: solve 0.33 s against 0.22 s without
    them, end to end 2.05 s against 1.95 s, where the study builds dominate); they are on by default,
    ``materials=False`` leaves them out.

    ``client``: a ``distributed.Client`` (:func:`lca_battery.distributed.client`): a grid's study builds are
    made on the workers and the grid solved here (:func:`lca_battery.distributed.sweep_grid`; bit for bit the
    serial rows), a table into chunks of scenarios, each solved on a worker by the serial sweep
    (:func:`lca_battery.sweep_serial.sweep`), and the rows are put back in the serial order (equal to the
    serial run). ``parsed``: the study file already parsed (a worker gets it from the client); ``memo``:
    the parts of the study builds kept between calls (:class:`lca_battery.model.entries.BuildMemo`; a Dask
    worker keeps one per study for all its chunks), else one for this call.

    Examples
    --------
    >>> sweep("examples/nmc811-cn.yaml", {"plant.country": ["CN", "SE"],
    ...        "recycling.recycled_content.Co.post_consumer": [0, 0.16, 0.26]})   # doctest: +SKIP
    """
    from . import sweep_serial
    if client is None or not fast:
        return sweep_serial.sweep(study, grid, overrides, engine=engine, progress=progress, table=table, fast=fast,
                                  parsed=parsed, materials=materials, memo=memo)
    from .distributed import sweep_combos, sweep_grid
    overrides, grid, combos, n_grid = sweep_serial.scenarios(study, grid, overrides, table)
    if table is None and grid:          # a grid: sub-grids, each solved by the grid engine on a worker
        rows = sweep_grid(client, study, grid, overrides, engine=engine or get_engine(), progress=progress,
                          parsed=parsed, materials=materials)
        if rows is not None:
            return rows
    return sweep_combos(client, study, combos, overrides, engine=engine or get_engine(), progress=progress,
                        n_grid=n_grid, rows_in=table, parsed=parsed, materials=materials)


def sweep_frame(study, grid: dict[str, list], overrides=None, *, engine: Engine | None = None, progress=None,
                stats: dict | None = None, materials: bool = True):
    """See :func:`lca_battery.sweep_serial.sweep_frame` (a grid sweep as columns)."""
    from .sweep_serial import sweep_frame as frame
    return frame(study, grid, overrides, engine=engine, progress=progress, stats=stats, materials=materials)


def uncertainty(study, overrides=None, *, engine: Engine | None = None, samples: int = 10_000, seed: int = 42,
                progress=None, fast: bool = True, paired_with=None, paired_overrides=None, client=None,
                scenarios: list[dict] | None = None) -> dict:
    """Monte Carlo of the footprint per kWh from the datasets' data quality (pedigree factors).

    Returns the deterministic value with mean, median, standard deviation, CV and the 2.5/5/95/97.5
    percentiles, the samples, the seed and how the distributions were built.

    With ``fast`` (default) the samples are drawn and solved vectorised (:mod:`lca_battery.montecarlo`,
    the same distributions; its zero-noise solve is checked against bw2calc's deterministic value
    to 1e-9); ``fast=False`` runs bw2calc's own sampling (other random numbers, same meaning).
    ``paired_with`` (a study, with ``paired_overrides``) is sampled with the same draws on every
    exchange: the result then has ``paired`` with its summary and that of the difference
    (this study minus the other) and the share of samples where this study is lower.
    ``scenarios`` (mappings of study paths to values, each applied over ``overrides``, e.g. a grid's
    combinations) are sampled with the same draws too: the result then has ``scenarios``, per scenario its
    values, its summary, the summary of its difference to this study (scenario minus study) and the share of
    samples where it is lower, and ``scenario_samples`` (one list per scenario, sample by sample).
    ``client``: a ``distributed.Client``: the chunks of draws are solved on its workers
    (:func:`lca_battery.distributed.monte_carlo`; same draws, same samples as the serial run).
    ``samples`` (default 10,000, as the command line) from 2 to 10,000,000; ``seed`` a whole number >= 0."""
    import numpy as np
    from .analysis.uncertainty import BASIC_UNCERTAINTY, PEF_TO_PEDIGREE, SOURCES, summary
    from .errors import StudyError
    from .report.limits import MAX_SAMPLES
    from .study import as_overrides
    samples = run_size("samples", samples, 2, MAX_SAMPLES, ": the samples are kept in memory")
    seed = run_size("seed", seed, 0)
    st, mapping, engine = prepare_mapping(study, overrides, engine)
    det = engine.solve(mapping.entries, st.method).total
    other = None
    if paired_with is not None:
        st2, mapping2, eng2 = prepare_mapping(paired_with, as_overrides(paired_overrides, str(paired_with))
                                              if paired_overrides else None, engine)
        if eng2 is not engine or st2.method != st.method:
            raise StudyError("a paired Monte Carlo needs both studies on the same inventory and method",
                             field="paired_with")
        other = (st2, mapping2, eng2.solve(mapping2.entries, st2.method).total)
    extra = []                                   # the scenarios sampled with the same draws
    if scenarios:
        if len(scenarios) > MAX_PAIRED_SCENARIOS:
            raise StudyError(f"{len(scenarios):,} paired scenarios is more than {MAX_PAIRED_SCENARIOS:,} (each keeps "
                             "its samples)", field="scenarios")
        base = as_overrides(overrides, str(study))
        for sc in scenarios:
            st3, mapping3, eng3 = prepare_mapping(study, {**base, **dict(sc)}, engine)
            if eng3 is not engine or st3.method != st.method:
                raise StudyError("paired scenarios need the study's inventory, background and method",
                                 field="scenarios")
            extra.append((dict(sc), mapping3, eng3.solve(mapping3.entries, st3.method).total))
    values = values2 = None
    extra_values = []
    how = "bw2calc"
    if fast:
        from . import montecarlo
        from .compiled import NotCompilable
        lists = [mapping.entries] + ([other[1].entries] if other else []) + [e[1].entries for e in extra]
        run = montecarlo.run
        if client is not None:
            from functools import partial
            from .distributed import monte_carlo
            run = partial(monte_carlo, client)
        try:
            runs, zero = run(engine, lists, st.method, samples, seed, progress)
        except (montecarlo.NotSampleable, NotCompilable):
            runs = None
        if runs is not None:
            for z, d in zip(zero, [det] + ([other[2]] if other else []) + [e[2] for e in extra]):
                if abs(z - d) > 1e-9 * max(1.0, abs(d)):
                    raise RuntimeError(f"fast Monte Carlo at zero noise {z} differs from bw2calc {d}")
            values = runs[0]
            values2 = runs[1] if other else None
            extra_values = runs[1 + bool(other):]
            how = "lca_battery.montecarlo (vectorised, exact block-triangular solves)"
    if values is None:
        if other or extra:
            raise StudyError("a paired Monte Carlo needs the fast path (no linked background, no new biosphere "
                             "flows)", field="paired_with" if other else "scenarios")
        values = engine.monte_carlo(mapping.entries, st.method, samples, seed, progress)
    summ = summary(values, det)
    out = {"study": st.name, "kg_co2e_per_kwh": summ, "samples": values.tolist(), "seed": seed,
           "method": ("lognormal on every exchange, median = deterministic amount, sigma from the dataset's PEF "
                      f"scores via pedigree factors ({', '.join(f'{k}->{v}' for k, v in PEF_TO_PEDIGREE.items())}; "
                      f"basic uncertainty {BASIC_UNCERTAINTY}); study choices and characterization factors fixed"),
           "solver": how,
           "sources": list(SOURCES),
           "statement": uncertainty_statement(summ),
           "inventory": {"content_hash": engine.inventory.content_hash}}
    if other:
        diff = values - values2
        out["paired"] = {"study": other[0].name, "kg_co2e_per_kwh": summary(values2, other[2]),
                         "difference": summary(diff, det - other[2]),
                         "share_lower": float(np.mean(diff < 0)),
                         "share_other_lower": float(np.mean(diff > 0)), "samples": values2.tolist()}
    if extra:
        out["scenarios"] = [{"values": sc, "kg_co2e_per_kwh": summary(v, d),
                             "difference": summary(v - values, d - det),
                             "share_lower": float(np.mean(v < values))}
                            for (sc, _, d), v in zip(extra, extra_values)]
        out["scenario_samples"] = [v.tolist() for v in extra_values]
    return out


#: Scenarios a paired Monte Carlo samples at most beside the study (each keeps its samples in memory).
MAX_PAIRED_SCENARIOS = 1_000


def uncertainty_statement(summ: dict) -> str:
    """The qualitative statement beside a Monte Carlo summary (GHG Protocol Product Standard ch. 10): what the
    interval covers and does not, and why its median is not the deterministic result."""
    det, med = summ["deterministic"], summ["median"]
    shift = (med - det) / det if det else 0.0
    return ("The 95 % interval reflects the inventories' data quality as scored (pedigree), not model or scenario "
            "uncertainty: the study's choices (plant grid, nickel origin, recycling rule, allocation) and the "
            "characterisation factors are held fixed; their effect is in the sensitivity runs (GHG Protocol Product "
            f"Standard ch. 10: report both). The median of the samples ({med:.2f}) lies {shift:+.1%} from the "
            f"deterministic result ({det:.2f}), which stays the declared figure: every exchange is lognormal with "
            "its median at the deterministic amount, so its mean lies above it, and the total, a sum of many "
            "right-skewed terms, has its median above the sum of their medians; the wider an exchange's spread, the "
            "larger the shift.")


def material_footprint(process_id: str, study=None, overrides=None, *, locations: dict[str, str] | None = None,
                       engine: Engine | None = None) -> dict:
    """Cradle-to-gate footprint of 1 unit (usually 1 kg) of one process of the inventories.

    The study (default: the embedded default study) sets the switches (allocation, supply routes,
    sites); ``locations`` moves the grid of site-switchable processes (``{process id: country}``,
    as ``suppliers.<id>.location`` in a study).

    Returns
    -------
    dict with ``process``, ``unit``, ``kg_co2e`` (per unit of the process), ``kwh_grid`` (electricity drawn
    in the whole supply chain: by grid country, ``CN``, and by generation technology, ``tech_coal`` for a
    captive plant) and ``locations``.
    """
    from .errors import StudyError
    from .study import DEFAULT_STUDY, as_overrides
    study = DEFAULT_STUDY if study is None else study
    ov = dict(as_overrides(overrides, str(study)) if overrides else {})
    for pid, cc in (locations or {}).items():
        ov[f"suppliers.{pid}.location"] = cc
    st, mapping, engine = prepare_mapping(study, ov, engine)
    procs = all_processes(engine.inventory)
    if process_id not in procs or process_id not in engine.ids:
        raise StudyError(f"unknown process '{process_id}'", field="process_id")
    solved = engine.solve(mapping.entries, st.method, demand={process_id: 1.0})
    grid = {}
    for key, pid in electricity_alternatives(engine.inventory).items():
        if pid in engine.ids:
            kwh = float(solved.supply[engine.column(solved, pid)])
            if kwh:       # a country's grid by its code (CN), a technology by its switch key (tech_coal)
                grid[key[len("grid_"):] if key.startswith("grid_") else key] = kwh
    return {"process": process_id, "name": procs[process_id].name, "unit": procs[process_id].unit,
            "kg_co2e": solved.total, "kwh_grid": grid, "locations": dict(locations or {})}


def site_switchable(engine: Engine | None = None) -> dict[str, str]:
    """Processes whose production site a study can move: process id -> default grid country."""
    from .model.superstructure import SITE_PREFIX
    engine = engine or get_engine()
    out = {}
    for p in all_processes(engine.inventory).values():
        if p.id.startswith(SITE_PREFIX) and p.default:
            top = max(p.default, key=p.default.get)
            out[p.id[len(SITE_PREFIX):]] = top[len("grid_"):] if top.startswith("grid_") else top
    return out


def sensitivity(study, overrides=None, *, engine: Engine | None = None, sobol_n: int = 128, seed: int = 42,
                progress=None) -> dict:
    """One-at-a-time ranges (tornado rows, each an exact ``footprint --set`` run), the service-life
    table of the regulation's declared unit and Sobol indices (SALib) over the continuous choices.

    ``sobol_n`` is SALib's base sample (power of 2; the model runs ``sobol_n * (D + 2)`` times for its D parameters,
    at most 9 N); 0 skips it."""
    from .analysis import sensitivity as sens
    from .report.limits import MAX_SOBOL_N
    from .study import as_overrides
    sobol_n = run_size("sobol_n", sobol_n, 0, MAX_SOBOL_N, ": up to 9 N runs", power_of_two=True)
    seed = run_size("seed", seed, 0)
    overrides = as_overrides(overrides, str(study))
    base = footprint(study, overrides, engine=engine, details=False)
    engine = engine or get_engine()

    def total(ov: dict) -> float:
        st, mapping, eng = prepare_mapping(study, ov, engine)
        return eng.solve(mapping.entries, st.method).total

    def totals(rows: list[dict]) -> list[float]:
        """The same totals for many runs at once: a scenario table through the sweep engine (exact low-rank
        updates of one factorisation; each row equals ``total`` to 1e-9, tests)."""
        swept = sweep(study, overrides=overrides, table=rows, engine=engine, materials=False,
                      progress=progress)
        return [r["kg_co2e_per_kwh"] for r in swept]

    st, _, _ = prepare_mapping(study, overrides, engine)
    out = {"study": base["study"], "kg_co2e_per_kwh": base["kg_co2e_per_kwh"],
           "one_at_a_time": sens.one_at_a_time(total, overrides, base),
           "service_life": sens.service_life(st, base)}
    out["sobol"] = sens.sobol(total, overrides, base, n=sobol_n, seed=seed, progress=progress, totals=totals) \
        if sobol_n else None
    return out


def report(study, overrides=None, *, engine: Engine | None = None, samples: int = 10_000, seed: int = 42,
           sobol_n: int = 128, progress=None) -> dict:
    """Everything the ISO 14067 study report shows: the footprint, cut-off log, per-criterion DQR,
    primary-data share, electricity under each rule, breakdowns, Art. 8 check, sensitivity,
    uncertainty (``samples`` Monte Carlo runs, ``seed``) and limitations."""
    from .analysis import contribution as contrib
    from .report import study_report as sr
    from .report.limits import MAX_SAMPLES, MAX_SOBOL_N
    from .study import as_overrides
    samples = run_size("samples", samples, 2, MAX_SAMPLES, ": the samples are kept in memory")
    sobol_n = run_size("sobol_n", sobol_n, 0, MAX_SOBOL_N, ": up to 9 N runs", power_of_two=True)
    seed = run_size("seed", seed, 0)
    overrides = as_overrides(overrides, str(study))
    st, mapping, engine = prepare_mapping(study, overrides, engine)
    result = footprint(study, overrides, engine=engine)
    solved = engine.solve(mapping.entries, st.method)
    rules = {}
    for rule in ("eu_delegated_act", "iso14067"):
        _, m2, _ = prepare_mapping(study, overrides, engine, rule=rule)
        rules[rule] = {"rule": rule_label(rule, st.plant.electricity), "kg_co2e_per_kwh": engine.solve(m2.entries, st.method).total,
                       "headline": rule == result["plant"]["electricity_rule"]}
    accounting = sr.accounting_side_by_side(lambda ov: footprint(study, ov, engine=engine, details=False), overrides,
                                            result, st.recycling.eol_collection_rate)
    per_unit = contrib.unit_footprints(solved)       # one transposed solve, shared by the cut-off log and limitations
    limits = sr.limitations(result, engine, solved, per_unit)
    unc = uncertainty(study, overrides, engine=engine, samples=samples, seed=seed)
    sens = sensitivity(study, overrides, engine=engine, sobol_n=sobol_n, seed=seed, progress=progress)
    return {
        "result": result,
        "study_description": st.description,
        "allocation": {"cobalt": st.allocation.get("cobalt", "economic (inventory default)"),
                       "recycling": st.allocation.get("recycling") or "default of each route: economic where every "
                                                                      "co-product has a price, else mass",
                       "accounting": st.recycling.accounting,
                       "datasets": sr.allocation_register(engine, result, solved, per_unit)},
        "cutoff": sr.cutoff_log(engine, solved, result["kg_co2e_per_kwh"], per_unit),
        "dqr": sr.dqr_by_criterion(engine, result["processes"]),
        "primary_data": sr.primary_share(result),
        "electricity_rules": rules,
        "breakdowns": sr.breakdowns(result),
        "recycled_content": sr.recycled_content_check(result),
        "accounting_rules": accounting,
        "cathode_active_material": sr.cathode_active_material(engine, result, solved),
        "reference_period": {"start": str(st.product.reference_period_start or ""),
                             "end": str(st.product.reference_period_end or "")},
        "limitations": limits,
        "limitations_summary": sr.limitations_summary(limits),
        "boundary": sr.boundary(result, engine),
        "uncertainty": {k: v for k, v in unc.items() if k != "samples"},
        "uncertainty_samples": unc["samples"],
        "sensitivity": sens,
        "contribution_check": {"stages_sum": sum(result["stages"].values()),
                               "processes_sum": sum(r["kg_co2e"] for r in result["processes"]),
                               "total": result["kg_co2e_per_kwh"], "gases_sum": sum(contrib.gas_scores(solved).values())},
    }
