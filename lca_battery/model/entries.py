"""A validated study -> the matrix entries it sets (the explicit parameter-to-matrix mapping).

Every entry names the study parameter that set it; ``parameters.csv`` in the results lists them.
The index set depends on the study only through its choices (a supplier figure adds the entries
of that material's column), so scenarios of one study family share the same matrix structure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from fnmatch import fnmatchcase

import numpy as np
from pydantic import BaseModel

from ..errors import StudyError
from ..inventory.records import Inventory, Process
from .cell import BomLine, bill_of_materials, complete_voltage
from .electricity import PlantElectricity, plant_shares
from .plant import PLANT_ENERGY_FIELDS, PlantEnergy, plant_energy, plant_yield
from .superstructure import (CO2_FOSSIL, site_switch_id, supplier_node, DISTRIBUTION, PLANT_ELECTRICITY, PLANT_HEAT, RESIDUAL_MIX, ROOT, TRANSPORT,
                             Entry, all_processes, bio_key, chemistries)


@dataclass
class Mapping:
    """What a study sets, with what the report needs to say about it."""
    entries: list[Entry]
    cell_id: str
    kg_cell_per_kwh: float
    bom: list[BomLine]
    bom_info: dict
    electricity: PlantElectricity
    suppliers: list[dict] = field(default_factory=list)
    recycling: dict = field(default_factory=dict)
    plant_energy: PlantEnergy | None = None
    #: (matrix, input, output) of each entry, in order (:meth:`lca_battery.compiled.CompiledModel.delta`)
    cells: tuple = ()
    #: the entries' amounts (float array), when assembled from the switch index (else None)
    amounts: object = None
    #: a key standing for ``cells`` (the switch index's token and the cells after its defaults), or None
    layout_key: tuple | None = None


def _shares(value, alternatives: dict[str, str], param: str, file: str,
            unavailable: dict[str, str] | None = None) -> dict[str, float]:
    """Shares of every alternative of a switch for a study value (a name or {name: share}). A name the switch
    does not offer is an error: with the switch's own reason when it lists the name as ``unavailable`` (a
    documented alternative this switch cannot offer), else as unknown."""
    if isinstance(value, str):
        value = {value: 1.0}
    unknown = sorted(set(value) - set(alternatives))
    if unknown:
        why = (unavailable or {}).get(unknown[0])
        raise StudyError(why or f"unknown alternative '{unknown[0]}'", file=file, field=param,
                         allowed=", ".join(sorted(alternatives)))
    return {k: float(value.get(k, 0.0)) for k in alternatives}


_SWITCHES: dict[tuple, tuple[dict, list[Process]]] = {}
_DEFAULTS: dict[int, tuple[Process, list[tuple[tuple, Entry]]]] = {}


def _switch_processes(procs: dict[str, Process]) -> list[Process]:
    """The switch processes of :func:`all_processes`'s (cached) dict, in its order; cached per dict."""
    from .base import per_dict
    return per_dict(_SWITCHES, procs, lambda: [p for p in procs.values() if p.is_switch], size=1)


def _default_entries(p: Process, file: str) -> list[tuple[tuple, Entry]]:
    """The entries of a switch at its default shares, as (cell, entry) pairs (Entry is frozen: shared
    between mappings); cached per process object (held, so an id is never reused while cached)."""
    hit = _DEFAULTS.get(id(p))
    if hit is None or hit[0] is not p:
        hit = (p, [((e.matrix, e.input, e.output), e) for e in (
            Entry(p.alternatives[name], p.id, share, p.switch)
            for name, share in _shares(p.default, p.alternatives, p.switch, file).items())])
        if len(_DEFAULTS) > 4096:
            _DEFAULTS.clear()
        _DEFAULTS[id(p)] = hit
    return hit[1]


_AMOUNT = attrgetter("amount")


