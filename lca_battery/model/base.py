"""What every model builder shares: the ids of the processes the engine generates, the :class:`Entry` a study
sets, how an entry names a biosphere flow, and how a generated process is made. :mod:`.superstructure` (which
re-exports them) and :mod:`.recycling` import them from here, so the recycling builder does not need the
superstructure that assembles it."""
from __future__ import annotations

from dataclasses import dataclass

from ..inventory.records import Process

ROOT = "product_system"
PLANT_ELECTRICITY = "electricity_cell_plant"
PLANT_HEAT = "heat_cell_plant"
PLANT_STEP_PREFIX = "plant_step__"      # cell-plant step processes (model/plant.py)
RESIDUAL_MIX = "electricity_residual_mix"
SITE_PREFIX = "electricity_site__"
#: a process's site electricity: inputs from a national grid or from a generation technology (a captive plant)
SITE_POWER_PREFIXES = ("electricity_grid_", "electricity_tech_")
CO2_FOSSIL = ("Carbon dioxide, fossil", ("air",))
DISTRIBUTION = "distribution_cell"
MODEL_SOURCE = "lcab_model"
MODEL_FILE = "model"
TRANSPORT = {"truck_km": "transport_truck", "rail_km": "transport_rail", "sea_km": "transport_sea"}
HEAT_ALTERNATIVES = {"natural_gas": "heat_natural_gas_industrial", "coal": "heat_coal_industrial",
                     "electric_boiler": "heat_electric_boiler_plant", "heat_pump": "heat_heat_pump_plant",
                     "district_steam": "heat_district_steam", "biomass": "heat_biomass_plant"}


@dataclass(frozen=True)
class Entry:
    """One matrix amount set by a study: ``input`` per unit of ``output``.

    ``matrix`` is ``technosphere`` (input: a process id; consumed, so flipped) or ``biosphere``
    (input: a biosphere3 flow code)."""
    input: str
    output: str
    amount: float
    parameter: str
    matrix: str = "technosphere"


def per_dict(cache: dict, procs: dict, make, key=None, size: int = 16):
    """``make()`` cached per processes dict (:func:`all_processes` caches its dict per inventory; a sweep builds
    hundreds of studies on it), the ``size`` used last kept: the dict is held, so a cached value never outlives
    it (an id may be reused by a later dict)."""
    k = (id(procs), key)
    hit = cache.pop(k, None)
    if hit is None or hit[0] is not procs:
        if len(cache) >= size:
            del cache[next(iter(cache))]          # the one used longest ago
        hit = (procs, make())
    cache[k] = hit                                # last used: the end of the dict's order
    return hit[1]


def bio_key(flow: tuple[str, tuple[str, ...]]) -> str:
    """How an entry names a biosphere flow: ``name::category::sub-category``."""
    return f"{flow[0]}::{'::'.join(flow[1])}"


def _model_process(pid, name, product, unit, location, stage=None, exchanges=(), **kw) -> Process:
    """A process the engine generates; ``dqr``/``reference_year``/``source`` default to the model's."""
    kw.setdefault("dqr", {"TeR": 1, "GeR": 1, "TiR": 1, "P": 1})
    kw.setdefault("reference_year", 2026)
    kw.setdefault("source", MODEL_SOURCE)
    return Process(id=pid, name=name, reference_product=product, unit=unit, location=location,
                   stage=stage, file=MODEL_FILE, exchanges=tuple(exchanges), **kw)
