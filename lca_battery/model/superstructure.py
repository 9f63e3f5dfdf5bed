"""The superstructure: every alternative a study may choose is already an exchange in the
Brightway databases, and a study is a vector of amounts for those exchanges.

Two parts:

* :func:`generated_processes` adds what the engine writes beside the inventory files: the cell
  plant's electricity and heat switches, the distribution leg, allocation variants of every
  multi-output process, and the product-system root (1 kWh of cell capacity).
* :mod:`.entries` maps a validated :class:`~lca_battery.study.Study` to
  :class:`Entry` values: (input process, output process, amount, the study parameter that set
  it). Applied through a bw_processing datapackage on top of the databases, they change
  numbers on the same matrices; nothing is rewritten (issue 2, point 8).
"""
from __future__ import annotations

from ..inventory.records import Exchange, Inventory, Process

from .base import (  # noqa: F401  (re-exported: the builders' shared names)
    ROOT, PLANT_ELECTRICITY, PLANT_HEAT, PLANT_STEP_PREFIX, RESIDUAL_MIX, SITE_PREFIX, SITE_POWER_PREFIXES,
    CO2_FOSSIL, DISTRIBUTION,
    MODEL_SOURCE, MODEL_FILE, TRANSPORT, HEAT_ALTERNATIVES, Entry, bio_key, _model_process,
)


_CHEM_CACHE: dict[tuple[int, str], dict[str, Process]] = {}
_CACHE_SIZE = 4


def chemistries(inventory: Inventory) -> dict[str, Process]:
    """Chemistry name (upper case, e.g. NMC811) -> its cell process ``cell_<chemistry>``.
    Cached per inventory object (as :func:`all_processes`); a new dict each call."""
    key = (id(inventory), inventory.content_hash)
    if key not in _CHEM_CACHE:
        _CHEM_CACHE.clear()
        _CHEM_CACHE[key] = {p.id[len("cell_"):].upper(): p for p in inventory.processes.values()
                            if p.id.startswith("cell_") and "energy_density_kwh_per_kg" in p.extra}
    return dict(_CHEM_CACHE[key])


def electricity_alternatives(inventory: Inventory) -> dict[str, str]:
    out = {}
    for pid in inventory.processes:
        if pid.startswith("electricity_grid_"):
            out["grid_" + pid[len("electricity_grid_"):].upper()] = pid   # alternative key: grid_CN
        elif pid.startswith("electricity_tech_"):
            out["tech_" + pid[len("electricity_tech_"):]] = pid
    return out


def _allocation_variants(p: Process) -> list[Process]:
    """Allocated single-output processes for each co-product of ``p`` plus a switch per product.

    A recycled salt or metal is a supply of raw material to whoever uses it (recycled content):
    its share of the route's burden is raw-material acquisition, not the user's end of life."""
    out = []
    stage = "raw_material_acquisition" if p.stage == "end_of_life" else p.stage
    mass = {c.id: c.amount for c in p.coproducts}           # kg of each co-product
    priced = all(c.price is not None for c in p.coproducts)
    value = {c.id: c.amount * c.price for c in p.coproducts} if priced else {}
    extra = {**p.extra, "route": p.id}
    if not (priced and sum(value.values()) > 0):            # a basis the switch documents but cannot offer here
        extra["unavailable"] = {"economic": f"basis 'economic' is not available for the recycling route '{p.id}' "
                                            f"this study uses (economic allocation needs a public price for every "
                                            f"co-product of the route)"}
    for c in p.coproducts:
        variants = {}
        bases = [("mass", mass[c.id] / sum(mass.values()))]
        if priced and sum(value.values()) > 0:
            bases.append(("economic", value[c.id] / sum(value.values())))
        for basis, share in bases:
            exs = [Exchange(x.kind, x.target, x.amount * share / c.amount, x.unit, x.source, x.compartment,
                            x.aggregated, x.substitution, x.proxy,
                            f"{basis} allocation: {share:.6g} of '{p.id}' per {c.amount:g} {c.unit}", x.feed_carbon)
                   for x in p.exchanges]
            variants[basis] = f"{c.id}__{basis}"
            out.append(Process(**{**p.__dict__, "id": f"{c.id}__{basis}", "exchanges": tuple(exs),
                                  "name": f"{c.name or c.id}, from {p.name}, {basis} allocation",
                                  "reference_product": c.name or c.id, "unit": c.unit, "stage": stage,
                                  "extra": extra, "coproducts": (), "composition": c.composition}))
        # system expansion: this product carries the whole burden, the others displace their virgin twin
        exs = [Exchange(x.kind, x.target, x.amount / c.amount, x.unit, x.source, x.compartment,
                        x.aggregated, x.substitution, x.proxy, "system expansion", x.feed_carbon) for x in p.exchanges]
        exs += [Exchange("technosphere", d.substitutes, -d.amount / c.amount, d.unit, p.source or MODEL_SOURCE,
                         substitution=True, comment=f"avoided {d.substitutes} (system expansion)")
                for d in p.coproducts if d.id != c.id and d.substitutes]
        variants["system_expansion"] = f"{c.id}__system_expansion"
        out.append(Process(**{**p.__dict__, "id": f"{c.id}__system_expansion", "exchanges": tuple(exs),
                              "name": f"{c.name or c.id}, from {p.name}, system expansion",
                              "reference_product": c.name or c.id, "unit": c.unit, "stage": stage,
                              "extra": extra, "coproducts": (), "composition": c.composition}))
        default = "economic" if "economic" in variants else "mass"
        # the switch draws its variant: it has no exchanges, and no exclusions of its own (they are its variants')
        out.append(Process(**{**p.__dict__, "id": c.id, "exchanges": (), "coproducts": (), "excluded": (),
                              "name": f"{c.name or c.id}, from {p.name}, allocation switch",
                              "reference_product": c.name or c.id, "unit": c.unit, "stage": stage,
                              "extra": extra, "switch": "allocation.recycling", "alternatives": variants,
                              "default": {default: 1.0}, "composition": c.composition}))
    return out


