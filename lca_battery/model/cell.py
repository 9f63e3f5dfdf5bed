"""Cell design: from capacity, voltage and mass (or energy density) to the bill of materials.

The model, per kg of cell:

1. Energy density ``ED`` (kWh/kg): the study's mass or energy density, else the inventory's.
2. Active material follows energy: kg of cathode active material (CAM) per kWh is
   ``1000 / (q x V)`` with the CAM's practical specific capacity ``q`` (Ah/kg) and average voltage
   ``V`` from the inventory (with their source); without them, the default BOM's CAM per kWh.
   The anode follows the cathode's capacity: graphite (or hard carbon) per kWh is
   ``N/P x (1000 / V) / q_anode`` with the cell's N/P ratio and the anode material's practical
   capacity (inventory fields with their source); without them it scales with the cathode.
3. The casing follows the format (pouch, prismatic, cylindrical), from the cell's ``cell_format``
   data, in kg per kg cell.
4. The other components (electrolyte, separator, foils, tabs) fill the remaining mass in their
   default proportions, so the BOM still adds up to the default total mass per kg of cell.
   Only components (foreground materials) count; process inputs of the assembly step drawn from
   the background (water, gases) keep their amounts per kg of cell.
5. A company-specific BOM (kg per cell, by component) replaces any of these amounts and is
   reported as such.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import StudyError
from ..inventory.records import Process


@dataclass
class BomLine:
    input: str
    name: str
    kg_per_kg_cell: float
    default_kg_per_kg_cell: float
    data: str          # "default", "scaled (model)", "company-specific"
    role: str          # "active", "casing", "passive"


def energy_density(study, cell: Process) -> tuple[float, str]:
    """kWh per kg of cell, and where it came from."""
    c = study.cell
    if c.mass_kg:
        return c.energy_kwh / c.mass_kg, "study: capacity x nominal voltage / mass"
    if c.energy_density_wh_per_kg:
        return c.energy_density_wh_per_kg / 1000.0, "study: energy_density_wh_per_kg"
    return float(cell.extra["energy_density_kwh_per_kg"]), \
        f"inventory default ({cell.extra.get('energy_density_source', cell.source)})"


ANODE_ACTIVE = ("graphite_anode", "hard_carbon")


def _kg_inputs(cell: Process, procs: dict) -> dict[str, float]:
    """The cell's components: kg inputs that are foreground materials (not background water, gases)."""
    out: dict[str, float] = {}
    for x in cell.exchanges:
        if x.kind == "technosphere" and procs[x.target].unit == "kg" and procs[x.target].stage is not None:
            out[x.target] = out.get(x.target, 0.0) + x.amount
    return out


def _cam_in(electrode: Process) -> float:
    return sum(x.amount for x in electrode.exchanges if x.kind == "technosphere" and x.target.startswith("cam_"))


def _anode_active_in(electrode: Process) -> float:
    return sum(x.amount for x in electrode.exchanges if x.kind == "technosphere" and x.target in ANODE_ACTIVE)


def cam_kg_per_kwh(cell: Process, procs: dict) -> tuple[float, str]:
    q, v = cell.extra.get("cam_specific_capacity_ah_per_kg"), cell.extra.get("cam_voltage_v")
    if q and v:
        return 1000.0 / (float(q) * float(v)), \
            f"1000 / ({q} Ah/kg x {v} V) ({cell.extra.get('cam_capacity_source', cell.source)})"
    amounts = _kg_inputs(cell, procs)
    cath = next((k for k in amounts if k.startswith("cathode_")), None)
    cam0 = amounts[cath] * _cam_in(procs[cath]) if cath else 0.0
    return cam0 / float(cell.extra["energy_density_kwh_per_kg"]), "default bill of materials / default energy density"


def formats(cell: Process) -> dict[str, dict]:
    fmt = cell.extra.get("cell_format")
    return fmt if isinstance(fmt, dict) else {}


