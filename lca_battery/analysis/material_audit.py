"""Audit of the materials that carry a cell's footprint (issue 7, point 1).

Every material or intermediate whose cumulative footprint (its product's cradle-to-gate footprint
per unit times the amount the system draws of it) is above a threshold of the cell should be a unit
process whose electricity and heat are explicit inputs from the engine's own background, not one
aggregated factor; then its production site is a study setting that really changes the footprint.

:func:`~lca_battery.analysis.contribution.cumulative_contributions` gives every process's cumulative score in one
transposed solve (``x^T A = c^T B``: ``x_j`` is the footprint of one unit of process ``j``'s product), and
:func:`material_audit` walks, for each material above the threshold, its own supply chain (on the
study's matrix) down to the first aggregated factor, looking for an explicit electricity, heat or fuel
input (fuel: e.g. diesel burned in mining machinery, which has no grid to move).

Materials above the threshold that are still aggregated, or have no explicit energy input, by
necessity are listed in :data:`EXCEPTIONS` with the phrase of their own dataset that gives the
reason (``tests/test_material_audit.py`` holds the same list and fails on any other one);
:data:`UNDOCUMENTED` lists those found without a reason in their dataset.
"""
from __future__ import annotations

import scipy.sparse as sp

from .contribution import cumulative_contributions
from ..model.superstructure import (DISTRIBUTION, PLANT_ELECTRICITY, PLANT_HEAT, PLANT_STEP_PREFIX, RESIDUAL_MIX,
                                    ROOT, SITE_POWER_PREFIXES, SITE_PREFIX)

#: Files of the background whose processes are energy carriers and transport, not materials.
ENERGY_FILES = ("background/electricity.yaml", "background/energy_transport.yaml")
#: Default threshold: share of the cell's footprint (issue 7 point 1: "more than 2 %").
THRESHOLD = 0.02

#: Documented exceptions: material -> (dataset field, the phrase of that field that gives the reason).
EXCEPTIONS = {
    "nickel_mhp_hpal_id": ("proxy", "was not built because no per-t figure was readable"),
}
# Not listed any more: hazardous-waste incineration (since 2026-12 the IPCC defaults for fossil liquid and for
# industrial waste, 2.93 and 1.65 kg fossil CO2 per kg, in place of burning kerosene: below 2 % of every cell);
# the Indonesian NPI gate and its NPI-to-matte step (one unit process since 2026-12: an
# Indonesian RKEF-to-matte producer's electricity per t Ni on captive coal power, its other emissions and the
# fuels' supply, nickel_matte_from_npi_id); quicklime (a unit process with its kiln's coal, gas and electricity, USLCI) and with it
# calcined_petroleum_coke, whose chain now draws explicit energy through its lime; the calciner itself burns
# its own volatiles and makes its power from waste heat, so it has no grid input and no site switch.
#: Found by the audit with an aggregated factor and no reason in the dataset (``proxy: null``):
#: material -> the comment of its aggregated exchange.
UNDOCUMENTED: dict = {}


def exception_reason(engine, pid: str) -> str:
    """The sentence of the dataset that gives the reason of a listed exception ('' if none)."""
    import re
    if pid in UNDOCUMENTED:
        return f"not documented (proxy: null); aggregated exchange: {UNDOCUMENTED[pid]}"
    if pid not in EXCEPTIONS:
        return ""
    field, phrase = EXCEPTIONS[pid]
    text = " ".join((getattr(engine.processes[pid], field) or "").split())
    at = text.find(phrase)
    if at < 0:
        return ""
    starts = [m.end() for m in re.finditer(r"[.;]\s+(?=[A-Z])", text[:at])]
    start = starts[-1] if starts else 0
    end = re.search(r"[.:;](\s|$)|$", text[at + len(phrase):])
    sentence = text[start:at + len(phrase) + end.start() + (1 if end.group() else 0)].strip()
    if sentence.endswith(":"):          # the sentence goes on with a list (the sources searched): say where it is
        sentence = sentence[:-1] + " (the sources searched are listed in the dataset)."
    return sentence