def _site_power_inputs(p: Process) -> list[Exchange]:
    """The site electricity of ``p``: its inputs from a national grid or from a generation technology (a captive
    coal plant, ``electricity_tech_coal``); a study can move either to another country's grid."""
    return [x for x in p.exchanges if x.kind == "technosphere"
            and x.target.startswith(SITE_POWER_PREFIXES)]


def site_switch_id(pid: str) -> str:
    return SITE_PREFIX + pid


def supplier_node(pid: str, known) -> str | None:
    """The process a study's ``suppliers.<pid>`` entry acts on, among the ids ``known``: the process itself, or,
    for a recycling route (in the databases through its site switch only: its products are its variants), the
    route's site switch; ``None`` for neither."""
    if pid in known:
        return pid
    return site_switch_id(pid) if site_switch_id(pid) in known else None


def _rewired(p: Process, elec: dict[str, str]) -> tuple[Process, Process | None]:
    """A process's grid electricity goes through a switch of its own, so that a study can move the
    production site (``suppliers.<process id>.location: KR``) on the same matrix. Background materials
    too (primary aluminium's smelter): moving one moves it for every consumer, as a change of supplier does."""
    grid = _site_power_inputs(p)
    if not grid or not elec:
        return p, None
    total = sum(x.amount for x in grid)
    reverse = {v: k for k, v in elec.items()}
    default: dict[str, float] = {}
    for x in grid:
        default[reverse[x.target]] = default.get(reverse[x.target], 0.0) + (x.amount / total if total else 0.0)
    if not total:
        default = {reverse[grid[0].target]: 1.0}
    sw = _model_process(site_switch_id(p.id), f"electricity, at the site of '{p.name}' (switch)", "electricity",
                        "kWh", p.location, switch=f"locations.{p.id}", alternatives=elec, default=default,
                        comment=f"Grid of the production site of {p.id}; default as in {p.file}.")
    first = grid[0]
    exs = [x for x in p.exchanges if x not in grid]
    exs.insert(p.exchanges.index(first), Exchange(
        "technosphere", sw.id, total, "kWh", first.source, comment="electricity at the production site",
        proxy=first.proxy))
    return Process(**{**p.__dict__, "exchanges": tuple(exs)}), sw


def _with_casing_alternatives(p: Process) -> Process:
    have = {x.target for x in p.exchanges if x.kind == "technosphere"}
    extra = []
    from .cell import formats
    for name, spec in formats(p).items():
        cid = spec.get("casing") if isinstance(spec, dict) else None
        if cid and cid not in have:
            extra.append(Exchange("technosphere", cid, 0.0, "kg", spec.get("source") or MODEL_SOURCE,
                                  comment=f"casing of the {name} format; amount set by the study's cell.format"))
            have.add(cid)
    return Process(**{**p.__dict__, "exchanges": p.exchanges + tuple(extra)}) if extra else p


def _with_plant_steps(p: Process, steps: list[str]) -> Process:
    """A cell with plant energy draws every cell-plant step process (``plant_step__<profile>__<step>``,
    model/plant.py) per kWh of cell; the stored amounts are 0 and the study sets the steps of its profile."""
    have = {x.target for x in p.exchanges if x.kind == "technosphere"}
    if not have & {PLANT_ELECTRICITY, PLANT_HEAT}:
        return p
    extra = tuple(Exchange("technosphere", sid, 0.0, "kWh", MODEL_SOURCE,
                           comment="kWh of cell capacity per kg cell through this plant step; set by the study's "
                                   "plant.energy_data (energy density for the steps of its profile, else 0)")
                  for sid in steps if sid not in have)
    return Process(**{**p.__dict__, "exchanges": p.exchanges + extra}) if extra else p


