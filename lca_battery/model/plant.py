"""Cell-plant energy by process step (issue 7, point 4).

The plant's energy is given per kWh of cell capacity produced, by process step, in
``inventories/cells/plant_energy.yaml``: one process ``plant_step__<profile>__<step>`` per step of a
data set (profile), with ``electricity_cell_plant`` (kWh) and ``heat_cell_plant`` (MJ useful heat)
per kWh of cell. For a study the engine

* takes the steps of the study's profile (``plant.energy_data``; by default :data:`DEFAULT_PROFILE`
  for the chemistry, else :data:`LI_ION_DEFAULT`, Degen & Schuette 2022 in nine steps: mixing, coating and
  drying with NMP recovery, calendering, vacuum drying, stacking, filling, formation and ageing, dry rooms,
  the rest; ``degen_schutte_2022`` is the same plant in two steps; ``degen_schutte_2022_by_mass`` the nine steps
  per kg of cell relative to the source's reference cell, formation per kWh, see :func:`step_scale`); each step is its own unit process on the product system's path: the cell draws
  it per kg of cell at the energy density (kWh of cell per kg), so one kWh of cell passes through every
  step and the step's electricity and heat are its own exchanges (per-process contributions show them),
* sets the plant energy of the cell and of its electrodes to zero, so the steps are the whole plant.
  (Every cell carries a link to every step process, stored at zero; a study sets its profile's.)

Profile ``inventory`` keeps the energy that the electrode and cell inventories carry (premise,
after Dai et al. 2019, for the Li-ion cells; the sodium-ion source's own plant); its steps are
read from those inventories (electrode coating and drying per electrode, cell assembly).

A company's measured plant energy replaces the profile: ``plant.electricity_kwh_per_kwh_cell`` and
``plant.heat_mj_per_kwh_cell`` (or the older per-kg fields), whole plant.

Plant yield (``plant.yield``, share y of built cells that pass end-of-line inspection): a good cell
carries the rejected cells' materials, so every bill-of-materials input of the cell is divided by y.
Energy is divided by y only where the data are per cell *built*: the ``inventory`` profile's cell
assembly (a unit process per kg of cell processed; the electrodes follow through the BOM). Plant
totals per kWh of cell *produced* (Degen & Schuette 2022; a company's measured plant energy) are
already total energy / good output, so they are not divided again. Electrode scrap before assembly is
``recycling.scrap_rate`` (a share of cathode production, closed through the scrap loop); the two
compose multiplicatively and count different losses, so nothing is counted twice::

    cathode made per good cell = cathode in the cell / (y x (1 - scrap_rate))

Rejected cells leave the system without burden or credit (cut-off); their recycling is not modelled.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import StudyError
from .superstructure import CO2_FOSSIL, PLANT_ELECTRICITY, PLANT_HEAT, Entry, bio_key

STEP_PREFIX = "plant_step__"
INVENTORY = "inventory"
#: The profile a chemistry uses unless the study names one. Degen & Schuette 2022 is a large-scale
#: Li-ion plant, by default by process step (inventories/cells/plant_energy.yaml says why); the sodium-ion
#: cell keeps its source's own all-electric plant.
DEFAULT_PROFILE = {"NMMT": INVENTORY}
LI_ION_DEFAULT = "degen_schutte_2022_by_step"
#: Profiles of the Degen & Schuette plant (an NMC811-era Li-ion plant): other chemistries use them as a proxy.
DEGEN_SCHUTTE = ("degen_schutte_2022", "degen_schutte_2022_by_step", "degen_schutte_2022_by_mass")
HEAT_PUMP = "heat_pump"
HEAT_PUMP_PROCESS = "heat_heat_pump_plant"
BIOMASS = "biomass"
BIOMASS_HEAT = "heat_biomass_plant"
BIOMASS_COMBUSTION = "wood_fuel_combustion_plant"
BIOMASS_SUPPLY = "wood_fuel_supply_plant"
MJ_PER_KWH = 3.6
#: BatPaC 5.0 (Knehr et al. 2022) default cell yield, "% of built cells that pass inspection"
#: (sheet Dashboard row 112 and sheet Cost Input row 9: 95 %); used for cells of the design model.
BATPAC_CELL_YIELD = 0.95
BATPAC_SOURCE = "batpac50_workbook (cell yield, % of built cells that pass inspection: 95)"


@dataclass
class PlantYield:
    value: float
    source: str

    @property
    def factor(self) -> float:
        """Cells built per good cell."""
        return 1.0 / self.value

    def as_dict(self) -> dict:
        return {"yield": self.value, "cells_built_per_good_cell": self.factor, "source": self.source}


def plant_yield(study, cell) -> PlantYield:
    """The study's plant yield, or the default: BatPaC's for design-model cells (their BOM is the
    cell's own content); 1 for cells whose inventory gives materials per cell made (the source's
    plant losses, if any, are already in it)."""
    pl = study.plant
    if pl.cell_yield is not None:
        return PlantYield(pl.cell_yield, "study: " + pl.yield_source)
    if "design" in cell.extra:
        return PlantYield(BATPAC_CELL_YIELD, BATPAC_SOURCE)
    return PlantYield(1.0, f"{cell.source} (inventory per cell made; no yield added)")


@dataclass
class PlantEnergy:
    profile: str
    steps: list[dict]
    electricity_kwh_per_kwh: float          # the plant's own electricity (heat-pump/boiler power not included)
    heat_mj_per_kwh: float                  # useful heat
    source: str
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    yield_: PlantYield | None = None
    energy_per_cell_built: bool = False     # True: the energy was divided by the yield

    def as_dict(self) -> dict:
        total_kwh = self.electricity_kwh_per_kwh + self.heat_mj_per_kwh / MJ_PER_KWH
        return {"profile": self.profile, "source": self.source,
                "electricity_kwh_per_kwh": self.electricity_kwh_per_kwh,
                "heat_mj_per_kwh": self.heat_mj_per_kwh,
                "total_kwh_per_kwh": total_kwh,
                "electricity_share": self.electricity_kwh_per_kwh / total_kwh if total_kwh else 0.0,
                "steps": self.steps, "notes": self.notes,
                "yield": self.yield_.as_dict() if self.yield_ else None,
                "energy_divided_by_yield": self.energy_per_cell_built}


_PROFILES: dict = {}


def profiles(procs: dict) -> dict[str, list]:
    """Profile name -> its step processes (cached per processes dict: do not change the result)."""
    from .base import per_dict
    return per_dict(_PROFILES, procs, lambda: _profiles(procs))


def _profiles(procs: dict) -> dict[str, list]:
    out: dict[str, list] = {}
    for pid, p in procs.items():
        if pid.startswith(STEP_PREFIX):
            prof = pid[len(STEP_PREFIX):].split("__", 1)[0]
            out.setdefault(prof, []).append(p)
    return out


def step_links(cell) -> list[str]:
    """The step processes the cell draws (added to every cell by the superstructure)."""
    return sorted(x.target for x in cell.exchanges if x.kind == "technosphere" and x.target.startswith(STEP_PREFIX))


def _driver(p) -> str:
    return p.extra.get("driver", "cell_energy")


def step_scale(p, ed: float) -> float:
    """Units of the step process per kWh of this cell. A step per kWh of cell (``driver: cell_energy``, or none) is
    1; a step per kg of cell (``driver: cell_mass``) is given per kWh of the source's reference cell (r kWh per kg),
    so a cell of ``ed`` kWh per kg draws r / ed of it per kWh (r per kg of cell, whatever its energy density)."""
    if _driver(p) == "cell_mass":
        return p.extra["driver_reference_kwh_per_kg"] / ed
    return 1.0


def _energy(p, target: str) -> float:
    return sum(x.amount for x in p.exchanges if x.kind == "technosphere" and x.target == target)


def _electrodes(cell, procs: dict) -> list[str]:
    """The cell's electrode processes and the electrodes they draw (anode_lfp -> anode_nmc811)."""
    out, todo = [], [x.target for x in cell.exchanges if x.kind == "technosphere"]
    while todo:
        pid = todo.pop()
        if pid in out or not pid.startswith(("cathode_", "anode_")) or pid not in procs:
            continue
        out.append(pid)
        todo += [x.target for x in procs[pid].exchanges if x.kind == "technosphere"]
    return sorted(out)