def _basis_unused(p: Process, value, in_use: set) -> bool:
    """An alternative switch ``p`` lists as unavailable (a recycling basis its route lacks), for a route the
    study does not use (it then keeps its default: the basis matters only if the study uses the route)."""
    return isinstance(value, str) and value in p.extra.get("unavailable", {}) \
        and p.extra.get("route", "")[len("recycling_"):] not in in_use


#: how a supplier's ``power`` is told apart from a ``location`` among the site settings of a study
POWER_PREFIX = "power:"


def _site_settings(study) -> dict[str, str]:
    """Supplier id -> its site setting: the country whose grid supplies it (``location``) or ``power:<tech>``."""
    return {pid: (f"{POWER_PREFIX}{s.power}" if s.power else s.location) for pid, s in study.suppliers.items()
            if s.location or s.power}


def _site_field(target: str, setting: str) -> str:
    return f"suppliers.{target}.{'power' if setting.startswith(POWER_PREFIX) else 'location'}"


def study_fields(study):
    """``parameter -> study field`` for the entries of ``study``: a material's site switch (``locations.<id>`` in
    the model) is set by ``suppliers.<id>.power`` or ``.location`` (:func:`_site_field`, as the errors name it;
    ``.location`` when the study is silent: the inventory's site); every other parameter names its field."""
    settings = _site_settings(study)

    def field(parameter: str) -> str:
        if not parameter.startswith("locations."):
            return parameter
        target = parameter.split(".", 1)[1]
        return _site_field(target, settings.get(target, ""))
    return field


def _location_value(p: Process, target: str, cc: str, file: str) -> dict:
    """The value of the ``locations.<target>`` switch ``p`` for site country ``cc``, or for the generation technology
    of a ``power:<tech>`` setting (an unknown one is an error)."""
    if cc.startswith(POWER_PREFIX):
        key = "tech_" + cc[len(POWER_PREFIX):]
        if key not in p.alternatives:
            raise StudyError(f"unknown generation technology '{cc[len(POWER_PREFIX):]}'", file=file,
                             field=_site_field(target, cc),
                             allowed=", ".join(sorted(k[5:] for k in p.alternatives if k.startswith("tech_"))))
        return {key: 1.0}
    if f"grid_{cc}" not in p.alternatives:
        raise StudyError(f"unknown country code '{cc}'", file=file, field=f"suppliers.{target}.location",
                         allowed=", ".join(sorted(k[5:] for k in p.alternatives if k.startswith("grid_"))))
    return {f"grid_{cc}": 1.0}


def _keyed(group: list[Entry], pos: dict) -> tuple[list, list]:
    """(cell, entry) pairs of a list of entries, and (position, amount) of those on a switch default's cell."""
    pairs = [((e.matrix, e.input, e.output), e) for e in group]
    return pairs, [(pos[k], e.amount) for k, e in pairs if k in pos]


@dataclass(frozen=True)
class _Location:
    """A supplier's site country for a ``locations.<id>`` switch (checked where the switch is reached)."""
    target: str
    country: str


