"""Public Python API: ``footprint`` and friends. The CLI is a thin layer over these."""
from __future__ import annotations

import platform
from pathlib import Path

from . import __version__
from .analysis import contribution as contrib
from .bw.project import METHODS
from .calc import Engine
from .inventory.records import STAGES
from .model.cell import complete_voltage, element_content
from .model.electricity import RULE_LABELS
from .model.entries import study_mapping
from .model.superstructure import PLANT_ELECTRICITY, all_processes, chemistries, switch_parameters
from .study import Study, load_study

_ENGINES: dict[str, Engine] = {}


def get_engine(inventory_root: str | Path | None = None, progress=None, extra_files: tuple = ()) -> Engine:
    """One Engine per inventory folder (+ supplier files) and process (the set-up is paid once)."""
    from .inventory.loader import default_root, load_inventory
    root = str(Path(inventory_root) if inventory_root else default_root())
    key = (root, tuple(str(Path(f).resolve()) for f in extra_files))
    eng = _ENGINES.get(key)
    if eng is None:
        inv = load_inventory(Path(root), key[1])
        eng = Engine(inv, progress)
        _ENGINES[key] = eng
    return eng


def _supplier_files(study, file: str | None) -> tuple:
    """Supplier inventory files of a study (absolute: the study loader resolved them)."""
    from .errors import StudyError
    out = []
    for pid, sup in study.suppliers.items():
        if sup.inventory:
            if not Path(sup.inventory).is_file():
                raise StudyError(f"supplier inventory file not found: {sup.inventory}", file=file,
                                 field=f"suppliers.{pid}.inventory")
            out.append(sup.inventory)
    return tuple(sorted(set(out)))


def prepare(study, overrides=None, engine: Engine | None = None, file: str | None = None, rule: str | None = None):
    """Load and validate a study against the inventories; returns (study, entries, engine)."""
    study, mapping, engine = prepare_mapping(study, overrides, engine, file, rule)
    return study, mapping.entries, engine


def prepare_mapping(study, overrides=None, engine: Engine | None = None, file: str | None = None,
                    rule: str | None = None):
    engine = engine or get_engine()
    if not isinstance(study, Study):
        file = file or (str(study) if not isinstance(study, dict) else "<study>")
        study = load_study(study, overrides, switch_parameters(engine.inventory))
    extras = _supplier_files(study, file)
    if extras and tuple(engine.inventory.extra_files) != extras:
        # supplier inventories are written as an extra database, in a project of their own
        engine = get_engine(engine.inventory.root, extra_files=extras)
    cells = chemistries(engine.inventory)
    chem = study.cell.chemistry.upper()
    if chem in cells:      # an unknown chemistry is reported by study_mapping
        study = complete_voltage(study, cells[chem], file or "<study>")
    return study, study_mapping(study, engine.inventory, file or "<study>", rule), engine


def footprint(study, overrides=None, *, engine: Engine | None = None, details: bool = True) -> dict:
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

    Returns
    -------
    dict
        JSON-ready result; see README "Output" for the fields.

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
    stages, eol = contrib.stage_split(engine, solved, entries)
    rows = contrib.process_table(engine, solved)
    _credit_suppliers(rows, mapping.suppliers, engine, solved)
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
                  "result_by_rule": {r: {"kg_co2e_per_kwh": v, "rule": RULE_LABELS.get(r, r)}
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
        "software": {"lca_battery": __version__, "python": platform.python_version(),
                     "brightway_project": engine.build.get("project"), **_versions()},
        "parameters": [{"input": e.input, "output": e.output, "amount": e.amount, "parameter": e.parameter}
                       for e in entries],     # zeros too: applying them all reproduces the number
    }
    result["electricity_sites"] = contrib.electricity_sites(engine, solved, entries) if details else []
    result["processes"] = rows
    result["datasets"] = dataset_registry(engine, solved, mapping)
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
    from .report.declaration import end_of_life_included, rules_check
    if end_of_life_included(result):
        result["label"] = ("carbon footprint including end-of-life burdens and credits (not cradle-to-gate), "
                           "ISO 14067")
    result["rules"] = rules_check(study, result)
    result["check"] = {"stages_sum": sum(result["stages"].values()), "total": total}
    from .report.declaration import declaration, passport
    result["declaration"] = declaration(study, result)
    result["passport"] = passport(study, result)
    return result


def _root_label(root: str) -> str:
    """The inventory folder without an absolute path (results must not depend on the machine):
    'shipped' for the package's own inventories, else the folder's name."""
    from .inventory.loader import default_root
    pkg = Path(__file__).resolve().parent
    shipped = {(pkg.parent / "inventories").resolve(), (pkg / "_inventories").resolve()}
    return "shipped" if Path(root).resolve() in shipped else f"custom: {Path(root).name}"


