"""Cell design: from capacity and voltage to the bill of materials.

Two paths, chosen by the cell inventory:

* **Design model** (a cell with a ``design:`` mapping, all Li-ion cells): the electrodes, foils,
  separator and electrolyte follow from cited design parameters (areal capacity or loading,
  porosity, active-material fraction, N/P ratio, foil and separator thickness, electrolyte
  excess), closed form per Ah of capacity (:func:`design_per_ah` states the equations). Tabs keep
  their inventory mass per kg of cell and the casing its ``cell_format`` mass per kg of cell, so
  the cell mass per Ah is ``core / (1 - casing - tabs)``. Mass and energy density *follow* from
  the design: ``ED = V_nominal / (g cell per Ah)``. A stated ``cell.mass_kg`` (or energy
  density) is only checked against the design: a difference above 10 % is reported as a
  warning, never absorbed into components; above what the active materials alone allow it is
  an error. A study's ``cell.design`` section overrides parameters within physical bounds.
* **Inventory BOM** (a cell without design data, e.g. the sodium-ion cell): the inventory's
  bill of materials; active material follows energy (``1000 / (q x V)`` kg CAM per kWh) and
  the passive parts fill the remaining mass in their default proportions.

In both, a company-specific BOM (kg per cell, by component) replaces any component and is
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
    if "design" in cell.extra:
        return _design_bom(study, cell, procs, file)
    if study.cell.design and any(v is not None for v in study.cell.design.model_dump().values()):
        raise StudyError(f"the {cell.id} inventory has no design data to override", file=file, field="cell.design")
    return _inventory_bom(study, cell, procs, file)


def _casing(study, cell: Process, procs: dict, lines: dict, base: dict, file: str) -> tuple[set, dict | None]:
    """Sets the casing line of the study's format (kg per kg cell from ``cell_format``), the other
    formats' casings to 0; returns the casing ids and what was used."""
    fmts = formats(cell)
    casing_ids = {spec["casing"] for spec in fmts.values()}
    if not fmts:
        if study.cell.format != cell.extra.get("cell_format", study.cell.format):
            raise StudyError(f"no casing data for format '{study.cell.format}' of {cell.id}", file=file,
                             field="cell.format", allowed=str(cell.extra.get("cell_format")))
        return casing_ids, None
    if study.cell.format not in fmts:
        raise StudyError(f"no casing data for format '{study.cell.format}' of {cell.id}", file=file,
                         field="cell.format", allowed=", ".join(sorted(fmts)))
    for cid in casing_ids:
        lines.setdefault(cid, BomLine(cid, procs[cid].name, 0.0, base.get(cid, 0.0), "default", "casing"))
        lines[cid].role = "casing"
        lines[cid].kg_per_kg_cell = 0.0
    chosen = fmts[study.cell.format]
    lines[chosen["casing"]].kg_per_kg_cell = float(chosen["kg_per_kg_cell"])
    return casing_ids, {"process": chosen["casing"], "kg_per_kg_cell": float(chosen["kg_per_kg_cell"]),
                        "source": chosen.get("source")}


def _company_bom(study, cell: Process, lines: dict, mass: float, info: dict, file: str) -> None:
    """A company-specific BOM (kg per cell) replaces the modelled amounts of its components."""
    if not study.cell.bom:
        return
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
    total = sum(line.kg_per_kg_cell for line in lines.values())
    if abs(total - 1.0) > BOM_SUM_TOLERANCE:
        given = ", ".join(f"{k} {kg:g} kg" for k, kg in study.cell.bom.items())
        info.setdefault("warnings", []).append(
            f"cell.bom: with the company BOM ({given} per cell) and the model's other components the cell's "
            f"inputs sum to {total:.3f} kg per kg of cell ({total - 1:+.1%}); the footprint counts them as given: "
            f"check that the BOM is in kg per cell, or give every component")


#: a company BOM whose components, with the modelled rest, are further than this from the cell's mass is reported
BOM_SUM_TOLERANCE = 0.05


