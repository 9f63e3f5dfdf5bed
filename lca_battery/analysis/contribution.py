"""Contribution analysis on a solved system: by process, by life-cycle stage, by material and by gas.

Stage attribution. Foreground processes carry a stage; background processes (electricity,
fuels, chemicals) carry none and take the stage of whoever consumes them. With ``S`` the
staged and ``N`` the unstaged processes, the supply of ``N`` splits exactly, by linearity, into
``A_NN^-1 d_X`` for each stage ``X`` where ``d_X = -A_NS[:, X] s_X`` is what stage ``X``
demands of the background. The parts add up to the total to solver precision; a test checks it.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..inventory.records import STAGES

UNASSIGNED = "unassigned"


def process_stages(engine, solved) -> list[str | None]:
    """Stage of each matrix column (None for background); the study's ``stage_overrides``
    (process-id patterns, e.g. ``cam_*: main_production``) take precedence over the inventory."""
    from fnmatch import fnmatchcase
    lca = solved.lca
    out = [None] * len(lca.dicts.activity)
    for node_id, col in lca.dicts.activity.items():
        pid = engine.codes[node_id]
        stage = engine.processes[pid].stage
        for pattern, new in solved.stage_overrides.items():
            if stage is not None and fnmatchcase(pid, pattern):
                stage = new
        out[col] = stage
    return out


def stage_split(engine, solved, entries, with_supply: bool = False):
    """Stages of the solved system, with the cell's end-of-life branch (burdens and credits) in
    ``end_of_life`` as a whole; returns (stages, end-of-life branch or None) and, ``with_supply``, the supply of
    every column split by the stage it serves (:func:`_supply_split`, from the same solve)."""
    eol = end_of_life_branch(engine, solved, entries)
    supply = solved.supply if eol is None else solved.supply - eol["supply"]
    parts = _background_by_stage(engine, solved, supply)
    stages = _stage_scores(solved, supply, *parts)
    if eol is not None:
        stages["end_of_life"] += eol["total"]
    if with_supply:
        return stages, eol, _supply_split(solved, supply, eol, *parts)
    return stages, eol


def _background_by_stage(engine, solved, supply: np.ndarray):
    """The parts of the system run at ``supply``: the stage of each column, the unstaged columns ``N``, the direct
    score per unit of each column, and for each stage ``X`` the supply of ``N`` that ``X`` calls for
    (``A_NN^-1 d_X``; see the module's docstring)."""
    lca = solved.lca
    A = sp.csc_matrix(lca.technosphere_matrix)
    stages = process_stages(engine, solved)
    staged = np.array([s is not None for s in stages])
    N = np.flatnonzero(~staged)
    per_unit = np.asarray(solved.cf["total"] @ lca.biosphere_matrix).ravel()
    parts: dict[str, np.ndarray] = {}
    if len(N):
        # rows and columns coincide (one product per process), so N indexes both
        solve = spla.factorized(A[N][:, N].tocsc())
        for stage in STAGES:
            cols = np.flatnonzero(np.array([s == stage for s in stages]))
            if len(cols) == 0:
                continue
            d = -(A[N][:, cols] @ supply[cols])
            if np.any(d):
                parts[stage] = solve(np.asarray(d).ravel())
    return stages, N, per_unit, parts


def stage_scores(engine, solved, supply: np.ndarray | None = None) -> dict[str, float]:
    """Stage split of the system run at ``supply`` (default: the solved supply)."""
    supply = solved.supply if supply is None else supply
    return _stage_scores(solved, supply, *_background_by_stage(engine, solved, supply))


def _stage_scores(solved, supply, stages, N, per_unit, parts) -> dict[str, float]:
    scores = per_unit * supply
    result = {s: 0.0 for s in STAGES}
    for col in np.flatnonzero(np.array([s is not None for s in stages])):
        result[stages[col]] += float(scores[col])
    if len(N) == 0:
        return result
    B_cf = per_unit[N]
    attributed = 0.0
    for stage, x in parts.items():
        part = float(B_cf @ x)
        result[stage] += part
        attributed += part
    residual = float(scores[N].sum()) - attributed
    if abs(residual) > 1e-9 * max(1.0, abs(solved.total)):
        result[UNASSIGNED] = residual
    return result


def _supply_split(solved, supply, eol, stages, N, per_unit, parts) -> dict[str, np.ndarray]:
    """The solved supply of every column split by the life-cycle stage it serves (the split of the stage table:
    a background process's supply into what each stage calls for, the cell's end-of-life branch whole to
    ``end_of_life``); the vectors add up to the supply, to solver precision (a rest that no stage calls for,
    if any, under ``unassigned``)."""
    out = {s: np.zeros_like(supply, dtype=float) for s in STAGES}
    for col, st in enumerate(stages):
        if st is not None:
            out[st][col] = supply[col]
    rest = np.array(supply[N], dtype=float)
    for st, x in parts.items():
        out[st][N] += x
        rest -= x
    if eol is not None:
        out["end_of_life"] = out["end_of_life"] + eol["supply"]
    if len(N) and np.any(np.abs(rest) > 1e-9 * max(1.0, float(np.abs(solved.supply).max()))):
        out[UNASSIGNED] = np.zeros_like(supply, dtype=float)
        out[UNASSIGNED][N] = rest
    return out


def stage_label(shares: dict[str, float]) -> str:
    """A process's stage as the tables print it: its stage, or for a background process that serves several
    stages each stage's share of its supply."""
    big = {k: v for k, v in shares.items() if abs(v) > 1e-9}
    if len(big) == 1:
        return next(iter(big))
    return ", ".join(f"{k} {v:.1%}" for k, v in sorted(big.items(), key=lambda kv: -abs(kv[1])))


def end_of_life_branch(engine, solved, entries) -> dict | None:
    """The cell's end of life (avoided burden, CFF): burdens and credits, reported apart.

    Returns the branch's supply vector (to take out of the stage split), its burden (route
    inputs) and its credits (avoided virgin materials, negative)."""
    from ..model.superstructure import ROOT
    eol = [(e.input, e.amount) for e in entries
           if e.output == ROOT and e.input.startswith("eol_treatment__") and e.amount]
    if not eol:
        return None
    supply, total = engine.resolve(solved, dict(eol))
    credits = 0.0
    rows = []
    for pid, amount in eol:
        for e in entries:
            if e.output == pid and e.matrix == "technosphere" and e.amount < 0:
                _, score = engine.resolve(solved, {e.input: -e.amount * amount})
                credits -= score
                rows.append({"avoided": e.input, "kg": -e.amount * amount, "kg_co2e_per_kwh": -score})
    return {"supply": supply, "total": total, "credits": credits, "burdens": total - credits, "avoided": rows}


def process_table(engine, solved, per: float = 1.0, by_stage: dict | None = None) -> list[dict]:
    """One row per process with a non-zero score, largest first. ``per`` scales to the unit. ``by_stage``
    (:func:`stage_split` ``with_supply``): each row's score split by the stage it serves (``kg_co2e_<stage>``; a background
    process serves its consumers' stages), so that the columns add up to the stage table."""
    lca = solved.lca
    stages = process_stages(engine, solved)
    total = solved.total
    rows = []
    for node_id, col in lca.dicts.activity.items():
        score = float(solved.scores[col]) * per
        if score == 0.0 or solved.negligible(solved.scores[col]):
            continue
        p = engine.processes[engine.codes[node_id]]
        stage, split = stages[col] or "background", {}
        if by_stage is not None and solved.supply[col]:
            shares = {st: float(v[col] / solved.supply[col]) for st, v in by_stage.items()}
            split = {f"kg_co2e_{st}": score * sh for st, sh in shares.items()}
            stage = stage_label(shares)
        link = getattr(engine, "links", {}).get(p.id)
        if link is not None:      # a node linked to a licensed background database
            rows.append({"id": p.id, "name": f"{link.name} | {link.reference_product}", "location": link.location,
                         "stage": stage, "kg_co2e": score, **split,
                         "share": score / (total * per) if total else 0.0, "dqr": None, "source": link.key[0]})
            continue
        rows.append({"id": p.id, "name": p.name, "location": p.location, "stage": stage,
                     "kg_co2e": score, **split, "share": score / (total * per) if total else 0.0,
                     "dqr": p.dqr_value, "source": p.source or ""})
    rows.sort(key=lambda r: -abs(r["kg_co2e"]))
    cumulative = 0.0
    for r in rows:
        r["most_relevant"] = cumulative < 0.8
        cumulative += abs(r["share"])
    return rows


def input_contributions(engine, solved, process_id: str, per: float = 1.0) -> list[dict]:
    """Cradle-to-gate footprint of each direct input of ``process_id`` as actually supplied."""
    lca = solved.lca
    col = engine.column(solved, process_id)
    A = sp.csc_matrix(lca.technosphere_matrix)
    s = solved.supply[col]
    colvec = A[:, col].tocoo()
    rev_product = {v: k for k, v in lca.dicts.product.items()}
    rows = []
    for row, value in zip(colvec.row, colvec.data):
        if row == col or value == 0:
            continue
        pid = engine.codes[rev_product[row]]
        amount = -value * s
        _, score = engine.resolve(solved, {pid: amount})
        rows.append({"id": pid, "name": engine.processes[pid].name, "amount": amount * per,
                     "unit": engine.processes[pid].unit, "kg_co2e": score * per,
                     "share": score / solved.total if solved.total else 0.0})
    rows.sort(key=lambda r: -abs(r["kg_co2e"]))
    return rows


def greenhouse_gases(engine, solved) -> list[dict]:
    """The result by greenhouse gas (ISO 14067: each gas's emission and its CO2e): for every characterised flow,
    kg emitted per unit of demand (all compartments together) and kg CO2e; largest first. They add up to the
    total."""
    lca = solved.lca
    names = engine.biosphere_names(solved)
    mass = np.asarray(lca.biosphere_matrix @ solved.supply).ravel()
    cf = np.asarray(solved.cf["total"]).ravel()
    out: dict[str, dict] = {}
    for row in np.flatnonzero(cf * mass):
        name = names.get(int(row), f"biosphere row {row}").split("::")[0]
        g = out.setdefault(name, {"gas": name, "kg": 0.0, "kg_co2e": 0.0})
        g["kg"] += float(mass[row])
        g["kg_co2e"] += float(cf[row] * mass[row])
    return sorted(out.values(), key=lambda g: -abs(g["kg_co2e"]))


def gas_scores(solved) -> dict[str, float]:
    return {part: float(v.sum()) for part, v in solved.gas_scores.items()}


def weighted_dqr(rows: list[dict]) -> float:
    """Contribution-weighted PEF DQR over processes (weights: absolute scores)."""
    w = sum(abs(r["kg_co2e"]) for r in rows)
    return sum(abs(r["kg_co2e"]) * r["dqr"] for r in rows) / w if w else float("nan")


def electricity_sites(engine, solved, entries, by_stage: dict | None = None) -> list[dict]:
    """Electricity per site (the cell plant and each material's production site): kWh per unit of
    the demand, the mix, its factor (kg CO2e/kWh, cradle-to-gate) and the sources of the factors; ``by_stage``
    (:func:`stage_split` ``with_supply``): the stage each site's kWh serve (a background site serves its consumers')."""
    from ..model.superstructure import PLANT_ELECTRICITY, SITE_PREFIX
    procs = engine.processes
    shares: dict[str, dict[str, float]] = {}
    for e in entries:
        if e.matrix == "technosphere" and (e.output == PLANT_ELECTRICITY or e.output.startswith(SITE_PREFIX)):
            if e.amount:
                shares.setdefault(e.output, {})[e.input] = e.amount
    factor_cache: dict[str, float] = {}
    rows = []
    for sw, mix in shares.items():
        col = engine.column(solved, sw)
        if not solved.used(col):
            continue
        kwh = float(solved.supply[col])
        for pid in mix:
            if pid not in factor_cache:
                factor_cache[pid] = engine.resolve(solved, {pid: 1.0})[1]
        factor = sum(share * factor_cache[pid] for pid, share in mix.items())
        # the site's owner: a process of the databases, or a recycling route (in the inventory only: its variants
        # and treatments are what the databases hold)
        owner = None if sw == PLANT_ELECTRICITY else (procs.get(sw[len(SITE_PREFIX):])
                                                      or engine.inventory.processes[sw[len(SITE_PREFIX):]])
        site = "cell plant" if owner is None else owner.name
        # a background site (no stage of its own) takes its consumers' stages: labelled as in processes.csv
        stage = "main_production" if owner is None else (owner.stage or "background")
        if by_stage is not None and kwh:
            stage = stage_label({st: float(v[col] / kwh) for st, v in by_stage.items()})
        rows.append({"site": site, "switch": sw, "stage": stage, "kwh": kwh,
                     "mix": {procs[pid].name: share for pid, share in mix.items()},
                     "factor_kg_co2e_per_kwh": factor, "kg_co2e": kwh * factor,
                     "sources": sorted({procs[pid].source for pid in mix if procs[pid].source})})
    rows.sort(key=lambda r: -r["kwh"])
    return rows


def unit_footprints(solved) -> np.ndarray:
    """Cradle-to-gate score of one unit of each product of the solved system, by matrix column (one
    transposed solve)."""
    lca = solved.lca
    A = sp.csc_matrix(lca.technosphere_matrix)
    direct = np.asarray(solved.cf["total"] @ lca.biosphere_matrix).ravel()
    return spla.spsolve(A.T.tocsc(), direct)


def cumulative_contributions(engine, solved, per_unit: np.ndarray | None = None) -> dict[str, float]:
    """Cumulative score of every process of the solved system: footprint of one unit of its product
    times the amount the system supplies (kg CO2e per unit of the demand), by process id."""
    per_unit = unit_footprints(solved) if per_unit is None else per_unit
    return {engine.codes[node]: float(per_unit[col] * solved.supply[col])
            for node, col in solved.lca.dicts.activity.items()}


def exchange_contribution(engine, solved, pid: str, exchanges, per_unit: np.ndarray) -> float:
    """Score the solved system owes to some of ``pid``'s exchanges: a technosphere input's amount x the
    cradle-to-gate footprint of one unit of it, a biosphere flow's amount x its characterisation factor, times the
    supply of ``pid``. The amounts are the study's (the matrix entry of each input or flow); where ``pid`` has
    other exchanges of the same input or flow, the entry is shared in proportion to the inventory's amounts."""
    from ..model.base import bio_key
    lca = solved.lca
    col = engine.column(solved, pid)
    supply = solved.supply[col]
    A = lca.technosphere_matrix
    B = lca.biosphere_matrix
    everything = engine.processes[pid].exchanges

    def key(x):
        return ("b", bio_key((x.target, x.compartment))) if x.kind == "biosphere" else ("t", x.target)

    chosen: dict[tuple, float] = {}
    for x in exchanges:
        chosen[key(x)] = chosen.get(key(x), 0.0) + x.amount
    total = 0.0
    for k, amount in chosen.items():
        whole = sum(x.amount for x in everything if key(x) == k)
        share = amount / whole if whole else 1.0
        if k[0] == "b":
            row = lca.dicts.biosphere[engine.bio_id(k[1])]
            total += share * float(B[row, col]) * float(solved.cf["total"][row]) * supply
        elif k[1] in engine.ids:
            row = lca.dicts.product[engine.ids[k[1]]]
            unit = float(per_unit[lca.dicts.activity[engine.ids[k[1]]]])
            total += share * -float(A[row, col]) * unit * supply
    return total