def is_electricity(pid: str) -> bool:
    return pid.startswith((*SITE_POWER_PREFIXES, SITE_PREFIX)) or \
        pid in (PLANT_ELECTRICITY, RESIDUAL_MIX)


def is_heat(pid: str) -> bool:
    return pid.startswith("heat_") or pid in ("steam_industrial", PLANT_HEAT)


def is_fuel(p) -> bool:
    """A fuel of the open background (natural gas, coal, diesel, kerosene, wood; diesel burned in machinery)."""
    return p.file == "background/energy_transport.yaml" and not (is_heat(p.id) or p.id.startswith("transport_"))


def is_material(p) -> bool:
    """A material or intermediate product: not the product system, a cell, the distribution leg, a
    cell-plant step, an energy carrier or transport."""
    pid = p.id
    if pid in (ROOT, DISTRIBUTION) or pid.startswith(("cell_", PLANT_STEP_PREFIX)):
        return False
    if is_electricity(pid) or is_heat(pid) or pid.startswith("transport_"):
        return False
    return p.file not in ENERGY_FILES


def is_aggregated(p) -> bool:
    """One aggregated cradle-to-gate factor (``aggregated: true`` on a biosphere exchange)."""
    return any(x.kind == "biosphere" and x.aggregated for x in p.exchanges)


def _inputs(engine, solved, A, rev_product, pid: str) -> list[str]:
    """Technosphere inputs of ``pid`` actually drawn in the study's matrix (non-zero, consumed)."""
    col = engine.column(solved, pid)
    c = A[:, col].tocoo()
    return [engine.codes[rev_product[r]] for r, v in zip(c.row, c.data) if r != col and v < 0]


def energy_chain(engine, solved, pid: str, A=None, rev_product=None) -> dict:
    """Walk the supply chain of ``pid`` on the study's matrix, not past aggregated factors.

    Returns ``{"electricity": [...], "heat": [...], "fuel": [...], "aggregated": [...]}``: the unit
    processes of the chain that draw electricity / heat / a fuel (burned on site, e.g. diesel in mining
    machinery) explicitly, and the aggregated materials met (where the walk stops)."""
    lca = solved.lca
    if A is None:
        A = sp.csc_matrix(lca.technosphere_matrix)
    if rev_product is None:
        rev_product = {v: k for k, v in lca.dicts.product.items()}
    procs = engine.processes
    out = {"electricity": [], "heat": [], "fuel": [], "aggregated": []}
    seen, todo = set(), [pid]
    while todo:
        q = todo.pop()
        if q in seen:
            continue
        seen.add(q)
        p = procs[q]
        if is_aggregated(p):
            if is_material(p):
                out["aggregated"].append(q)
            continue
        for inp in _inputs(engine, solved, A, rev_product, q):
            if is_electricity(inp):
                if not p.is_switch and q not in out["electricity"]:
                    out["electricity"].append(q)
            elif is_heat(inp):
                if not p.is_switch and q not in out["heat"]:
                    out["heat"].append(q)
            elif is_fuel(procs[inp]):
                if not p.is_switch and q not in out["fuel"]:
                    out["fuel"].append(q)
            elif is_material(procs[inp]):
                todo.append(inp)
    return out


def own_energy(engine, solved, pid: str, A=None, rev_product=None) -> dict[str, float]:
    """What the process ``pid`` itself draws, per unit of the demand: ``site_kwh`` (its grid electricity,
    through its site switch), ``plant_kwh`` (cell-plant electricity: it is made at the cell plant, whose
    site is ``plant.country``), ``heat`` and ``fuel`` (1 if drawn, else 0: units differ)."""
    lca = solved.lca
    if A is None:
        A = sp.csc_matrix(lca.technosphere_matrix)
    if rev_product is None:
        rev_product = {v: k for k, v in lca.dicts.product.items()}
    col = engine.column(solved, pid)
    out = {"site_kwh": 0.0, "plant_kwh": 0.0, "heat": 0.0, "fuel": 0.0}
    c = A[:, col].tocoo()
    for r, v in zip(c.row, c.data):
        if r == col or v >= 0:
            continue
        inp = engine.codes[rev_product[r]]
        amount = float(-v * solved.supply[col])
        if inp == PLANT_ELECTRICITY:
            out["plant_kwh"] += amount
        elif is_electricity(inp):
            out["site_kwh"] += amount
        elif is_heat(inp):
            out["heat"] = 1.0
        elif is_fuel(engine.processes[inp]):
            out["fuel"] = 1.0
    return out