def generated_processes(inventory: Inventory, rewired: dict[str, Process] | None = None) -> list[Process]:
    """``rewired``: multi-output processes whose grid electricity goes through a site switch (their variants keep
    it, so that a recycling route can be moved: ``suppliers.<route id>.location``)."""
    procs = inventory.processes
    rewired = rewired or {}
    out: list[Process] = []
    elec = electricity_alternatives(inventory)
    if elec:
        out.append(_model_process(
            RESIDUAL_MIX, "electricity, residual mix given by the study", "electricity", "kWh", "GLO",
            exchanges=[Exchange("biosphere", CO2_FOSSIL[0], 0.0, "kg", MODEL_SOURCE, CO2_FOSSIL[1], aggregated=True,
                                comment="kg CO2e/kWh of the residual mix; set by plant.electricity.residual_mix")],
            comment="Residual mix for the share not covered by contractual instruments (ISO 14067 rule)."))
        elec = {**elec, "residual_mix": RESIDUAL_MIX}
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
            out += _allocation_variants(rewired.get(p.id, p))
    cells = chemistries(inventory)
    # the stored amounts are the default study (NMC811 at its inventory energy density), so that the
    # product system opened in Activity Browser is a real one; a study overrides them
    default = "NMC811" if "NMC811" in cells else (sorted(cells)[0] if cells else None)
    kg = {name: (1.0 / float(c.extra["energy_density_kwh_per_kg"]) if name == default else 0.0)
          for name, c in cells.items()}
    root_ex = [Exchange("technosphere", c.id, kg[name], "kg", MODEL_SOURCE,
                        comment="kg cell per kWh, from the study") for name, c in cells.items()]
    root_ex.append(Exchange("technosphere", DISTRIBUTION, kg.get(default, 0.0), "kg", MODEL_SOURCE))
    out.append(_model_process(ROOT, "battery cell capacity, product system of the study", "battery cell capacity",
                              "kWh", "GLO", exchanges=root_ex,
                              comment="1 kWh of cell capacity; amounts of the cells and distribution are "
                                      "set by the study."))
    return out


_CACHE: dict[tuple[int, str], dict[str, Process]] = {}
_CACHE_SIZE = 4


def all_processes(inventory: Inventory) -> dict[str, Process]:
    """Inventory processes (multi-output ones replaced by their allocation variants) plus
    generated ones: exactly what is written to Brightway. Cached per inventory object."""
    key = (id(inventory), inventory.content_hash)
    if key not in _CACHE:
        elec = electricity_alternatives(inventory)
        steps = sorted(pid for pid in inventory.processes if pid.startswith(PLANT_STEP_PREFIX))
        procs = {}
        rewired: dict[str, Process] = {}      # multi-output processes (recycling routes) with their site switch
        for pid, p in inventory.processes.items():
            p, sw = _rewired(p, elec)
            if sw is not None:
                procs[sw.id] = sw
            if p.coproducts:
                rewired[pid] = p
                continue
            if pid.startswith("cell_"):
                p = _with_plant_steps(_with_casing_alternatives(p), steps)
            procs[pid] = p
        for p in generated_processes(inventory, rewired):
            procs[p.id] = p
        from . import recycling
        for p in recycling.generated(inventory, procs, chemistries(inventory), rewired):
            procs[p.id] = p
        procs = recycling.rewire_consumers(procs)
        eol = [Exchange("technosphere", pid, 0.0, "kg", MODEL_SOURCE, comment="kg cell collected per kWh")
               for pid in procs if pid.startswith("eol_treatment__")]
        root = procs[ROOT]
        procs[ROOT] = Process(**{**root.__dict__, "exchanges": root.exchanges + tuple(eol)})
        while len(_CACHE) >= _CACHE_SIZE:      # a few inventory objects: the open engine's and a linked
            _CACHE.pop(next(iter(_CACHE)))       # background's alternate in a sweep (no thrashing)
        _CACHE[key] = procs
    return _CACHE[key]


_SWITCH_CACHE: dict[int, tuple[dict, frozenset]] = {}


def switch_parameters(inventory: Inventory) -> set[str]:
    procs = all_processes(inventory)
    hit = _SWITCH_CACHE.get(id(inventory))
    if hit is None or hit[0] is not procs:         # keyed on the cached process dict itself
        hit = (procs, frozenset(p.switch for p in procs.values() if p.is_switch))
        while len(_SWITCH_CACHE) >= _CACHE_SIZE:
            _SWITCH_CACHE.pop(next(iter(_SWITCH_CACHE)))
        _SWITCH_CACHE[id(inventory)] = hit
    return set(hit[1])