def _inventory_bom(study, cell: Process, procs: dict, file: str) -> tuple[list[BomLine], dict]:
    """Cells without design data: the inventory BOM, active material scaled with energy, the
    passive parts filling the remaining mass in their default proportions."""
    ed, ed_source = energy_density(study, cell)
    base = _kg_inputs(cell, procs)
    lines: dict[str, BomLine] = {
        k: BomLine(k, procs[k].name, v, v, "default", "passive") for k, v in base.items()}
    active = [k for k in base if k.startswith(("cathode_", "anode_"))]
    for k in active:
        lines[k].role = "active"
    cath = next((k for k in active if k.startswith("cathode_")), None)
    anode = next((k for k in active if k.startswith("anode_")), None)
    info = {"method": "inventory bill of materials (no design data for this cell)",
            "energy_density_kwh_per_kg": ed, "energy_density_source": ed_source, "format": study.cell.format,
            "warnings": []}
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
    casing_ids, casing_info = _casing(study, cell, procs, lines, base, file)
    if casing_info:
        info["casing"] = casing_info
    a1 = sum(base[k] * scale[k] for k in active)
    c1 = sum(lines[k].kg_per_kg_cell for k in casing_ids)
    for k in active:
        lines[k].kg_per_kg_cell = base[k] * scale[k]
        if abs(scale[k] - 1.0) > 1e-12:
            lines[k].data = "scaled (model)"
    passive = [k for k in base if k not in active and k not in casing_ids]
    p0 = sum(base[k] for k in passive)
    total = sum(base.values())
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
    _company_bom(study, cell, lines, study.cell.energy_kwh / ed, info, file)
    info["kg_inputs_per_kg_cell"] = sum(l.kg_per_kg_cell for l in lines.values())
    return list(lines.values()), info


# ---------------------------------------------------------------------------------------------
# Physical cell design (cells with a ``design:`` mapping)
# ---------------------------------------------------------------------------------------------

#: Study overrides (``cell.design.<name>``) -> (path in the inventory design, lower, upper,
#: lower bound included, allowed-range text). Bounds are physical, not statistical.
DESIGN_OVERRIDES = {
    "cathode_areal_capacity_mah_per_cm2": (("cathode", "areal_capacity_mah_per_cm2"), 0.0, None, False, "> 0 mAh/cm2"),
    "cathode_loading_mg_per_cm2": (("cathode", "loading_mg_per_cm2"), 0.0, None, False, "> 0 mg/cm2 (dried coating, one side)"),
    "cathode_thickness_um": (("cathode", "thickness_um"), 0.0, None, False, "> 0 um (coating, one side)"),
    "cathode_porosity": (("cathode", "porosity"), 0.0, 1.0, False, "0 < porosity < 1 (void volume fraction)"),
    "anode_porosity": (("anode", "porosity"), 0.0, 1.0, False, "0 < porosity < 1 (void volume fraction)"),
    "np_ratio": (("anode", "np_ratio"), 1.0, None, True, ">= 1 (the anode must take up all the cathode's lithium)"),
    "aluminium_foil_thickness_um": (("positive_foil", "thickness_um"), 3.0, None, True, ">= 3 um"),
    "copper_foil_thickness_um": (("negative_foil", "thickness_um"), 3.0, None, True, ">= 3 um"),
    "separator_thickness_um": (("separator", "thickness_um"), 3.0, None, True, ">= 3 um"),
    "separator_porosity": (("separator", "porosity"), 0.0, 1.0, False, "0 < porosity < 1 (void volume fraction)"),
    "electrolyte_excess": (("electrolyte", "excess"), 1.0, None, True,
                           ">= 1 (electrolyte volume / pore volume: the pores must be filled)"),
    # the rated capacity as a share of the cathode's half-cell capacity (1 = BatPaC's basis; the defaults are the
    # teardown cells' measured 0.93 (VW ID.3, NMC/NCA) and 0.796 (CATL, LFP): cells.yaml, tests/test_cell_design.py)
    "cathode_utilisation": ((None, "cathode_utilisation"), 0.0, 1.0, False,
                            "0 < utilisation <= 1 (rated capacity / cathode half-cell capacity)", True),
}
LOADING_KEYS = ("areal_capacity_mah_per_cm2", "loading_mg_per_cm2", "thickness_um")
#: a stated mass or energy density further than this from the design is reported
MASS_TOLERANCE = 0.10
#: a study voltage further than this from the design's average voltage is reported
VOLTAGE_TOLERANCE = 0.03
#: ... and further than this is refused: the couple's voltage is physics, not a label (BatPaC's average voltages
#: of NMC/NCA-graphite 3.70-3.71 V and LFP-graphite 3.33 V are 11 % apart, so no cell of one passes as the other)
VOLTAGE_LIMIT = 0.075