def material_audit(engine, solved, threshold: float = THRESHOLD) -> list[dict]:
    """One row per material (not a switch) whose cumulative share of the solved total is above
    ``threshold``, largest first: share, whether it is a unit process with explicit electricity, heat
    or fuel before the first aggregated factor (``unit_process``), the unit processes that draw them,
    the aggregated materials met, what its own process draws (``own``: see :func:`own_energy`), the kWh
    at its own site per unit of the demand (``site_kwh``) and whether its site is a study setting
    (``switchable``: it has a site switch, ``suppliers.<id>.location``; ``made_at_plant``: its inventory
    draws the cell plant's electricity or heat, moved by ``plant.country``; with the plant-step energy
    model the study sets those to 0 and the cell's plant steps carry the energy instead)."""
    lca = solved.lca
    A = sp.csc_matrix(lca.technosphere_matrix)
    rev_product = {v: k for k, v in lca.dicts.product.items()}
    total = solved.total
    procs = engine.processes
    rows = []
    for pid, score in cumulative_contributions(engine, solved).items():
        p = procs[pid]
        if not total or score / total <= threshold or not is_material(p) or p.is_switch:
            continue
        chain = energy_chain(engine, solved, pid, A, rev_product)
        own = own_energy(engine, solved, pid, A, rev_product)
        rows.append({"id": pid, "name": p.name, "location": p.location, "kg_co2e": score, "share": score / total,
                     "aggregated": is_aggregated(p), "unit_process": bool(chain["electricity"] or chain["heat"] or chain["fuel"]),
                     "electricity_at": chain["electricity"], "heat_at": chain["heat"], "fuel_at": chain["fuel"],
                     "aggregated_inputs": chain["aggregated"], "own": own, "site_kwh": own["site_kwh"],
                     "switchable": SITE_PREFIX + pid in engine.ids,
                     "made_at_plant": any(x.target in (PLANT_ELECTRICITY, PLANT_HEAT) for x in p.exchanges),
                     "proxy": p.proxy})
    # by share, equal shares (a unit converter and its salt) by name: rounding noise of the solve does not reorder
    rows.sort(key=lambda r: (-round(r["share"], 9), r["id"]))
    return rows


#: Order of the default chemistries in the audit (others follow alphabetically).
CHEMISTRY_ORDER = ("NMC811", "NMC622", "NMC532", "NMC111", "NCA", "LFP", "NMMT")


def default_chemistries(engine) -> list[str]:
    """Every chemistry with a default cell in the inventories (``cell_<chemistry>``)."""
    from ..model.superstructure import chemistries
    names = set(chemistries(engine.inventory))
    return [c for c in CHEMISTRY_ORDER if c in names] + sorted(names - set(CHEMISTRY_ORDER))


def audit_chemistries(engine, study=None, chemistries=None, threshold: float = THRESHOLD) -> list[dict]:
    """:func:`material_audit` of the default cell of each chemistry (default: all) on ``study``
    (default: the embedded default study, CN plant), with the chemistry's design voltage; each row
    also carries ``chemistry`` and ``cell_kg_co2e_per_kwh``."""
    from ..prepare import prepare
    from ..study import DEFAULT_STUDY
    study = DEFAULT_STUDY if study is None else study
    rows = []
    for chem in chemistries or default_chemistries(engine):
        st, entries, engine = prepare(study, {"cell.chemistry": chem, "cell.nominal_voltage_v": None}, engine)
        solved = engine.solve(entries, st.method)
        for r in material_audit(engine, solved, threshold):
            rows.append({"chemistry": chem, "cell_kg_co2e_per_kwh": solved.total, **r})
    return rows
