"""The superstructure: every alternative a study may choose is already an exchange in the
Brightway databases, and a study is a vector of amounts for those exchanges.

Two parts:

* :func:`generated_processes` adds what the engine writes beside the inventory files: the cell
  plant's electricity and heat switches, the distribution leg, allocation variants of every
  multi-output process, and the product-system root (1 kWh of cell capacity).
* :func:`study_entries` maps a validated :class:`~lca_battery.study.Study` to
  :class:`Entry` values: (input process, output process, amount, the study parameter that set
  it). Applied through a bw_processing datapackage on top of the databases, they change
  numbers on the same matrices; nothing is rewritten (issue 2, point 8).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import StudyError
from ..inventory.records import Exchange, Inventory, Process

ROOT = "product_system"
PLANT_ELECTRICITY = "electricity_cell_plant"
PLANT_HEAT = "heat_cell_plant"
DISTRIBUTION = "distribution_cell"
MODEL_SOURCE = "lcab_model"
MODEL_FILE = "model"
TRANSPORT = {"truck_km": "transport_truck", "rail_km": "transport_rail", "sea_km": "transport_sea"}
HEAT_ALTERNATIVES = {"natural_gas": "heat_natural_gas_industrial", "coal": "heat_coal_industrial"}
ALLOCATION_BASES = ("mass", "economic", "system_expansion")


@dataclass(frozen=True)
class Entry:
    """One technosphere amount set by a study: ``input`` consumed per unit of ``output``."""
    input: str
    output: str
    amount: float
    parameter: str


def _model_process(pid, name, product, unit, location, stage=None, exchanges=(), **kw) -> Process:
    return Process(id=pid, name=name, reference_product=product, unit=unit, location=location,
                   stage=stage, reference_year=2026, source=MODEL_SOURCE,
                   dqr={"TeR": 1, "GeR": 1, "TiR": 1, "P": 1}, file=MODEL_FILE,
                   exchanges=tuple(exchanges), **kw)


def chemistries(inventory: Inventory) -> dict[str, Process]:
    """Chemistry name (upper case, e.g. NMC811) -> its cell process ``cell_<chemistry>``."""
    return {p.id[len("cell_"):].upper(): p for p in inventory.processes.values()
            if p.id.startswith("cell_") and "energy_density_kwh_per_kg" in p.extra}


def electricity_alternatives(inventory: Inventory) -> dict[str, str]:
    out = {}
    for pid in inventory.processes:
        if pid.startswith("electricity_grid_"):
            out["grid_" + pid[len("electricity_grid_"):].upper()] = pid   # alternative key: grid_CN
        elif pid.startswith("electricity_tech_"):
            out["tech_" + pid[len("electricity_tech_"):]] = pid
    return out


def _allocation_variants(p: Process) -> list[Process]:
    """Allocated single-output processes for each co-product of ``p`` plus a switch per product."""
    out = []
    mass = {c.id: c.amount for c in p.coproducts}           # kg of each co-product
    priced = all(c.price is not None for c in p.coproducts)
    value = {c.id: c.amount * c.price for c in p.coproducts} if priced else {}
    for c in p.coproducts:
        variants = {}
        bases = [("mass", mass[c.id] / sum(mass.values()))]
        if priced and sum(value.values()) > 0:
            bases.append(("economic", value[c.id] / sum(value.values())))
        for basis, share in bases:
            exs = [Exchange(x.kind, x.target, x.amount * share / c.amount, x.unit, x.source, x.compartment,
                            x.aggregated, x.substitution, x.proxy,
                            f"{basis} allocation: {share:.6g} of '{p.id}' per {c.amount:g} {c.unit}")
                   for x in p.exchanges]
            variants[basis] = f"{c.id}__{basis}"
            out.append(Process(**{**p.__dict__, "id": f"{c.id}__{basis}", "exchanges": tuple(exs),
                                  "name": f"{c.name or c.id}, from {p.name}, {basis} allocation",
                                  "reference_product": c.name or c.id, "unit": c.unit,
                                  "coproducts": (), "composition": c.composition}))
        # system expansion: this product carries the whole burden, the others displace their virgin twin
        exs = [Exchange(x.kind, x.target, x.amount / c.amount, x.unit, x.source, x.compartment,
                        x.aggregated, x.substitution, x.proxy, "system expansion") for x in p.exchanges]
        exs += [Exchange("technosphere", d.substitutes, -d.amount / c.amount, d.unit, p.source or MODEL_SOURCE,
                         substitution=True, comment=f"avoided {d.substitutes} (system expansion)")
                for d in p.coproducts if d.id != c.id and d.substitutes]
        variants["system_expansion"] = f"{c.id}__system_expansion"
        out.append(Process(**{**p.__dict__, "id": f"{c.id}__system_expansion", "exchanges": tuple(exs),
                              "name": f"{c.name or c.id}, from {p.name}, system expansion",
                              "reference_product": c.name or c.id, "unit": c.unit,
                              "coproducts": (), "composition": c.composition}))
        default = "economic" if "economic" in variants else "mass"
        out.append(Process(**{**p.__dict__, "id": c.id, "exchanges": (), "coproducts": (),
                              "name": f"{c.name or c.id}, from {p.name}, allocation switch",
                              "reference_product": c.name or c.id, "unit": c.unit,
                              "switch": "allocation.recycling", "alternatives": variants,
                              "default": {default: 1.0}, "composition": c.composition}))
    return out


def generated_processes(inventory: Inventory) -> list[Process]:
    procs = inventory.processes
    out: list[Process] = []
    elec = electricity_alternatives(inventory)
    if elec:
        default = "grid_CN" if "grid_CN" in elec else sorted(elec)[0]
        out.append(_model_process(
            PLANT_ELECTRICITY, "electricity, at the cell plant (switch)", "electricity", "kWh", "GLO",
            switch="plant.electricity", alternatives=elec, default={default: 1.0},
            comment="Electricity of electrode making and cell assembly; the study sets the mix."))
    heat = {k: v for k, v in HEAT_ALTERNATIVES.items() if v in procs}
    if heat:
        out.append(_model_process(
            PLANT_HEAT, "heat, at the cell plant (switch)", "heat", "MJ", "GLO",
            switch="plant.heat", alternatives=heat, default={sorted(heat)[0] if "natural_gas" not in heat
                                                             else "natural_gas": 1.0},
            comment="Heat of electrode drying, NMP recovery and dry rooms; the study sets the supply."))
    legs = [Exchange("technosphere", t, 0.0, "tkm", MODEL_SOURCE, comment="km x 0.001 t per kg cell, from the study")
            for t in TRANSPORT.values() if t in procs]
    out.append(_model_process(DISTRIBUTION, "distribution of cells, plant to customer", "cell, delivered",
                              "kg", "GLO", stage="distribution", exchanges=legs))
    for p in procs.values():
        if p.coproducts:
            out += _allocation_variants(p)
    cells = chemistries(inventory)
    root_ex = [Exchange("technosphere", c.id, 0.0, "kg", MODEL_SOURCE, comment="kg cell per kWh, from the study")
               for c in cells.values()]
    root_ex.append(Exchange("technosphere", DISTRIBUTION, 0.0, "kg", MODEL_SOURCE))
    out.append(_model_process(ROOT, "battery cell capacity, product system of the study", "battery cell capacity",
                              "kWh", "GLO", exchanges=root_ex,
                              comment="1 kWh of cell capacity; amounts of the cells and distribution are "
                                      "set by the study."))
    return out


_CACHE: dict[tuple[int, str], dict[str, Process]] = {}


def all_processes(inventory: Inventory) -> dict[str, Process]:
    """Inventory processes (multi-output ones replaced by their allocation variants) plus
    generated ones: exactly what is written to Brightway. Cached per inventory object."""
    key = (id(inventory), inventory.content_hash)
    if key not in _CACHE:
        procs = {pid: p for pid, p in inventory.processes.items() if not p.coproducts}
        for p in generated_processes(inventory):
            procs[p.id] = p
        _CACHE.clear()
        _CACHE[key] = procs
    return _CACHE[key]


# ---------------------------------------------------------------- study -> entries

def _shares(value, alternatives: dict[str, str], param: str, file: str) -> dict[str, float]:
    if isinstance(value, str):
        value = {value: 1.0}
    unknown = sorted(set(value) - set(alternatives))
    if unknown:
        raise StudyError(f"unknown alternative '{unknown[0]}'", file=file, field=param,
                         allowed=", ".join(sorted(alternatives)))
    return {k: float(value.get(k, 0.0)) for k in alternatives}


def cell_energy_density(study, inventory: Inventory) -> tuple[float, str]:
    """kWh per kg of cell, and where it came from."""
    cell = study.cell
    if cell.mass_kg:
        return cell.energy_kwh / cell.mass_kg, "study: capacity x voltage / mass"
    if cell.energy_density_wh_per_kg:
        return cell.energy_density_wh_per_kg / 1000.0, "study: energy_density_wh_per_kg"
    p = chemistries(inventory)[cell.chemistry.upper()]
    return float(p.extra["energy_density_kwh_per_kg"]), \
        f"inventory default ({p.extra.get('energy_density_source', p.source)})"


def study_entries(study, inventory: Inventory, file: str = "<study>") -> list[Entry]:
    """Every amount the study sets, over a fixed index set (the same for every study)."""
    procs = all_processes(inventory)
    cells = chemistries(inventory)
    chem = study.cell.chemistry.upper()
    if chem not in cells:
        raise StudyError(f"unknown chemistry '{study.cell.chemistry}'", file=file, field="cell.chemistry",
                         allowed=", ".join(sorted(cells)))
    entries: list[Entry] = []
    for p in procs.values():
        if not p.is_switch:
            continue
        if p.id == PLANT_ELECTRICITY:
            value = study.plant.electricity
            if value == "grid":
                key = f"grid_{study.plant.country}"
                if key not in p.alternatives:
                    raise StudyError(f"unknown country code '{study.plant.country}' (no national grid mix in "
                                     f"the inventories)", file=file, field="plant.country",
                                     allowed=", ".join(sorted(k[5:] for k in p.alternatives if k.startswith("grid_"))))
                value = {key: 1.0}
        elif p.id == PLANT_HEAT:
            value = study.plant.heat
        else:
            section, _, key = p.switch.partition(".")
            value = getattr(study, section, {}).get(key, p.default) if section in ("allocation", "supply") \
                else p.default
        for name, share in _shares(value, p.alternatives, p.switch, file).items():
            entries.append(Entry(p.alternatives[name], p.id, share, p.switch))
    if f"grid_{study.plant.country}" not in procs[PLANT_ELECTRICITY].alternatives:
        raise StudyError(f"unknown country code '{study.plant.country}'", file=file, field="plant.country",
                         allowed=", ".join(sorted(k[5:] for k in procs[PLANT_ELECTRICITY].alternatives
                                                  if k.startswith("grid_"))))
    ed, _ = cell_energy_density(study, inventory)
    kg_per_kwh = 1.0 / ed
    for name, p in cells.items():
        entries.append(Entry(p.id, ROOT, kg_per_kwh if name == chem else 0.0, "cell.chemistry"))
    entries.append(Entry(DISTRIBUTION, ROOT, kg_per_kwh, "cell (kg per kWh)"))
    for field, target in TRANSPORT.items():
        if target in procs:
            entries.append(Entry(target, DISTRIBUTION, getattr(study.distribution, field) * 1e-3,
                                 f"distribution.{field}"))
    cell = cells[chem]
    for param, target in (("electricity_kwh_per_kg_cell", PLANT_ELECTRICITY), ("heat_mj_per_kg_cell", PLANT_HEAT)):
        value = getattr(study.plant, param)
        if value is not None:
            if not any(x.target == target for x in cell.exchanges):
                raise StudyError(f"the {chem} cell inventory has no '{target}' input to set", file=file,
                                 field=f"plant.{param}")
            entries.append(Entry(target, cell.id, value, f"plant.{param}"))
    return entries


def switch_parameters(inventory: Inventory) -> set[str]:
    return {p.switch for p in all_processes(inventory).values() if p.is_switch}