def _inventory_steps(cell, procs: dict, bom: dict[str, float], ed: float) -> list[dict]:
    """Steps of the ``inventory`` profile: each electrode's coating/drying and the cell assembly."""
    steps = []

    def walk(pid: str, kg_per_kg_cell: float):
        p = procs[pid]
        e, h = _energy(p, PLANT_ELECTRICITY), _energy(p, PLANT_HEAT)
        if e or h:
            steps.append({"step": pid, "name": p.name, "source": p.source,
                          "electricity_kwh_per_kwh": e * kg_per_kg_cell / ed,
                          "heat_mj_per_kwh": h * kg_per_kg_cell / ed})
        for x in p.exchanges:
            if x.kind == "technosphere" and x.target.startswith(("cathode_", "anode_")):
                walk(x.target, kg_per_kg_cell * x.amount)

    for pid, kg in bom.items():
        if pid.startswith(("cathode_", "anode_")):
            walk(pid, kg)
    e, h = _energy(cell, PLANT_ELECTRICITY), _energy(cell, PLANT_HEAT)
    steps.append({"step": cell.id, "name": "cell assembly, dry room, formation (" + cell.name + ")",
                  "source": cell.source, "electricity_kwh_per_kwh": e / ed, "heat_mj_per_kwh": h / ed})
    return steps