def design_voltage(cell: Process) -> float | None:
    """The chemistry's average cell voltage: the design's, else the cathode data's (V)."""
    d = cell.extra.get("design")
    v = d.get("voltage_v") if isinstance(d, dict) else None
    v = v or cell.extra.get("cam_voltage_v")
    return float(v) if v else None


def complete_voltage(study, cell: Process, file: str = "<study>"):
    """The study with ``cell.nominal_voltage_v`` set: the design voltage where the study gives none; a
    stated voltage outside the chemistry's window is an error naming the field and the window."""
    v_design = design_voltage(cell)
    v = study.cell.nominal_voltage_v
    if v is None:
        if v_design is None:
            raise StudyError(f"no design voltage for {cell.id}: state the cell's nominal voltage", file=file,
                             field="cell.nominal_voltage_v", allowed="a voltage in V")
        return study.model_copy(update={"cell": study.cell.model_copy(update={"nominal_voltage_v": v_design})})
    if v_design and abs(v / v_design - 1.0) > VOLTAGE_LIMIT:
        lo, hi = v_design * (1 - VOLTAGE_LIMIT), v_design * (1 + VOLTAGE_LIMIT)
        raise StudyError(f"nominal voltage {v:g} V is not a {cell.id[5:].upper()} cell (design average voltage "
                         f"{v_design:g} V)", file=file, field="cell.nominal_voltage_v",
                         allowed=f"{lo:.2f} to {hi:.2f} V, or omit it (--set cell.nominal_voltage_v=null) to use "
                                 f"{v_design:g} V")
    return study


def _check_override(name: str, value, file: str) -> float:
    path, lo, hi, lo_incl, allowed, *rest = DESIGN_OVERRIDES[name]
    hi_incl = bool(rest and rest[0])                 # an upper bound that is itself allowed (utilisation 1)
    field = f"cell.design.{name}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise StudyError(f"must be a number (got {value!r})", file=file, field=field, allowed=allowed)
    v = float(value)
    if (v < lo or (v == lo and not lo_incl)) or (hi is not None and (v > hi or (v == hi and not hi_incl))):
        raise StudyError(f"{v:g} is outside the physical range", file=file, field=field, allowed=allowed)
    return v


def design_parameters(cell: Process, overrides: dict | None = None, file: str = "<study>") -> dict:
    """The cell's design mapping with the study's ``cell.design`` overrides applied (checked)."""
    import copy
    d = copy.deepcopy(cell.extra["design"])
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name not in DESIGN_OVERRIDES:
            raise StudyError(f"unknown design parameter '{name}'", file=file, field=f"cell.design.{name}",
                             allowed=", ".join(sorted(DESIGN_OVERRIDES)))
        v = _check_override(name, value, file)
        section, key = DESIGN_OVERRIDES[name][0]
        if key in LOADING_KEYS:       # one way of giving the cathode loading replaces the others
            for k in LOADING_KEYS:
                d[section].pop(k, None)
        target = d if section is None else d[section]     # None: a parameter of the whole design
        target[key] = v
        target[f"{key}_source"] = "study (cell.design)"
    return d


def _solids(pid: str, procs: dict, densities: dict, file: str, scale: float = 1.0,
            out: dict | None = None) -> dict[str, float]:
    """kg of each solid of a dried electrode coating per kg coating: the electrode's inputs that
    have a density in the design; an input that is itself an electrode coating is expanded."""
    out = {} if out is None else out
    for x in procs[pid].exchanges:
        if x.kind != "technosphere":
            continue
        if x.target in densities:
            out[x.target] = out.get(x.target, 0.0) + scale * x.amount
        elif x.target.startswith(("cathode_", "anode_")):
            _solids(x.target, procs, densities, file, scale * x.amount, out)
    return out


