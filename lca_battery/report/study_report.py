"""The ISO 14067 study report: the tables it needs beyond a footprint, and its HTML.

The report follows ISO 14067:2018 clause 7 (CFP study report) and the JRC rules for the carbon
footprint of EV batteries (CFB-EV, draft delegated act under Regulation (EU) 2023/1542 Art. 7).
Every table is computed from the solved system of the study; the HTML is rendered from Jinja2
templates (``templates/``) and holds its charts as inline SVG, so that it opens without network.

Cut-off log. Inventory processes list the flows they leave out under ``excluded:``, each with its
size: either an own estimate of a share of the process footprint (``share``), which the report
turns into ``share x cradle-to-gate footprint of the process as supplied in this study``, or a
figure computed per unit of the process's product from stated amounts and factors (``kg_co2e``
with its ``basis``), which it multiplies by the amount the study draws. The total is given as a
share of the study's result (PEF: at most 3 %). A share applies to the whole cradle-to-gate
footprint of its process, the supply chain included, so the total is an upper bound.
"""
from __future__ import annotations

import textwrap
from collections import defaultdict

from ..inventory.records import DQR_KEYS
from ..model.superstructure import all_processes

#: ISO 14067 / PEF cut-off limit on the total of excluded flows
CUTOFF_LIMIT = 0.03
STAGE_LABELS = {"raw_material_acquisition": "Raw material acquisition and pre-processing",
                "main_production": "Main product production", "distribution": "Distribution",
                "end_of_life": "End of life and recycling", "unassigned": "unassigned"}
SECTIONS = (
    ("goal", "1. Goal of the study"),
    ("scope", "2. Scope, declared unit and functional unit"),
    ("boundary", "3. System boundary"),
    ("cutoff", "4. Cut-off and exclusions"),
    ("data", "5. Data sources and data quality"),
    ("allocation", "6. Allocation"),
    ("electricity", "7. Electricity"),
    ("results", "8. Results"),
    ("recycled", "9. Recycled content (Art. 8)"),
    ("sensitivity", "10. Sensitivity"),
    ("uncertainty", "11. Uncertainty"),
    ("limitations", "12. Limitations"),
    ("review", "13. Critical review and verification"),
)