class _SwitchIndex:
    """The switches of a processes dict, indexed so a study's switch entries are its defaults (one dict,
    built once) with only the switches the study sets replaced in place: the same entries, in the same
    order, as :func:`_switch_loop` (a switch's cells are the same whatever its value), and the same first
    error (the switches the study sets are visited in switch order)."""

    def __init__(self, procs: dict, file: str):
        self.switches = _switch_processes(procs)
        self.defaults: dict = {}
        self.elec = self.heat = None
        self.locations: dict[str, tuple[int, Process]] = {}       # target -> its first switch
        self.sections: dict[tuple, list[tuple[int, Process]]] = {}   # (allocation|supply, key) -> switches
        for i, p in enumerate(self.switches):
            self.defaults.update(_default_entries(p, file))
        self.pos = {k: i for i, k in enumerate(self.defaults)}          # cell -> its place among the defaults
        self.amounts = np.array([e.amount for e in self.defaults.values()], dtype=float)
        self.token = object()           # stands for the defaults' cells in a layout key (held there: never reused)
        self._cells: dict[tuple, tuple[list, list]] = {}       # (switch, value) -> its cells (switch_cells)
        for i, p in enumerate(self.switches):
            if p.id == PLANT_ELECTRICITY:
                self.elec = (i, p)
            elif p.id == PLANT_HEAT:
                self.heat = (i, p)
            elif p.switch.startswith("locations."):
                self.locations.setdefault(p.switch.split(".", 1)[1], (i, p))   # the first pops the country
            else:
                section, _, key = p.switch.partition(".")
                if section in ("allocation", "supply"):
                    self.sections.setdefault((section, key), []).append((i, p))

    def switch_cells(self, p: Process, value, file: str) -> tuple[list, list]:
        """(cell, entry) pairs of switch ``p`` at ``value`` and (position, amount) of each (kept per switch and
        value; a value that raises is not kept)."""
        key = (p.id, frozen(value))
        hit = self._cells.get(key)
        if hit is None:
            # a switch's cells are the same whatever its value, so each is among the defaults
            shares = _shares(value, p.alternatives, p.switch, file, p.extra.get("unavailable"))
            hit = _keyed([Entry(p.alternatives[name], p.id, share, p.switch) for name, share in shares.items()],
                         self.pos)
            if len(self._cells) >= 4096:
                self._cells.clear()
            self._cells[key] = hit
        return hit

    def changed(self, study, plant, site_countries: dict, in_use: set) -> list[tuple[Process, object]]:
        """(switch, value) of the switches the study sets (not at their default), in switch order;
        ``site_countries`` loses the targets found (as in :func:`_switch_loop`)."""
        todo = []
        if self.elec is not None:
            todo.append((self.elec[0], self.elec[1], plant.shares))
        if self.heat is not None:
            todo.append((self.heat[0], self.heat[1], study.plant.heat))
        for target in [t for t in site_countries if t in self.locations]:
            i, p = self.locations[target]
            todo.append((i, p, _Location(target, site_countries.pop(target))))
        for section in ("allocation", "supply"):
            for key, value in getattr(study, section, {}).items():
                for i, p in self.sections.get((section, key), ()):
                    if not _basis_unused(p, value, in_use):
                        todo.append((i, p, value))
        todo.sort(key=lambda t: t[0])
        return [(p, value) for _, p, value in todo]


_INDEX: dict[tuple, tuple] = {}


def _switch_index(procs: dict, file: str) -> _SwitchIndex | None:
    """The :class:`_SwitchIndex` of :func:`all_processes`'s (cached) dict; None when a switch's default
    cannot be read (the caller then goes switch by switch and raises that error in place)."""
    from .base import per_dict

    def make():
        try:
            return _SwitchIndex(procs, file)
        except StudyError:
            return None
    return per_dict(_INDEX, procs, make, size=1)


def _switch_loop(study, procs: dict, plant, site_countries: dict, in_use: set, unique: dict, entries: list,
                 file: str) -> None:
    """The switch entries, switch by switch (the reference of :class:`_SwitchIndex`; used when a switch's
    default cannot be read, so its error is raised where it always was): default switches go into
    ``unique``, the others into ``entries`` (the caller flushes them in order)."""
    def flush():
        for e in entries:
            unique[(e.matrix, e.input, e.output)] = e
        entries.clear()
    for p in _switch_processes(procs):
        if p.id == PLANT_ELECTRICITY:
            value = plant.shares
        elif p.id == PLANT_HEAT:
            value = study.plant.heat
        elif p.switch.startswith("locations."):
            target = p.switch.split(".", 1)[1]
            cc = site_countries.pop(target, None)
            value = p.default if cc is None else _location_value(p, target, cc, file)
        else:
            section, _, key = p.switch.partition(".")
            value = getattr(study, section, {}).get(key, p.default) if section in ("allocation", "supply") \
                else p.default
            if _basis_unused(p, value, in_use):
                value = p.default
        if value is p.default:          # most switches keep their default: the same (frozen) entries
            flush()
            unique.update(_default_entries(p, file))
            continue
        for name, share in _shares(value, p.alternatives, p.switch, file, p.extra.get("unavailable")).items():
            entries.append(Entry(p.alternatives[name], p.id, share, p.switch))