def bill_of_materials(study, cell: Process, procs: dict, file: str = "<study>") -> tuple[list[BomLine], dict]:
    """The BOM per kg cell for the study, and a summary of how it was derived."""
    ed, ed_source = energy_density(study, cell)
    base = _kg_inputs(cell, procs)
    lines: dict[str, BomLine] = {
        k: BomLine(k, procs[k].name, v, v, "default", "passive") for k, v in base.items()}
    active = [k for k in base if k.startswith(("cathode_", "anode_"))]
    for k in active:
        lines[k].role = "active"
    cath = next((k for k in active if k.startswith("cathode_")), None)
    anode = next((k for k in active if k.startswith("anode_")), None)
    info = {"energy_density_kwh_per_kg": ed, "energy_density_source": ed_source, "format": study.cell.format}
    # 2. active materials follow energy
    f = 1.0
    scale = {k: 1.0 for k in active}
    if cath:
        cam_per_kwh, cam_source = cam_kg_per_kwh(cell, procs)
        cam0 = base[cath] * _cam_in(procs[cath])
        if cam0 > 0:
            f = ed * cam_per_kwh / cam0
        scale = {k: f for k in active}
        info.update(cam_kg_per_kwh=cam_per_kwh, cam_source=cam_source, active_scale=f)
        np_ratio, q_an = cell.extra.get("anode_np_ratio"), cell.extra.get("anode_specific_capacity_ah_per_kg")
        v = cell.extra.get("cam_voltage_v")
        if anode and np_ratio and q_an and v:
            an_per_kwh = float(np_ratio) * (1000.0 / float(v)) / float(q_an)     # kg anode active per kWh
            an0 = base[anode] * _anode_active_in(procs[anode])
            if an0 > 0:
                scale[anode] = ed * an_per_kwh / an0
            info.update(anode_active_kg_per_kwh=an_per_kwh, anode_scale=scale[anode],
                        anode_source=f"N/P {np_ratio} ({cell.extra.get('anode_np_source', cell.source)}) x 1000 / "
                                     f"{v} V / {q_an} Ah/kg ({cell.extra.get('anode_capacity_source', cell.source)})")
    # 3. casing by format
    fmts = formats(cell)
    casing_ids = set()
    for spec in fmts.values():
        casing_ids.add(spec["casing"])
    if fmts:
        if study.cell.format not in fmts:
            raise StudyError(f"no casing data for format '{study.cell.format}' of {cell.id}", file=file,
                             field="cell.format", allowed=", ".join(sorted(fmts)))
        for cid in casing_ids:
            lines.setdefault(cid, BomLine(cid, procs[cid].name, 0.0, base.get(cid, 0.0), "default", "casing"))
            lines[cid].role = "casing"
            lines[cid].kg_per_kg_cell = 0.0
        chosen = fmts[study.cell.format]
        lines[chosen["casing"]].kg_per_kg_cell = float(chosen["kg_per_kg_cell"])
        info["casing"] = {"process": chosen["casing"], "kg_per_kg_cell": float(chosen["kg_per_kg_cell"]),
                          "source": chosen.get("source")}
    elif study.cell.format != cell.extra.get("cell_format", study.cell.format):
        raise StudyError(f"no casing data for format '{study.cell.format}' of {cell.id}", file=file,
                         field="cell.format", allowed=str(cell.extra.get("cell_format")))
    total = sum(base.values())
    a1 = sum(base[k] * scale[k] for k in active)
    c1 = sum(lines[k].kg_per_kg_cell for k in casing_ids)
    for k in active:
        lines[k].kg_per_kg_cell = base[k] * scale[k]
        if abs(scale[k] - 1.0) > 1e-12:
            lines[k].data = "scaled (model)"
    passive = [k for k in base if k not in active and k not in casing_ids]
    p0 = sum(base[k] for k in passive)
    remaining = total - a1 - c1
    if remaining < 0 or (p0 > 0 and remaining <= 0):
        raise StudyError(f"energy density {ed * 1000:.0f} Wh/kg is not reachable with the {cell.id} design: active "
                         f"material and casing alone exceed the cell mass", file=file, field="cell")
    g = remaining / p0 if p0 else 1.0
    for k in passive:
        lines[k].kg_per_kg_cell = base[k] * g
        if abs(g - 1.0) > 1e-12:
            lines[k].data = "scaled (model)"
    info["passive_scale"] = g
    # 5. company-specific BOM
    if study.cell.bom:
        mass = study.cell.energy_kwh / ed
        for k, kg in study.cell.bom.items():
            if k not in lines:
                raise StudyError(f"unknown component '{k}' of {cell.id}", file=file, field=f"cell.bom.{k}",
                                 allowed=", ".join(sorted(lines)))
            lines[k].kg_per_kg_cell = kg / mass
            lines[k].data = "company-specific"
        bom_mass = sum(study.cell.bom.values())
        if bom_mass > mass * 1.0001:
            raise StudyError(f"the bill of materials ({bom_mass:.4g} kg) exceeds the cell mass ({mass:.4g} kg)",
                             file=file, field="cell.bom")
        info["bom_source"] = study.cell.bom_source or "company-specific (source not stated)"
    info["kg_inputs_per_kg_cell"] = sum(l.kg_per_kg_cell for l in lines.values())
    return list(lines.values()), info


def element_content(pid: str, procs: dict, amounts: dict[str, float] | None = None,
                    _memo: dict | None = None) -> dict[str, float]:
    """kg of each element per unit of ``pid``: its declared composition, else the sum over its kg
    inputs (``amounts`` overrides the inputs of ``pid`` itself, e.g. a scaled cell BOM)."""
    memo = {} if _memo is None else _memo
    p = procs[pid]
    if amounts is None:
        if pid in memo:
            return memo[pid]
        if p.composition:
            memo[pid] = dict(p.composition)
            return memo[pid]
        memo[pid] = {}   # guards against loops
        amounts = {}
        for x in p.exchanges:
            if x.kind == "technosphere" and procs[x.target].unit == "kg" and not x.substitution:
                amounts[x.target] = amounts.get(x.target, 0.0) + x.amount
        for a in p.alternatives.values():
            amounts[a] = amounts.get(a, 0.0) + p.default.get(
                next(k for k, v in p.alternatives.items() if v == a), 0.0)
    out: dict[str, float] = {}
    for k, amt in amounts.items():
        for el, v in element_content(k, procs, None, memo).items():
            out[el] = out.get(el, 0.0) + amt * v
    if pid not in memo or not memo[pid]:
        memo[pid] = out
    return out