def supply_chain_columns(solved) -> set[int]:
    """Matrix columns of the processes in the supply chain of the solved demand: those reached from the
    demanded product along non-zero technosphere exchanges. A process of another chemistry or an unused
    alternative is left out even where the solver's rounding gives it a supply of 1e-13 (``cam_nmmt`` in an
    NMC811 study)."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order
    lca = solved.lca
    a = abs(lca.technosphere_matrix).tocsr()
    a.eliminate_zeros()
    row_col = np.empty(a.shape[0], dtype=np.int64)
    for node_id, row in lca.dicts.product.items():
        row_col[row] = lca.dicts.activity[node_id]
    # graph over columns: column j -> the column that makes the product of row i, for A[i, j] != 0
    coo = a.tocoo()
    graph = sp.csr_matrix((np.ones(coo.nnz), (coo.col, row_col[coo.row])), shape=(a.shape[1], a.shape[1]))
    chain: set[int] = set()
    for row in np.flatnonzero(np.asarray(lca.demand_array)):
        chain.update(int(c) for c in breadth_first_order(graph, int(row_col[row]), directed=True,
                                                         return_predecessors=False))
    return chain


#: An exclusion this large is a data gap (its dataset a lower bound), not a cut-off of a minor flow; it still
#: counts in the cut-off total, and the report says which rows are gaps
DATA_GAP_SHARE = 0.3


def cutoff_log(engine, solved, total: float, per_unit=None) -> dict:
    """The flows the inventories leave out (``excluded:``), of the processes in this cell's supply chain
    only: a process outside it (another chemistry's cathode, an unused route) has nothing to cut off here.
    ``per_unit``: the unit footprints of the solved system
    (:func:`~lca_battery.analysis.contribution.unit_footprints`), when the caller has them."""
    from ..analysis.contribution import cumulative_contributions
    cumulative = cumulative_contributions(engine, solved, per_unit)
    rows = []
    chain = supply_chain_columns(solved)
    for node_id, col in solved.lca.dicts.activity.items():
        supply = float(solved.supply[col])
        p = engine.processes[engine.codes[node_id]]
        if not p.excluded or col not in chain or abs(supply) < 1e-14 or p.id in getattr(engine, "links", {}):
            continue
        score = cumulative[p.id]             # its cradle-to-gate footprint as this study draws it
        for ex in p.excluded:
            if "kg_co2e" in ex:              # computed per unit of product: times what the cell draws
                est = float(ex["kg_co2e"]) * supply
                share = est / score if score else 0.0
            else:                            # an own estimate of a share of the process footprint
                share = float(ex.get("share") or 0.0)
                est = share * score
            rows.append({"process": p.id, "name": p.name, "file": p.file, "flow": ex.get("flow", ""),
                         "share_of_process": share, "data_gap": share >= DATA_GAP_SHARE,
                         "process_kg_co2e_per_kwh": score,
                         "estimated_kg_co2e_per_kwh": est, "share_of_total": est / total if total else 0.0,
                         "reason": ex.get("reason", ""), "basis": ex.get("basis", "")})
    rows.sort(key=lambda r: -abs(r["estimated_kg_co2e_per_kwh"]))
    exempt = sum(r["estimated_kg_co2e_per_kwh"] for r in rows)
    share = exempt / total if total else 0.0
    return {"rows": rows, "total_kg_co2e_per_kwh": exempt, "total_share": share, "limit": CUTOFF_LIMIT,
            "data_gap_share": DATA_GAP_SHARE,
            "within_limit": abs(share) <= CUTOFF_LIMIT}


def dqr_by_criterion(engine, rows: list[dict]) -> dict:
    """Contribution-weighted (absolute scores) TeR, GeR, TiR, P and DQR over the processes."""
    w = sum(abs(r["kg_co2e"]) for r in rows)
    out = {}
    for k in DQR_KEYS:
        out[k] = sum(abs(r["kg_co2e"]) * float(engine.processes[r["id"]].dqr[k]) for r in rows) / w if w else None
    out["DQR"] = sum(out[k] for k in DQR_KEYS) / len(DQR_KEYS) if w else None
    return out


def dqr_level(v: float | None) -> str:
    if v is None:
        return "-"
    return ("excellent" if v <= 1.5 else "very good" if v <= 2 else "good" if v <= 3 else
            "fair" if v <= 4 else "poor")


def primary_share(result: dict) -> dict:
    data = {d["id"]: d["data"] for d in result["datasets"]}
    w = sum(abs(r["kg_co2e"]) for r in result["processes"])
    prim = sum(abs(r["kg_co2e"]) for r in result["processes"] if data.get(r["id"], "").startswith("company-specific"))
    return {"share": prim / w if w else 0.0,
            "processes": sorted(r["id"] for r in result["processes"]
                                if data.get(r["id"], "").startswith("company-specific")),
            "basis": "share of the absolute process contributions from company-specific (primary) datasets"}


def breakdowns(result: dict) -> dict:
    """Results by stage, material (cell input), process, country (process location) and gas; each
    sums to the total (a remainder row where the cell process has direct emissions of its own)."""
    total = result["kg_co2e_per_kwh"]
    stages = [{"key": k, "name": STAGE_LABELS.get(k, k), "kg_co2e_per_kwh": v} for k, v in result["stages"].items()]
    materials = [{"key": m["id"], "name": m["name"], "kg_co2e_per_kwh": m["kg_co2e_per_kwh"]}
                 for m in result.get("materials") or []]
    rest = total - sum(m["kg_co2e_per_kwh"] for m in materials)
    if materials and rest != 0.0:
        materials.append({"key": "cell_direct", "name": "direct emissions of the cell process (remainder)",
                          "kg_co2e_per_kwh": rest})
    proxies = {d["id"] for d in result.get("datasets") or [] if d.get("proxy")}
    processes = [{"key": r["id"], "name": f"{r['name']}, {r['location']}" + (" [proxy]" if r["id"] in proxies else ""),
                  "kg_co2e_per_kwh": r["kg_co2e"]} for r in result["processes"]]
    by_country: dict[str, float] = defaultdict(float)
    for r in result["processes"]:
        by_country[r["location"]] += r["kg_co2e"]
    countries = [{"key": k, "name": k, "kg_co2e_per_kwh": v}
                 for k, v in sorted(by_country.items(), key=lambda kv: -abs(kv[1]))]
    origin = [{"key": k, "name": k.replace("_", " "), "kg_co2e_per_kwh": v} for k, v in result["gases"].items()]
    gases = [{"key": g["gas"], "name": f"{g['gas']} ({g['kg']:.4g} kg)", "kg_co2e_per_kwh": g["kg_co2e"]}
             for g in result.get("greenhouse_gases") or []]
    out = {}
    for name, rows in (("stage", stages), ("material", materials), ("process", processes),
                       ("country", countries), ("greenhouse gas", gases),
                       ("GHG origin", origin)):
        for r in rows:
            r["share"] = r["kg_co2e_per_kwh"] / total if total else 0.0
        out[name] = rows
    return out


#: What the CFF of this engine models (Recommendation (EU) 2021/2279, Annex I): stated with every comparison of rules
CFF_TERMS = ("CFF: its material part is modelled (recycled content with A and Qsin/Qp; end-of-life recycling with "
             "(1 - A) R2 and Qsout/Qp); its energy-recovery and disposal terms are not: the share of the cell not "
             "collected (1 - R2) leaves the boundary without burden or credit, as under the cut-off")


def cathode_active_material(engine, result: dict, solved) -> dict | None:
    """The cathode active material of the study's cell on a line of its own (Annex II: shown explicitly): what the
    cell draws of it per kWh (the cathode's CAM input, a supplier's in its place) and its cradle-to-gate footprint."""
    procs = all_processes(engine.inventory)
    cathode = next((b["input"] for b in result["bom"] if b["role"] == "cathode" or b["input"].startswith("cathode_")),
                   None)
    if cathode is None or cathode not in procs:
        return None
    cams = [x.target for x in procs[cathode].exchanges if x.kind == "technosphere" and x.target.startswith("cam_")]
    supply = {c: float(solved.supply[engine.column(solved, c)]) for c in cams if c in engine.ids}
    cam = max(supply, key=supply.get, default=None)
    if cam is None or not supply[cam]:
        return None
    score = engine.resolve(solved, {cam: supply[cam]})[1]
    return {"id": cam, "name": procs[cam].name, "kg_per_kwh": supply[cam], "kg_co2e_per_kwh": score,
            "share": score / result["kg_co2e_per_kwh"] if result["kg_co2e_per_kwh"] else 0.0}


def allocation_register(engine, result: dict, solved, per_unit) -> list[dict]:
    """Every multi-output dataset the study uses (its ``allocation:`` record): co-products, basis and why that
    basis (ISO 14044 4.3.4.2), with the cradle-to-gate footprint of what the study draws from it (what the basis
    bears on; ``per_unit``: the unit footprints of the solved system), largest first."""
    procs = all_processes(engine.inventory)
    rows = []
    for d in result["datasets"]:
        p = procs.get(d["id"])
        a = p.extra.get("allocation") if p is not None else None
        if a:
            col = engine.column(solved, p.id)
            rows.append({"id": p.id, "name": p.name, "location": p.location, "basis": a["basis"],
                         "co_products": a["co_products"], "reason": " ".join(a["reason"].split()),
                         "kg_co2e_per_kwh": float(per_unit[col] * solved.supply[col])})
    return sorted(rows, key=lambda r: -abs(r["kg_co2e_per_kwh"]))


def accounting_side_by_side(run, overrides, base: dict, eol: float = 0.0) -> dict:
    """The three accounting rules on the study as given and, for each metal the cell holds, at the EU's 2031
    minimum recycled content (post-consumer): totals, end-of-life burdens and credits apart (REQUIREMENTS: report
    cut-off, avoided burden and CFF side by side). ``run(overrides)``: the study's footprint with those overrides
    (the caller's solver: this module does not reach up into the API); ``eol``: the study's collection rate."""
    from ..errors import StudyError
    from ..model.recycling import ACCOUNTING, EU_MINIMUM_RECYCLED_CONTENT
    content = base["element_kg_per_kwh"]
    rec = base["recycling"]
    cases = [("the study as given", {})]
    year = min(EU_MINIMUM_RECYCLED_CONTENT)
    for metal, share in EU_MINIMUM_RECYCLED_CONTENT[year].items():
        if content.get(metal, 0.0) > 0:
            given = dict((overrides or {}).get("recycling.recycled_content") or {})
            given[metal] = {"post_consumer": share}
            cases.append((f"{metal} at {share:.0%} post-consumer recycled content (EU minimum {year})",
                          {"recycling.recycled_content": given}))
    rows = []
    for label, extra in cases:
        row = {"case": label}
        for acc in ACCOUNTING:
            try:
                r = run({**(overrides or {}), **extra, "recycling.accounting": acc})
            except StudyError as exc:            # e.g. recycled content the route cannot supply for this cell
                row[acc] = {"error": exc.message}
                continue
            row[acc] = {"kg_co2e_per_kwh": r["kg_co2e_per_kwh"], "end_of_life": r["stages"]["end_of_life"],
                        "end_of_life_credits": r["recycling"]["end_of_life_credits"]}
        rows.append(row)
    return {"rules": list(ACCOUNTING), "study_rule": rec.get("accounting"), "rows": rows,
            "eol_collection_rate": eol,
            "note": (CFF_TERMS + ". " + ("The study collects no cell at end of life (recycling.eol_collection_rate "
                                         "= 0): end of life is outside the boundary under every rule, and the rules "
                                         "differ only through recycled content; --set "
                                         "recycling.eol_collection_rate=0.9 shows end-of-life burdens and credits "
                                         "apart." if not eol else
                                         f"End of life: {eol:.0%} of the cells collected for recycling (route "
                                         f"{rec.get('route')}); burdens and credits shown apart."))}


def recycled_content_check(result: dict) -> list[dict]:
    from ..model.recycling import EU_MINIMUM_RECYCLED_CONTENT
    rows = []
    comp = result.get("element_kg_per_kwh", {})
    for metal in ("Co", "Li", "Ni", "Pb"):
        v = result["recycling"]["metals"].get(metal)
        pre = (v or {}).get("R1_pre_consumer") or 0.0
        post = (v or {}).get("R1_post_consumer") or 0.0
        r1 = (v or {}).get("R1") or 0.0
        present = bool(comp.get(metal))
        row = {"metal": metal, "in_cell": present, "pre_consumer": pre, "post_consumer": post, "R1": r1}
        for year, mins in sorted(EU_MINIMUM_RECYCLED_CONTENT.items()):
            m = mins.get(metal)
            row[f"min_{year}"] = m
            row[f"meets_{year}"] = None if (m is None or not present) else r1 + 1e-12 >= m
        rows.append(row)
    return rows


def limitations(result: dict, engine, solved, per_unit=None) -> list[dict]:
    """Open datasets used that are proxies or carry aggregated cradle-to-gate figures (not those a licensed
    background or a supplier's figure replaces in this study), with what the result owes each:
    its own emissions (``direct_*``: these add up over the rows) and the part of the result that rests on the
    proxy or aggregated figure (``resting_*``): for a dataset that is a proxy or aggregated as a whole
    (``scope`` "dataset"), the cradle-to-gate footprint of what the study draws from it, its supply chain included;
    for one with proxies on some exchanges only (``scope`` "exchanges"), what those exchanges bring (input amount
    x its cradle-to-gate footprint, or flow amount x its factor). Resting parts nest (a proxy's supply chain can
    hold another), so they do not add up. Largest resting part first. ``per_unit`` as for :func:`cutoff_log`."""
    from ..analysis.contribution import cumulative_contributions, exchange_contribution, unit_footprints
    total = solved.total
    per_unit = unit_footprints(solved) if per_unit is None else per_unit
    cumulative = cumulative_contributions(engine, solved, per_unit)
    out = []
    for d in result["datasets"]:
        p = engine.processes.get(d["id"])
        if p is None or p.id not in engine.ids:
            continue
        if d.get("file", "").startswith("background: ") or d.get("file") == "study: suppliers":
            continue       # replaced by a licensed background's activity or a supplier's figure: not the open dataset
        proxied = [x for x in p.exchanges if x.proxy]
        aggregated = any(x.aggregated for x in p.exchanges)
        if not (p.proxy or proxied or aggregated):
            continue
        whole = bool(p.proxy or aggregated)
        resting = cumulative.get(p.id, 0.0) if whole else exchange_contribution(engine, solved, p.id, proxied,
                                                                                 per_unit)
        direct = float(solved.scores[engine.column(solved, p.id)])
        out.append({"id": p.id, "name": p.name, "location": p.location,
                    "scope": "dataset" if whole else "exchanges",
                    "proxy": p.proxy or "; ".join(sorted({x.proxy for x in proxied})[:2]),
                    "proxied_inputs": "" if whole else ", ".join(sorted({x.target for x in proxied})),
                    "aggregated": aggregated,
                    "direct_kg_co2e_per_kwh": direct, "direct_share": direct / total if total else 0.0,
                    "resting_kg_co2e_per_kwh": resting, "resting_share": resting / total if total else 0.0})
    out.sort(key=lambda r: (-abs(r["resting_kg_co2e_per_kwh"]), r["id"]))
    return out


def limitations_summary(rows: list[dict]) -> dict:
    """What the result owes the proxy and aggregated datasets together: their own emissions' share of the result
    (additive), their number, and the one the most of the result rests on."""
    top = rows[0] if rows else None
    return {"count": len(rows), "direct_share": sum(r["direct_share"] for r in rows),
            "aggregated_direct_share": sum(r["direct_share"] for r in rows if r["aggregated"]),
            "largest": {"id": top["id"], "resting_share": top["resting_share"]} if top else None}


def boundary(result: dict, engine) -> dict:
    """Boxes of the system-boundary diagram: the cell's inputs by stage, the cell, the stages
    outside the boundary. Coordinates for the SVG template."""
    mats = result.get("materials") or []
    cols = {"raw_material_acquisition": [], "main_production": []}
    for m in mats:
        p = engine.processes.get(m["id"])
        stage = p.stage if p is not None and p.stage in cols else "main_production"
        cols[stage].append({"label": textwrap.shorten(m["name"], 44, placeholder=" ..."),
                            "value": m["kg_co2e_per_kwh"]})
    box_h, gap, top = 26, 6, 70
    n = max(len(cols["raw_material_acquisition"]), len(cols["main_production"]), 4)
    height = top + n * (box_h + gap) + 40
    boxes = []
    for ci, key in enumerate(("raw_material_acquisition", "main_production")):
        for i, b in enumerate(cols[key]):
            boxes.append({**b, "x": 20 + ci * 330, "y": top + i * (box_h + gap), "w": 300, "h": box_h})
    eol = result["stages"].get("end_of_life", 0.0)
    dist = result["stages"].get("distribution", 0.0)
    cell_y = top + (n * (box_h + gap)) / 2 - 30
    return {"width": 1060, "height": height, "boxes": boxes, "box_h": box_h,
            "cell": {"x": 680, "y": cell_y, "w": 150, "h": 60, "label": f"{result['chemistry']} cell",
                     "value": result["kg_co2e_per_kwh"]},
            "outside": [{"label": "Distribution", "included": bool(dist), "value": dist},
                        {"label": "Use stage", "included": False, "value": None},
                        {"label": "End of life", "included": bool(eol), "value": eol}],
            "outside_x": 870, "outside_y": [cell_y - 70, cell_y + 10, cell_y + 90],
            "columns": [{"x": 20, "label": STAGE_LABELS["raw_material_acquisition"]},
                        {"x": 350, "label": STAGE_LABELS["main_production"]}]}


def _no_negative_zero(text: str) -> str:
    """'-0.000' (a round-off residue below the shown digits) is shown as '0.000'."""
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def fmt_num(v, d=2) -> str:
    return "-" if v is None else _no_negative_zero(f"{v:,.{d}f}")


def fmt_pct(v, d=1) -> str:
    return "-" if v is None else _no_negative_zero(f"{v * 100:.{d}f}") + " %"


def render_html(ctx: dict) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
    env = Environment(loader=PackageLoader("lca_battery.report", "templates"),
                      autoescape=select_autoescape(["html", "svg", "j2"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = fmt_num
    env.filters["pct"] = fmt_pct
    env.filters["dqrlevel"] = dqr_level
    from markupsafe import Markup
    ctx = dict(ctx)
    ctx["boundary_svg"] = Markup(env.get_template("boundary.svg.j2").render(b=ctx["boundary"]))
    return env.get_template("report.html.j2").render(sections=SECTIONS, stage_labels=STAGE_LABELS, **ctx)