def _coating(pid: str, active: str | tuple, section: dict, procs: dict) -> dict:
    """Composition and density of one electrode coating.

    Solid density ``rho_s = 1 / sum(w_i / rho_i)`` over the solids (mass fraction ``w_i`` from the
    electrode process, density ``rho_i`` from the design); coating density
    ``rho_c = (1 - porosity) x rho_s``."""
    from ..errors import InventoryError
    dens = section["densities_g_per_cm3"]
    w = _solids(pid, procs, dens, "")
    total = sum(w.values())
    if not w or abs(total - 1.0) > 0.02:
        raise InventoryError([f"{pid}: the solids with a design density add up to {total:.4f} kg per kg coating "
                              f"(expected 1 +/- 0.02): {w}"])
    actives = (active,) if isinstance(active, str) else active
    w_active = sum(v for k, v in w.items() if k in actives)
    if w_active <= 0:
        raise InventoryError([f"{pid}: no active material among the coating inputs {sorted(w)}"])
    rho_s = 1.0 / sum(v / float(dens[k]) for k, v in w.items())
    eps = float(section["porosity"])
    return {"mass_fractions": w, "active_fraction": w_active, "solid_density_g_per_cm3": rho_s,
            "coating_density_g_per_cm3": (1.0 - eps) * rho_s, "porosity": eps}


