"""Validated inventory records: what the YAML files in ``inventories/`` become after loading.

Plain frozen dataclasses: they are built once per run by :mod:`.loader`, never mutated, and
carry their provenance (file, source key) so that every number can be traced back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

#: The four life-cycle stages of the EU Battery Regulation, Annex II (use stage excluded).
STAGES = ("raw_material_acquisition", "main_production", "distribution", "end_of_life")

#: PEF data-quality criteria: technological, geographical, time representativeness, precision.
DQR_KEYS = ("TeR", "GeR", "TiR", "P")


@dataclass(frozen=True)
class Source:
    key: str
    author: str
    year: int
    title: str
    table: str
    licence: str
    url: str | None = None


@dataclass(frozen=True)
class Exchange:
    """One input (technosphere, by process id) or one elementary flow (biosphere).

    ``amount`` is already converted to the unit of the process it refers to (technosphere),
    or to the flow's unit (biosphere, kg for emissions)."""

    kind: str                      # "technosphere" | "biosphere"
    target: str                    # process id, or biosphere flow name
    amount: float
    unit: str                      # the unit as written in the file
    source: str
    compartment: tuple[str, ...] = ()
    aggregated: bool = False       # an aggregated cradle-to-gate CO2e carried as fossil CO2
    substitution: bool = False     # negative input standing for an avoided product
    proxy: str | None = None
    comment: str | None = None
    feed_carbon: bool = False      # a recycling route's CO2 from its spent-battery feed's own carbon (graphite,
                                   # electrolyte, separator): it follows the feed, not the route's reagents


#: A co-product that substitutes a material states how it compares with it (``grade``): a credit for a product
#: of any grade but the first, at Qsout/Qp = 1, is reported as an upper bound.
COPRODUCT_GRADES = {
    "substitute_grade": "the source's product is the material it substitutes (e.g. a crystallised salt)",
    "crude": "needs refining the route does not inventory",
    "scrap": "a metal fraction that needs remelting or refining the route does not inventory",
    "not_stated": "the source does not give its grade",
}


@dataclass(frozen=True)
class Coproduct:
    id: str
    amount: float
    unit: str
    price: float | None = None
    price_source: str | None = None
    substitutes: str | None = None
    composition: dict[str, float] = field(default_factory=dict)
    name: str | None = None
    grade: str | None = None       # how the product compares with what it substitutes (COPRODUCT_GRADES)


@dataclass(frozen=True, eq=False)
class Process:
    id: str
    name: str
    reference_product: str
    unit: str
    location: str
    stage: str | None
    reference_year: int
    source: str | None
    dqr: dict[str, float]
    file: str
    exchanges: tuple[Exchange, ...] = ()
    proxy: str | None = None
    comment: str | None = None
    composition: dict[str, float] = field(default_factory=dict)
    excluded: tuple[dict, ...] = ()
    # switches (superstructure): the study parameter and the alternatives it chooses among
    switch: str | None = None
    alternatives: dict[str, str] = field(default_factory=dict)
    default: dict[str, float] = field(default_factory=dict)
    coproducts: tuple[Coproduct, ...] = ()
    extra: dict = field(default_factory=dict)   # documented optional fields (energy density ...)

    @property
    def dqr_value(self) -> float:
        """PEF data quality rating, (TeR + GeR + TiR + P) / 4."""
        return sum(self.dqr[k] for k in DQR_KEYS) / 4.0

    @property
    def is_switch(self) -> bool:
        return self.switch is not None


@dataclass(frozen=True, eq=False)
class Inventory:
    processes: dict[str, Process]
    sources: dict[str, Source]
    content_hash: str
    root: str
    extra_files: tuple[str, ...] = ()

    def __getitem__(self, pid: str) -> Process:
        return self.processes[pid]

    def __contains__(self, pid: str) -> bool:
        return pid in self.processes

    def switches(self) -> dict[str, Process]:
        return {p.id: p for p in self.processes.values() if p.is_switch}