def routes_in_use(study) -> set[str]:
    rc = study.recycling
    used = set()
    if rc.recycled_content or rc.eol_collection_rate:
        used.add(rc.route)
    if rc.scrap_rate:
        used.add(rc.scrap_route)
    return used


def study_mapping(study, inventory: Inventory, file: str = "<study>", rule: str | None = None,
                  memo: BuildMemo | None = None) -> Mapping:
    """The study's entries (see the module doc). ``memo``: results of the design model, the plant energy
    and the recycling entries kept between the builds of one sweep (:class:`BuildMemo`)."""
    procs = all_processes(inventory)
    if memo is not None:
        memo.use(procs)
    cells = chemistries(inventory)
    chem = study.cell.chemistry.upper()
    if chem not in cells:
        raise StudyError(f"unknown chemistry '{study.cell.chemistry}'", file=file, field="cell.chemistry",
                         allowed=", ".join(sorted(cells)))
    cell = procs[cells[chem].id]
    for pattern in study.stage_overrides:       # a pattern that matches no process would move nothing, silently
        if not any(fnmatchcase(pid, pattern) for pid in procs):
            raise StudyError(f"'{pattern}' matches no process", file=file, field=f"stage_overrides.{pattern}",
                             allowed="a process id or a pattern of them, e.g. cam_* (ids: processes.csv)")
    entries: list[Entry] = []
    # last entry wins for the same matrix cell (a supplier figure overrides the design model): ``unique``
    # holds the entries in order, ``entries`` those not yet in it
    unique: dict[tuple, Entry] = {}

    def flush():
        for e in entries:
            unique[(e.matrix, e.input, e.output)] = e
        entries.clear()
    plant = plant_shares(study, procs[PLANT_ELECTRICITY].alternatives, rule, file)
    site_countries = _site_settings(study)
    in_use = routes_in_use(study)
    for pid in study.suppliers:
        recycled = pid in procs and procs[pid].switch == "allocation.recycling"   # a recycler's own salt
        route = supplier_node(pid, procs) not in (pid, None)           # a recycling route: its site only
        if route:
            sup = study.suppliers[pid]
            if sup.pcf_kg_co2e_per_kg is not None or sup.inventory:
                raise StudyError(f"'{pid}' has several products (a recycling route): a figure of its own belongs "
                                 f"to each of them", file=file, field=f"suppliers.{pid}",
                                 allowed="location or power for the route; pcf_kg_co2e_per_kg or inventory for a "
                                         "recycled salt, e.g. suppliers.cobalt_sulfate_recycled_hydro")
            continue
        if pid not in procs or (procs[pid].is_switch and not recycled) or (
                procs[pid].stage is None and site_switch_id(pid) not in procs):
            raise StudyError(f"unknown material '{pid}'", file=file, field=f"suppliers.{pid}",
                             allowed="the id of a foreground process or of a material made with grid "
                                     "electricity (the id column of processes.csv or of `lca-battery datasets "
                                     "STUDY`), e.g. " + ", ".join(
                                 sorted(p for p in procs if p.startswith(("cam_", "pcam_", "cathode_"))))
                                     + "; or a recycled salt of a route, e.g. " + ", ".join(
                                 sorted(p for p, q in procs.items() if q.switch == "allocation.recycling"
                                        and p.startswith("cobalt_"))))
        if recycled and study.suppliers[pid].location is not None:
            raise StudyError(f"'{pid}' is a recycling route's product: its site is the route's, not a setting of "
                             f"the product", file=file, field=f"suppliers.{pid}.location",
                             allowed="pcf_kg_co2e_per_kg or inventory with their source (the recycler's own figure)")
    index = _switch_index(procs, file)
    if index is None:                   # a switch's default cannot be read: each switch in turn (its error)
        _switch_loop(study, procs, plant, site_countries, in_use, unique, entries, file)
        flush()
    else:
        unique.update(index.defaults)
        patched = []                    # (position among the defaults, amount) of the cells set since

        def put(group: list[Entry]) -> None:
            """The pending entries, then a kept part's (keyed once per kept list)."""
            flush_tail()
            pairs, patches = memo.derived(group, lambda: _keyed(group, index.pos))
            unique.update(pairs)
            patched.extend(patches)

        def flush_tail():
            for e in entries:
                key = (e.matrix, e.input, e.output)
                unique[key] = e
                i = index.pos.get(key)
                if i is not None:
                    patched.append((i, e.amount))
            entries.clear()
        for p, value in index.changed(study, plant, site_countries, in_use):
            if isinstance(value, _Location):
                value = _location_value(p, value.target, value.country, file)
            pairs, patches = index.switch_cells(p, value, file)
            unique.update(pairs)
            patched += patches
    for pid, setting in site_countries.items():
        raise StudyError(f"'{pid}' has no site electricity input (grid or own plant) that could change", file=file,
                         field=_site_field(pid, setting),
                         allowed=", ".join(sorted(p.switch.split(".", 1)[1] for p in procs.values()
                                                  if p.switch and p.switch.startswith("locations."))))
    entries.append(Entry(bio_key(CO2_FOSSIL), RESIDUAL_MIX, plant.residual_kg_per_kwh or 0.0,
                         "plant.electricity.residual_mix_kg_per_kwh", "biosphere"))
    # the cell and its bill of materials
    study = complete_voltage(study, cell, file)
    if memo is None:
        bom, info = bill_of_materials(study, cell, procs, file)
    else:
        bom, info = memo.get("bom", (cell.id, file, frozen(study.cell)),
                             lambda: bill_of_materials(study, cell, procs, file))
    kg_per_kwh = 1.0 / info["energy_density_kwh_per_kg"]
    for c in cells.values():
        entries.append(Entry(c.id, ROOT, kg_per_kwh if c.id == cell.id else 0.0, "cell.chemistry"))
    # plant yield: a good cell carries the materials of the rejected ones (model/plant.py)
    yld = plant_yield(study, cell)
    for line in bom:
        entries.append(Entry(line.input, cell.id, line.kg_per_kg_cell * yld.factor,
                             ("cell.bom" if line.data == "company-specific" else "cell (design model)")
                             + (" / plant.yield" if yld.value != 1.0 else "")))
    entries.append(Entry(DISTRIBUTION, ROOT, kg_per_kwh, "cell (kg per kWh)"))
    for fld, target in TRANSPORT.items():
        if target in procs:
            entries.append(Entry(target, DISTRIBUTION, getattr(study.distribution, fld) * 1e-3,
                                 f"distribution.{fld}"))
    # plant energy by process step (model/plant.py): the whole plant on the cell, per kWh x kWh/kg
    bom_kg = {b.input: b.kg_per_kg_cell for b in bom}
    if memo is None:
        energy = plant_energy(study, cell, procs, bom_kg, info["energy_density_kwh_per_kg"], chem, file, yld)
    else:
        energy = memo.get("plant_energy", (cell.id, chem, file, tuple(bom_kg.items()), info["energy_density_kwh_per_kg"],
                                           yld.value, yld.source, plant_energy_key(study.plant)),
                          lambda: plant_energy(study, cell, procs, bom_kg, info["energy_density_kwh_per_kg"], chem,
                                               file, yld))
    if memo is not None and index is not None:
        put(energy.entries)
    else:
        entries += energy.entries
    from .cell import element_content
    from .recycling import check_system_expansion, eol_entries, recycling_entries, supply_entries
    rc = study.recycling                       # the study's cell, whose metals its end of life recovers (credits)
    content = (element_content(cell.id, procs, bom_kg) if rc.eol_collection_rate and rc.accounting != "cut_off"
               else None)
    if memo is None:
        rec_entries, rec_report = recycling_entries(study, procs, cell, kg_per_kwh, file, content)
        rec_groups = [rec_entries]
    else:
        # as recycling_entries, in two parts kept apart: the supply side (its checks first) does not read the
        # collection rate's value, the end of life reads only its arguments
        sup_entries, sup_report = memo.get(
            "recycling_supply", (cell.id, file, bool(rc.eol_collection_rate),
                                 tuple([(k, frozen(v)) for k, v in rc.__dict__.items() if k != "eol_collection_rate"])),
            lambda: supply_entries(rc, procs, cell, file))
        eol_args = (rc.route, rc.eol_collection_rate, rc.accounting, rc.cff)
        eol, eol_report = memo.get("recycling_eol", (cell.id, kg_per_kwh, content and tuple(content.items()),
                                                     *[frozen(v) for v in eol_args]),
                                   lambda: eol_entries(procs, cell, kg_per_kwh, *eol_args, content))
        rec_groups = [sup_entries, eol]
        rec_report = {**sup_report, "eol": eol_report}
    check_system_expansion(study.allocation.get("recycling"), rec_report, file)
    for group in rec_groups:
        if memo is not None and index is not None:
            put(group)
        else:
            entries += group
    # supplier-specific figures replace the whole column of the material
    suppliers = []
    for pid, sup in study.suppliers.items():
        name = procs[supplier_node(pid, procs)].name          # a recycling route: its site switch
        row = {"process": pid, "name": name, "location": sup.location, "power": sup.power,
               "source": sup.source or None,
               "year": sup.year, "scope": sup.scope, "verification": sup.verification, "dqr": sup.dqr,
               "pcf_kg_co2e_per_kg": sup.pcf_kg_co2e_per_kg}
        suppliers.append(row)
        if sup.pcf_kg_co2e_per_kg is None and not sup.inventory:
            continue
        p = procs[pid]
        param = f"suppliers.{pid}.{'inventory' if sup.inventory else 'pcf_kg_co2e_per_kg'}"
        if sup.inventory:
            target = procs.get(sup.process)
            if target is None or not target.file.startswith("supplier/"):
                raise StudyError(f"process '{sup.process}' is not in the supplier inventory", file=file,
                                 field=f"suppliers.{pid}.process",
                                 allowed=", ".join(sorted(q.id for q in procs.values() if q.file.startswith("supplier/"))))
            if target.unit != p.unit:
                raise StudyError(f"unit mismatch: '{sup.process}' is per {target.unit}, '{pid}' per {p.unit}",
                                 file=file, field=f"suppliers.{pid}.process")
            row["replaced_by"] = sup.process
        # the supplier's data replace the material's whole column (a recycled salt's: its allocation variants)
        for alt in (p.alternatives.values() if p.is_switch else ()):
            entries.append(Entry(alt, pid, 0.0, param))
        for x in p.exchanges:
            if x.kind == "technosphere":
                entries.append(Entry(x.target, pid, 0.0, param))
            else:
                entries.append(Entry(bio_key((x.target, x.compartment)), pid, 0.0, param, "biosphere"))
        if sup.inventory:
            entries.append(Entry(sup.process, pid, 1.0, param))
        else:
            entries.append(Entry(bio_key(CO2_FOSSIL), pid, sup.pcf_kg_co2e_per_kg, param, "biosphere"))
    if index is None:
        flush()
        return Mapping(list(unique.values()), cell.id, kg_per_kwh, bom, info, plant, suppliers, rec_report, energy,
                       tuple(unique))
    # the switches' defaults lead, in the index's order: their amounts from the index's array, patched
    flush_tail()
    n = len(index.pos)
    values = list(unique.values())
    cells_set = tuple(unique)
    head = index.amounts.copy()
    for i, a in patched:                # in order: the last entry of a cell wins
        head[i] = a
    amounts = np.concatenate([head, np.fromiter(map(_AMOUNT, values[n:]), dtype=float, count=len(values) - n)])
    return Mapping(values, cell.id, kg_per_kwh, bom, info, plant, suppliers, rec_report, energy, cells_set,
                   amounts, (index.token, cells_set[n:]))