#: The fields of ``plant`` that :func:`plant_energy` reads (its results are kept per their values between the builds
#: of a sweep, :class:`lca_battery.model.entries.BuildMemo`; tests check the function reads no other).
PLANT_ENERGY_FIELDS = ("energy_data", "electricity_kwh_per_kwh_cell", "electricity_kwh_per_kg_cell", "heat_mj_per_kwh_cell",
                       "heat_mj_per_kg_cell", "heat", "heat_pump_cop", "heat_pump_cop_source", "biomass_boiler_efficiency",
                       "biomass_supply_kg_co2e_per_mj", "biomass_source")


def plant_energy(study, cell, procs: dict, bom: dict[str, float], ed: float, chem: str,
                 file: str = "<study>", yld: PlantYield | None = None) -> PlantEnergy:
    """The plant energy of the study and the matrix entries that set it.

    ``bom``: kg of each cell input per kg cell (the study's BOM, the cell's content, before the yield);
    ``ed``: kWh per kg cell."""
    pl = study.plant
    yld = yld or plant_yield(study, cell)
    avail = profiles(procs)
    default = DEFAULT_PROFILE.get(chem, LI_ION_DEFAULT if LI_ION_DEFAULT in avail else INVENTORY)
    profile = default if pl.energy_data == "default" else pl.energy_data
    if profile != INVENTORY and profile not in avail:
        raise StudyError(f"unknown plant energy data '{pl.energy_data}'", file=file, field="plant.energy_data",
                         allowed=", ".join(["default", INVENTORY, *sorted(avail)]))
    entries: list[Entry] = []
    notes: list[str] = []
    if profile == INVENTORY:
        steps = _inventory_steps(cell, procs, bom, ed)
        source = "electrode and cell inventories"
    else:
        steps = []
        for p in sorted(avail[profile], key=lambda q: q.id):
            k = step_scale(p, ed)
            st = {"step": p.id[len(STEP_PREFIX) + len(profile) + 2:], "name": p.name, "source": p.source,
                  "electricity_kwh_per_kwh": _energy(p, PLANT_ELECTRICITY) * k,
                  "heat_mj_per_kwh": _energy(p, PLANT_HEAT) * k}
            if "driver" in p.extra:
                st.update(driver=p.extra["driver"], scale=k)
            steps.append(st)
        source = ", ".join(sorted({p.source for p in avail[profile]}))
        mass = sorted({p.extra["driver_reference_kwh_per_kg"] for p in avail[profile]
                       if p.extra.get("driver") == "cell_mass"})
        if mass:
            notes.append(f"{profile}: steps per kg of cell, scaled by the source's reference cell ("
                         + ", ".join(f"{m:g}" for m in mass) + f" kWh/kg) over this cell's {ed:.3f} kWh/kg = "
                         + ", ".join(f"{m / ed:.3f}" for m in mass) + "; formation and ageing per kWh of cell")
        if chem in DEFAULT_PROFILE or (chem != "NMC811" and profile in DEGEN_SCHUTTE):
            notes.append(f"plant energy of {profile} ({'by cell mass' if mass else 'per kWh of cell'}) used as a "
                         f"proxy for the {chem} cell")
    elec = sum(s["electricity_kwh_per_kwh"] for s in steps)
    heat = sum(s["heat_mj_per_kwh"] for s in steps)
    param = f"plant.energy_data ({profile})"
    # a company's measured whole-plant energy replaces the data set
    measured = {}
    for name, per_kwh, per_kg in (("electricity", pl.electricity_kwh_per_kwh_cell, pl.electricity_kwh_per_kg_cell),
                                  ("heat", pl.heat_mj_per_kwh_cell, pl.heat_mj_per_kg_cell)):
        if per_kwh is not None and per_kg is not None:
            unit = "kwh" if name == "electricity" else "mj"
            raise StudyError(f"give the plant's {name} per kWh of cell or per kg of cell, not both", file=file,
                             field=f"plant.{name}_{unit}_per_kwh_cell")
        if per_kwh is not None:
            measured[name] = (per_kwh, f"plant.{name}_{'kwh' if name == 'electricity' else 'mj'}_per_kwh_cell")
        elif per_kg is not None:
            measured[name] = (per_kg / ed, f"plant.{name}_{'kwh' if name == 'electricity' else 'mj'}_per_kg_cell")
    if measured:
        if "electricity" in measured:
            elec = measured["electricity"][0]
        if "heat" in measured:
            heat = measured["heat"][0]
        # one measured carrier with the other from the published profile: said in the step's name and source, and
        # the step is not "measured" (the declaration still lists the plant energy as not company-specific)
        partial = [n for n in ("electricity", "heat") if n not in measured]
        default_of = f"{profile}'s default" if partial else ""
        steps = [{"step": "measured" if not partial else "measured_" + "_".join(measured),
                  "name": ("whole plant, company-specific (study)" if not partial else
                           f"whole plant: {' and '.join(measured)} company-specific (study), {partial[0]} from "
                           f"{default_of} (not measured)"),
                  "source": "study: " + ", ".join(v[1] for v in measured.values())
                            + (f"; {partial[0]}: {profile}" if partial else ""),
                  "electricity_kwh_per_kwh": elec, "heat_mj_per_kwh": heat}]
        source = steps[0]["source"]
        param = ", ".join(v[1] for v in measured.values())
    per_cell_built = profile == INVENTORY and not measured
    if per_cell_built:
        # the inventories' own amounts (the databases store the default study's, so set them explicitly);
        # the cell assembly is per kg of cell processed, so a good cell carries 1/yield of it (the
        # electrodes follow through the BOM, which is already divided by the yield)
        for pid in [*_electrodes(cell, procs), cell.id]:
            k = yld.factor if pid == cell.id else 1.0
            for target in (PLANT_ELECTRICITY, PLANT_HEAT):
                if any(x.target == target for x in procs[pid].exchanges):
                    entries.append(Entry(target, pid, _energy(procs[pid], target) * k,
                                         param + (" / plant.yield" if k != 1.0 else "")))
    else:
        for pid in _electrodes(cell, procs):
            for target in (PLANT_ELECTRICITY, PLANT_HEAT):
                if any(x.target == target for x in procs[pid].exchanges):
                    entries.append(Entry(target, pid, 0.0, param + ": whole plant on the cell"))
    # the cell draws each step process of the profile (kWh of cell per kg cell = energy density); the
    # step processes carry the energy, so the cell's own plant energy is zero (inventory profile and a
    # company's measured plant: the energy stays on the cell and every step link is zero)
    linked = step_links(procs.get(cell.id, cell))
    by_step = bool(linked) and profile != INVENTORY and not measured
    mine = {STEP_PREFIX + profile + "__" + s["step"] for s in steps} if by_step else set()
    for sid in linked:
        amount = ed * step_scale(procs[sid], ed) if sid in mine else 0.0
        entries.append(Entry(sid, cell.id, amount, param + (": kWh of reference cell per kg cell"
                                                            if sid in mine and _driver(procs[sid]) == "cell_mass"
                                                            else ": kWh of cell per kg cell")))
    if by_step:
        for target in (PLANT_ELECTRICITY, PLANT_HEAT):
            if any(x.target == target for x in cell.exchanges):
                entries.append(Entry(target, cell.id, 0.0, param + ": by step"))
    elif not per_cell_built:
        for target, amount in ((PLANT_ELECTRICITY, elec), (PLANT_HEAT, heat)):
            if not any(x.target == target for x in cell.exchanges):
                if amount:
                    raise StudyError(f"the {chem} cell inventory has no '{target}' input to set", file=file,
                                     field="plant.energy_data")
                continue
            entries.append(Entry(target, cell.id, amount * ed, param))
    # heat supplied by an electric heat pump: its COP comes from the study
    if HEAT_PUMP_PROCESS in procs:
        heat_choice = pl.heat if isinstance(pl.heat, dict) else {pl.heat: 1.0}
        if heat_choice.get(HEAT_PUMP):
            if pl.heat_pump_cop is None:
                raise StudyError("a heat pump needs its seasonal COP: give plant.heat_pump_cop and "
                                 "plant.heat_pump_cop_source", file=file, field="plant.heat_pump_cop")
            entries.append(Entry(PLANT_ELECTRICITY, HEAT_PUMP_PROCESS, 1.0 / (MJ_PER_KWH * pl.heat_pump_cop),
                                 "plant.heat_pump_cop"))
            notes.append(f"heat pump COP {pl.heat_pump_cop:g} ({pl.heat_pump_cop_source})")
    # heat from a wood-fired boiler: its efficiency and the fuel's supply chain come from the study
    if BIOMASS_HEAT in procs:
        heat_choice = pl.heat if isinstance(pl.heat, dict) else {pl.heat: 1.0}
        if heat_choice.get(BIOMASS):
            for fld in ("biomass_boiler_efficiency", "biomass_supply_kg_co2e_per_mj"):
                if getattr(pl, fld) is None:
                    raise StudyError("biomass heat needs the boiler's efficiency and the wood fuel's supply-chain "
                                     "factor: give plant.biomass_boiler_efficiency (0-1], "
                                     "plant.biomass_supply_kg_co2e_per_mj (>= 0) and plant.biomass_source",
                                     file=file, field=f"plant.{fld}")
            entries.append(Entry(BIOMASS_COMBUSTION, BIOMASS_HEAT, 1.0 / pl.biomass_boiler_efficiency,
                                 "plant.biomass_boiler_efficiency"))
            entries.append(Entry(bio_key(CO2_FOSSIL), BIOMASS_SUPPLY, pl.biomass_supply_kg_co2e_per_mj,
                                 "plant.biomass_supply_kg_co2e_per_mj", "biosphere"))
            notes.append(f"biomass boiler efficiency {pl.biomass_boiler_efficiency:g}, fuel supply "
                         f"{pl.biomass_supply_kg_co2e_per_mj:g} kg CO2e/MJ ({pl.biomass_source}); biogenic CO2 of "
                         f"the combustion and the wood's uptake are reported in the biogenic part")
    if per_cell_built and yld.value != 1.0:
        # the step table reports energy per kWh of good cell
        steps = [{**st, "electricity_kwh_per_kwh": st["electricity_kwh_per_kwh"] * yld.factor,
                  "heat_mj_per_kwh": st["heat_mj_per_kwh"] * yld.factor} for st in steps]
        elec *= yld.factor
        heat *= yld.factor
    return PlantEnergy(profile, steps, elec, heat, source, entries, notes, yld, per_cell_built)