def design_per_ah(cell: Process, procs: dict, d: dict) -> dict:
    """Masses (g per Ah of rated capacity) of the designed components, closed form.

    With ``q_c``, ``q_a`` the practical specific capacities (mAh/g) of the cathode active material
    (CAM) and anode active material, ``w`` the active mass fraction of a coating, ``Q`` the
    cathode's areal capacity per coated side (mAh/cm2), ``t`` thicknesses and ``rho`` densities:

    * CAM: ``m_cam = 1000 / q_c``; cathode coating ``m_c = m_cam / w_c``
    * ``Q`` given, or from a loading ``L`` (mg/cm2 coating): ``Q = L x w_c x q_c / 1000``, or
      from a coating thickness: ``L = t_c x rho_coat_c``
    * coated area (both sides counted) ``A = 1000 / Q`` cm2 per Ah; coating thickness
      ``t_c = m_c / (rho_coat_c x A)``
    * anode active ``m_an = N/P x 1000 / q_a``; anode coating ``m_a = m_an / w_a``, same area
    * foils coated on both sides: ``m_foil = (A / 2) x t_foil x rho_foil``
    * separator, one layer per coated cathode side: ``m_sep = A x t_sep x rho_sep x (1 - eps_sep)``
    * electrolyte fills the pores times an excess factor:
      ``m_el = excess x rho_el x (eps_c V_c + eps_a V_a + eps_sep A_sep t_sep)``, ``V = m / rho_coat``
    * overhang (optional ``overhang:`` mapping, measured electrode and separator sizes): the anode
      is larger than the cathode it faces and the separator larger than both. With
      ``f_a = A_anode / A_cathode`` and ``f_s = A_separator / A_cathode`` (both >= 1, default 1):
      the anode is coated at its N/P loading over ``A_a = f_a x A``, so ``m_an = f_a x N/P x 1000 / q_a``
      and the copper foil is ``(A_a / 2) x t_foil x rho_foil``; the separator covers ``A_sep = f_s x A``
    * cathode utilisation ``u`` (optional ``cathode_utilisation``, default 1): the share of the
      cathode's half-cell capacity (``q_c``, ``Q``) that the finished cell delivers as rated capacity
      (formation losses). Per rated Ah the cell needs ``1 / u`` times the electrode: ``m_cam = 1000 /
      (u q_c)``, ``A = 1000 / (u Q)``, ``m_an = f_a x N/P x 1000 / (u q_a)`` (N/P on half-cell capacities)
    """
    cath_id = next(x.target for x in cell.exchanges if x.kind == "technosphere" and x.target.startswith("cathode_"))
    an_id = next(x.target for x in cell.exchanges if x.kind == "technosphere" and x.target.startswith("anode_"))
    c, a = d["cathode"], d["anode"]
    cam = [k for k in c["densities_g_per_cm3"] if k.startswith("cam_")]
    cc = _coating(cath_id, tuple(cam), c, procs)
    ac = _coating(an_id, tuple(a.get("active", ANODE_ACTIVE)), a, procs)
    q_c, q_a = float(c["capacity_mah_per_g"]), float(a["capacity_mah_per_g"])
    if "areal_capacity_mah_per_cm2" in c:
        Q = float(c["areal_capacity_mah_per_cm2"])
    elif "loading_mg_per_cm2" in c:
        Q = float(c["loading_mg_per_cm2"]) * cc["active_fraction"] * q_c / 1000.0
    else:
        Q = float(c["thickness_um"]) * 1e-4 * cc["coating_density_g_per_cm3"] * 1000.0 * cc["active_fraction"] * \
            q_c / 1000.0
    u = float(d.get("cathode_utilisation", 1.0))
    if not 0.0 < u <= 1.0:
        raise ValueError(f"{cell.id}: cathode_utilisation must be in (0, 1], got {u}")
    m_cam = 1000.0 / (u * q_c)
    m_c = m_cam / cc["active_fraction"]
    area = 1000.0 / (u * Q)                                        # cm2 coated cathode (both sides) per rated Ah
    np_ratio = float(a["np_ratio"])
    ov = d.get("overhang") or {}
    f_a, f_s = float(ov.get("anode_area_ratio", 1.0)), float(ov.get("separator_area_ratio", 1.0))
    if f_a < 1.0 or f_s < f_a:
        raise ValueError(f"{cell.id}: overhang area ratios must satisfy 1 <= anode ({f_a}) <= separator ({f_s})")
    area_a, area_s = f_a * area, f_s * area                        # cm2 coated anode, separator per Ah
    m_an = f_a * np_ratio * 1000.0 / (u * q_a)
    m_a = m_an / ac["active_fraction"]
    v_c, v_a = m_c / cc["coating_density_g_per_cm3"], m_a / ac["coating_density_g_per_cm3"]
    pf, nf, sep, el = d["positive_foil"], d["negative_foil"], d["separator"], d["electrolyte"]
    t_sep, eps_sep = float(sep["thickness_um"]) * 1e-4, float(sep["porosity"])
    m_pf = area / 2.0 * float(pf["thickness_um"]) * 1e-4 * float(pf["density_g_per_cm3"])
    m_nf = area_a / 2.0 * float(nf["thickness_um"]) * 1e-4 * float(nf["density_g_per_cm3"])
    m_sep = area_s * t_sep * float(sep["density_g_per_cm3"]) * (1.0 - eps_sep)
    pores = cc["porosity"] * v_c + ac["porosity"] * v_a + eps_sep * area_s * t_sep
    m_el = float(el["excess"]) * float(el["density_g_per_cm3"]) * pores
    grams = {cath_id: m_c, an_id: m_a, pf["input"]: m_pf, nf["input"]: m_nf, sep["input"]: m_sep, el["input"]: m_el}
    if len(grams) != 6:
        raise ValueError(f"{cell.id}: design inputs are not distinct: {sorted(grams)}")
    return {"g_per_ah": grams, "cathode": cath_id, "anode": an_id, "cam_g_per_ah": m_cam,
            "anode_active_g_per_ah": m_an, "areal_capacity_mah_per_cm2": Q, "np_ratio": np_ratio,
            "cathode_loading_mg_per_cm2": Q * 1000.0 / (cc["active_fraction"] * q_c),
            "cathode_thickness_um": m_c / (cc["coating_density_g_per_cm3"] * area) * 1e4,
            "anode_thickness_um": m_a / (ac["coating_density_g_per_cm3"] * area_a) * 1e4,
            "coated_area_cm2_per_ah": area, "anode_area_ratio": f_a, "separator_area_ratio": f_s,
            "cathode_utilisation": u, "pore_volume_cm3_per_ah": pores,
            "cathode_coating": cc, "anode_coating": ac,
            "max_specific_energy_wh_per_kg_per_v": 1000.0 / (m_cam + 1000.0 / q_a)}