def plant_energy_key(plant) -> tuple:
    """What :func:`~lca_battery.model.plant.plant_energy` reads of the study's plant, as a key (the yield is keyed
    apart)."""
    return tuple([frozen(getattr(plant, f)) for f in PLANT_ENERGY_FIELDS])


def frozen(value):
    """A hashable key equal for equal values only: a study section (pydantic model), dict (in its order),
    list or scalar, each with its type (1 and 1.0 and True differ; 0.0 and -0.0 differ)."""
    if isinstance(value, BaseModel):
        return (type(value), tuple([(k, frozen(v)) for k, v in value.__dict__.items()]))
    if isinstance(value, dict):
        return (dict, tuple([(k, frozen(v)) for k, v in value.items()]))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple([frozen(v) for v in value]))
    if type(value) is float and value == 0.0:
        return (float, str(value))
    return (type(value), value)


class BuildMemo:
    """Results of the parts of a study's mapping kept between the builds of one sweep, each keyed by all
    that part reads: the BOM (design model) by ``cell.*``, the plant energy by the ``plant`` fields it
    reads (:func:`plant_energy_key`), the BOM and the yield, the recycling entries
    by ``recycling.*`` and kg of cell per kWh; each also by the cell and the study file (named in errors).
    A part that raises is not kept (the next build raises the same error). The results are shared between
    the builds' mappings: the sweep only reads them. Tied to one processes dict (another clears it).
    ``sections``: the study sections validated so far (:func:`lca_battery.study.load_study`)."""

    #: Results kept per part; past this the part's results are dropped (a grid with many cell designs).
    MAX = 4096

    def __init__(self):
        self.procs = None
        self.parts: dict[str, dict] = {}
        self.sections: dict[str, dict] = {}
        self._derived: dict[int, tuple] = {}
        self.hits = self.misses = 0

    def use(self, procs: dict) -> None:
        if procs is not self.procs:
            self.procs = procs
            self.parts.clear()
            self._derived.clear()

    def derived(self, obj, make):
        """What ``make()`` derives from a kept result ``obj`` (held: its id is never reused while kept)."""
        hit = self._derived.get(id(obj))
        if hit is None or hit[0] is not obj:
            if len(self._derived) >= self.MAX:
                self._derived.clear()
            hit = self._derived[id(obj)] = (obj, make())
        return hit[1]

    def get(self, part: str, key: tuple, make):
        d = self.parts.setdefault(part, {})
        hit = d.get(key)
        if hit is None:
            self.misses += 1
            if len(d) >= self.MAX:
                d.clear()
            hit = d[key] = make()
        else:
            self.hits += 1
        return hit


def apply_entries(procs: dict, entries: list[Entry]) -> dict:
    """Processes whose stored amounts are those the entries set (switch shares, BOM, ...).

    Used to write the default study into the databases; an input that a process lists twice
    gets the entry's total on its first exchange and 0 on the others (the matrix sums them)."""
    from dataclasses import replace
    by_output: dict[str, dict[tuple, float]] = {}
    for e in entries:
        by_output.setdefault(e.output, {})[(e.matrix, e.input)] = e.amount
    out = {}
    for pid, p in procs.items():
        sets = by_output.get(pid)
        if not sets:
            out[pid] = p
            continue
        seen = set()
        exs = []
        for x in p.exchanges:
            key = ("technosphere", x.target) if x.kind == "technosphere" else \
                ("biosphere", bio_key((x.target, x.compartment)))
            if key in sets:
                x = replace(x, amount=0.0 if key in seen else sets[key])
                seen.add(key)
            exs.append(x)
        default = {name: sets.get(("technosphere", target), p.default.get(name, 0.0))
                   for name, target in p.alternatives.items()}
        out[pid] = Process(**{**p.__dict__, "exchanges": tuple(exs), "default": default})
    return out