def _credit_suppliers(rows: list[dict], suppliers: list[dict], engine: Engine, solved) -> None:
    """Supplier figures in the process table carry the supplier's source, year, location, DQR and
    verification, not the default dataset's; every supplier row says whether it is used at all."""
    by_id = {s["process"]: s for s in suppliers}
    for s in suppliers:
        s["used"] = bool(s["process"] in engine.ids and solved.supply[engine.column(solved, s["process"])])
    for r in rows:
        s = by_id.get(r["id"])
        if s is None or s["pcf_kg_co2e_per_kg"] is None:
            r.setdefault("data", "")
            continue
        r.update({"source": f"{s['source']}" + (f" ({s['year']})" if s["year"] else ""), "dqr": s.get("dqr"),
                  "location": s["location"] or r["location"],
                  "data": f"supplier PCF, {s['verification']}"})


def dataset_registry(engine: Engine, solved, mapping) -> list[dict]:
    """Every dataset (process) the study used, with its sources, licence, geography, year, DQR and
    whether it is company-specific or a default (secondary) dataset."""
    procs = all_processes(engine.inventory)
    sources = engine.inventory.sources
    supplier_pcf = {s["process"]: s for s in mapping.suppliers if s["pcf_kg_co2e_per_kg"] is not None}
    company_bom = any(b.data == "company-specific" for b in mapping.bom)
    out = []
    for node_id, col in solved.lca.dicts.activity.items():
        if solved.supply[col] == 0:
            continue
        p = procs[engine.codes[node_id]]
        keys = sorted({k for k in [p.source, *(x.source for x in p.exchanges)] if k})
        supplier_file = p.file.startswith("supplier/")
        if p.id in supplier_pcf:
            sup = supplier_pcf[p.id]
            out.append({"id": p.id, "name": p.name, "location": sup["location"] or p.location,
                        "reference_year": sup["year"],
                        "data": f"company-specific (supplier PCF, {sup['verification']})",
                        "sources": [sup["source"]], "licence": "supplier data", "dqr": sup.get("dqr"), "proxy": None,
                        "file": "study: suppliers"})
            continue
        data = "model structure" if p.file == "model" else \
            "company-specific (supplier inventory)" if supplier_file else "secondary (default)"
        if p.id == mapping.cell_id and company_bom:
            data = "company-specific (bill of materials) with default processes"
        out.append({"id": p.id, "name": p.name, "location": p.location, "reference_year": p.reference_year,
                    "data": data,
                    "sources": [f"{sources[k].author} ({sources[k].year}), {sources[k].title}; {sources[k].table}"
                                for k in keys if k in sources],
                    "source_keys": keys,
                    "licence": "; ".join(sorted({sources[k].licence for k in keys if k in sources})),
                    "dqr": p.dqr_value, "proxy": p.proxy, "file": p.file})
    out.sort(key=lambda d: (d["file"], d["id"]))
    return out


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for pkg in ("bw2data", "bw2calc", "bw2io", "bw_processing", "numpy", "scipy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


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
    minimum recycled content, the accounting rule of the study and the critical-review notice.
    """
    from .analysis.compare import CRITICAL_REVIEW, curves, material_table
    from .model.recycling import EU_MINIMUM_RECYCLED_CONTENT
    from .errors import StudyError
    from .study import as_overrides
    overrides = as_overrides(overrides, str(study))
    st, mapping, engine = prepare_mapping(study, overrides, engine)
    solved = engine.solve(mapping.entries, st.method)
    procs = all_processes(engine.inventory)
    mats = material_table(engine, solved, procs, engine.inventory)
    metals = mapping.recycling["recyclable_metals"]
    if not metals:
        raise StudyError(f"route '{st.recycling.route}' recovers none of Co, Ni, Li that this cell's cathode draws",
                         file=str(study), field="recycling.route",
                         allowed=", ".join(mapping.recycling["routes_for_cell"]) or "none for this chemistry")
    rows = curves(study, overrides, engine, metals=metals, steps=steps, progress=progress)
    base = footprint(study, overrides, engine=engine, details=False)
    return {
        "study": st.name, "chemistry": base["chemistry"], "plant_country": st.plant.country,
        "accounting_of_study": st.recycling.accounting,
        "allocation_of_recycling_coproducts": st.allocation.get("recycling") or "default of each route: "
        "economic where every co-product has a price, else mass",
        "cff_parameters": {"A": {m: st.recycling.cff.a(m) for m in ("Co", "Ni", "Li")},
                           "qsin_qp": st.recycling.cff.qsin_qp, "qsout_qp": st.recycling.cff.qsout_qp,
                           "reason": st.recycling.cff.reason or "EF defaults (A = 0.2 for metals, Q = 1)"},
        "kg_co2e_per_kwh": base["kg_co2e_per_kwh"],
        "materials": mats,
        "metals": metals,
        "curves": rows,
        "eu_minimum_recycled_content": {str(k): v for k, v in EU_MINIMUM_RECYCLED_CONTENT.items()},
        "critical_review": CRITICAL_REVIEW,
        "method": base["method"], "inventory": base["inventory"], "software": base["software"],
    }


def sweep(study, grid: dict[str, list], overrides=None, *, engine: Engine | None = None, progress=None) -> list[dict]:
    """Footprints over the Cartesian product of ``grid`` (study path -> values), on the same matrices.

    Each scenario is one more override vector on the same databases (one sparse solve each).

    Examples
    --------
    >>> sweep("examples/nmc811-cn.yaml", {"plant.country": ["CN", "SE"],
    ...        "recycling.recycled_content.Co.post_consumer": [0, 0.16, 0.26]})   # doctest: +SKIP
    """
    import itertools
    from .analysis import contribution as contrib
    from .study import as_overrides
    overrides = as_overrides(overrides, str(study))
    keys = list(grid)
    combos = list(itertools.product(*(grid[k] for k in keys)))
    rows = []
    for n, combo in enumerate(combos):
        ov = {**overrides, **dict(zip(keys, combo))}
        st, mapping, eng = prepare_mapping(study, ov, engine)
        engine = eng
        solved = eng.solve(mapping.entries, st.method)
        solved.stage_overrides = dict(st.stage_overrides)
        stages, _ = contrib.stage_split(eng, solved, mapping.entries)
        rows.append({**dict(zip(keys, combo)), "kg_co2e_per_kwh": solved.total,
                     "kg_co2e_per_kg": solved.total * mapping.bom_info["energy_density_kwh_per_kg"],
                     "kg_co2e_per_cell": solved.total * st.cell.energy_kwh,
                     **{f"stage:{k}": v for k, v in stages.items()},
                     **{f"gas:{k}": v for k, v in contrib.gas_scores(solved).items()}})
        if progress:
            progress(n + 1, len(combos))
    return rows


def uncertainty(study, overrides=None, *, engine: Engine | None = None, samples: int = 200, seed: int = 42,
                progress=None) -> dict:
    """Monte Carlo of the footprint per kWh from the datasets' data quality (pedigree factors).

    Returns the deterministic value with mean, median, standard deviation, CV and the 2.5/5/95/97.5
    percentiles, the samples, the seed and how the distributions were built."""
    from .analysis.uncertainty import BASIC_UNCERTAINTY, PEF_TO_PEDIGREE, SOURCES, summary
    st, mapping, engine = prepare_mapping(study, overrides, engine)
    det = engine.solve(mapping.entries, st.method).total
    values = engine.monte_carlo(mapping.entries, st.method, samples, seed, progress)
    return {"study": st.name, "kg_co2e_per_kwh": summary(values, det), "samples": values.tolist(), "seed": seed,
            "method": ("lognormal on every exchange, median = deterministic amount, sigma from the dataset's PEF "
                       f"scores via pedigree factors ({', '.join(f'{k}->{v}' for k, v in PEF_TO_PEDIGREE.items())}; "
                       f"basic uncertainty {BASIC_UNCERTAINTY}); study choices and characterization factors fixed"),
            "sources": list(SOURCES),
            "statement": ("The 95 % interval reflects data quality as scored, not model or scenario uncertainty "
                          "(GHG Protocol Product Standard ch. 10: report both; see the sensitivity runs)."),
            "inventory": {"content_hash": engine.inventory.content_hash}}


def material_footprint(process_id: str, study=None, overrides=None, *, locations: dict[str, str] | None = None,
                       engine: Engine | None = None) -> dict:
    """Cradle-to-gate footprint of 1 unit (usually 1 kg) of one process of the inventories.

    The study (default: the embedded default study) sets the switches (allocation, supply routes,
    sites); ``locations`` moves the grid of site-switchable processes (``{process id: country}``,
    as ``suppliers.<id>.location`` in a study).

    Returns
    -------
    dict with ``process``, ``unit``, ``kg_co2e`` (per unit of the process), ``kwh_grid`` (grid
    electricity drawn in the whole supply chain, by switch alternative) and ``locations``.
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
    for pid in procs:
        if pid.startswith("electricity_grid_") and pid in engine.ids:
            kwh = float(solved.supply[engine.column(solved, pid)])
            if kwh:
                grid[pid[len("electricity_grid_"):].upper()] = kwh
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