def _design_bom(study, cell: Process, procs: dict, file: str) -> tuple[list[BomLine], dict]:
    c = study.cell
    d = design_parameters(cell, c.design.model_dump() if c.design else {}, file)
    per_ah = design_per_ah(cell, procs, d)
    base = _kg_inputs(cell, procs)
    lines: dict[str, BomLine] = {
        k: BomLine(k, procs[k].name, v, v, "default", "passive") for k, v in base.items()}
    casing_ids, casing_info = _casing(study, cell, procs, lines, base, file)
    designed = per_ah["g_per_ah"]
    for k in designed:
        if k not in lines:
            raise ValueError(f"{cell.id}: designed input '{k}' is not an input of the cell")
    fixed = [k for k in base if k not in designed and k not in casing_ids]
    f_fixed = sum(base[k] for k in fixed)
    f_casing = sum(lines[k].kg_per_kg_cell for k in casing_ids)
    core = sum(designed.values())                                  # g per Ah
    g_per_ah = core / (1.0 - f_casing - f_fixed)                   # whole cell, g per Ah
    for k, g in designed.items():
        lines[k].kg_per_kg_cell = g / g_per_ah
        lines[k].data = "design model"
        lines[k].role = "active" if k.startswith(("cathode_", "anode_")) else "passive"
    for k in fixed:
        lines[k].data = "default (kg per kg cell)"
    v = c.nominal_voltage_v
    ed = v / g_per_ah                                              # V x Ah / g = Wh/g = kWh/kg
    mass = c.capacity_ah * g_per_ah / 1000.0
    v_design = float(d["voltage_v"])
    ed_max = per_ah["max_specific_energy_wh_per_kg_per_v"] * v     # Wh/kg, active materials alone at N/P 1
    warnings = []
    info = {"method": "cell design model", "energy_density_kwh_per_kg": ed,
            "energy_density_source": f"cell design model ({d.get('source', cell.source)}): "
                                     f"{v:g} V / {g_per_ah:.3f} g per Ah",
            "format": c.format, "design_mass_kg": mass, "design_g_per_ah": g_per_ah,
            "design_voltage_v": v_design,
            "design": {k: (round(val, 6) if isinstance(val, float) else val) for k, val in per_ah.items()
                       if k not in ("g_per_ah", "cathode_coating", "anode_coating")}
            | {"cathode_active_fraction": per_ah["cathode_coating"]["active_fraction"],
               "anode_active_fraction": per_ah["anode_coating"]["active_fraction"],
               "cathode_coating_density_g_per_cm3": per_ah["cathode_coating"]["coating_density_g_per_cm3"],
               "anode_coating_density_g_per_cm3": per_ah["anode_coating"]["coating_density_g_per_cm3"],
               "cathode_porosity": per_ah["cathode_coating"]["porosity"],
               "anode_porosity": per_ah["anode_coating"]["porosity"],
               "components_g_per_ah": designed, "fixed_kg_per_kg_cell": {k: base[k] for k in fixed},
               "parameters": d},
            "cam_kg_per_kwh": per_ah["cam_g_per_ah"] / v, "anode_active_kg_per_kwh": per_ah["anode_active_g_per_ah"] / v,
            "max_energy_density_wh_per_kg": ed_max, "warnings": warnings}
    if casing_info:
        info["casing"] = casing_info
    if abs(v / v_design - 1.0) > VOLTAGE_TOLERANCE:
        warnings.append(f"cell.nominal_voltage_v {v:g} V differs by {v / v_design - 1:+.0%} from the "
                        f"{cell.id[5:].upper()} design's average voltage {v_design:g} V: check the chemistry")
    stated, what = None, None
    if c.mass_kg:
        stated, what = c.energy_kwh / c.mass_kg, "cell.mass_kg"
    elif c.energy_density_wh_per_kg:
        stated, what = c.energy_density_wh_per_kg / 1000.0, "cell.energy_density_wh_per_kg"
    if stated is not None:
        if stated * 1000.0 > ed_max:
            raise StudyError(f"energy density {stated * 1000:.0f} Wh/kg is not reachable with {cell.id[5:].upper()}: "
                             f"the active materials alone give at most {ed_max:.0f} Wh/kg", file=file, field=what,
                             allowed=f"<= {ed_max:.0f} Wh/kg" + (f", i.e. mass >= {c.energy_kwh / ed_max * 1000:.4g} kg"
                                                                if what == "cell.mass_kg" else ""))
        dev = ed / stated - 1.0        # = stated mass / design mass - 1
        info.update(stated_energy_density_kwh_per_kg=stated, stated_mass_kg=c.energy_kwh / stated,
                    stated_vs_design=dev)
        if abs(dev) > MASS_TOLERANCE:
            warnings.append(f"{what}: the stated cell ({c.energy_kwh / stated:.4g} kg, {stated * 1000:.0f} Wh/kg) "
                            f"differs by {dev:+.0%} from the design ({mass:.4g} kg, {ed * 1000:.0f} Wh/kg); the "
                            f"footprint uses the design bill of materials (give cell.bom or cell.design for a "
                            f"company design)")
    _company_bom(study, cell, lines, mass, info, file)
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
