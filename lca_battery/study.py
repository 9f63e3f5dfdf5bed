"""The study: what to compute. A YAML file, validated, with ``--set key.path=value`` overrides.

Errors name the file, the field (dotted path) and what is allowed; they never show a traceback.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import StudyError
from .supplier_pact import MAX_PCF_KG_CO2E_PER_KG

Share = Union[str, dict[str, float]]


def _numeric(ann) -> bool:
    """Does the annotation take numbers (``float``, ``float | None``, ``dict[str, float]``, ...)?"""
    import typing
    if ann in (float, int):
        return True
    return any(_numeric(a) for a in typing.get_args(ann))


def _strict_numbers(value, path: str = ""):
    """Booleans are not numbers, and numbers must be finite: raise naming the value."""
    import math
    if isinstance(value, bool):
        raise ValueError(f"{path}must be a number, not {str(value).lower()}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path}must be a finite number (got {value})")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(v, (dict, str)) and v is not None:
                _strict_numbers(v, f"{path}{k}: ")
    return value


class _Model(BaseModel):
    # allow_inf_nan=False: .inf / .nan are refused for every number; a number where text is wanted is that text
    # (a cell model 123, a battery model 2024: YAML reads them as numbers)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, coerce_numbers_to_str=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_or_infinite_numbers(cls, v, info):
        ann = cls.model_fields[info.field_name].annotation
        if _numeric(ann) and (isinstance(v, (bool, float, dict))):
            _strict_numbers(v)
        return v


#: Sanity ceilings for any single Li-ion cell, whatever the chemistry (the chemistry's own range is
#: checked by the design model): the largest stationary-storage cells are around 1,200 Ah and
#: 25 kg; no Li-ion cell stores 1,000 Wh/kg.
MAX_CAPACITY_AH = 2000.0
MIN_CAPACITY_AH = 0.001         # below a coin cell's capacity by an order of magnitude
#: Ceilings of other magnitudes a study gives, far above any real value but below the overflow of the numbers
#: derived from them: a transport leg at most the Earth's circumference; a plant's energy at most 1,000 kWh of
#: electricity and 3,600 MJ of heat per kWh (or kg) of cell (measured plants: 20-60 kWh per kWh, pilot lines a
#: few hundred); a material's footprint as a supplier's PACT file may give it (supplier_pact).
MAX_LEG_KM = 40_075.0
MAX_PLANT_KWH = 1000.0
MAX_PLANT_MJ = 3600.0
MAX_CELL_MASS_KG = 50.0
MAX_ENERGY_DENSITY_WH_PER_KG = 1000.0


class CellDesign(_Model):
    """Overrides of the cell design model's parameters (the inventory's ``design:`` gives the
    cited defaults). Checked against physical bounds by the design model."""
    cathode_areal_capacity_mah_per_cm2: float | None = Field(None, description="cathode capacity per coated side")
    cathode_loading_mg_per_cm2: float | None = Field(None, description="dried cathode coating per side, mg/cm2")
    cathode_thickness_um: float | None = Field(None, description="cathode coating thickness per side, um")
    cathode_porosity: float | None = Field(None, description="void volume fraction of the cathode coating")
    anode_porosity: float | None = Field(None, description="void volume fraction of the anode coating")
    np_ratio: float | None = Field(None, description="negative-to-positive capacity ratio")
    aluminium_foil_thickness_um: float | None = None
    copper_foil_thickness_um: float | None = None
    separator_thickness_um: float | None = None
    separator_porosity: float | None = None
    electrolyte_excess: float | None = Field(None, description="electrolyte volume / pore volume")
    cathode_utilisation: float | None = Field(None, description=(
        "rated capacity / the cathode's half-cell capacity (default: the teardown cell's measured value, NMC/NCA "
        "0.93, LFP 0.796; 1 is BatPaC's basis)"))


class Cell(_Model):
    chemistry: str = Field(description="Cell chemistry, e.g. NMC811 (see `lca-battery chemistries`)")
    model: str = Field("", description="Battery model name, for the declaration")
    format: Literal["pouch", "prismatic", "cylindrical"] = "pouch"
    capacity_ah: float = Field(ge=MIN_CAPACITY_AH, le=MAX_CAPACITY_AH, description="Rated capacity, Ah")
    nominal_voltage_v: float | None = Field(
        None, gt=0, description="Nominal voltage, V (default: the chemistry's design voltage; checked "
                                "against it, per chemistry)")
    mass_kg: float | None = Field(None, gt=0, le=MAX_CELL_MASS_KG, description=(
        "Cell mass, kg (checked per Ah against the chemistry's design)"))
    energy_density_wh_per_kg: float | None = Field(
        None, gt=0, le=MAX_ENERGY_DENSITY_WH_PER_KG,
        description="Gravimetric energy density, Wh/kg (used when mass_kg is not given; checked per chemistry)")
    bom: dict[str, float] = Field(default_factory=dict, description=(
        "company-specific bill of materials, kg per cell by component (the cell's input ids, e.g. "
        "cathode_nmc811, electrolyte); replaces the modelled default for those components"))
    bom_source: str = Field("", description="where the company-specific BOM comes from")
    design: CellDesign | None = Field(None, description="overrides of the cell design model's parameters")

    @field_validator("bom")
    @classmethod
    def _bom_positive(cls, v: dict) -> dict:
        for k, x in v.items():
            if not isinstance(x, (int, float)) or x < 0:
                raise ValueError(f"bom.{k}: a mass in kg per cell must be a number >= 0 (got {x!r})")
        return v

    @model_validator(mode="after")
    def _bom_needs_source(self):
        if self.bom and not self.bom_source.strip():     # as a supplier figure: no number without its source
            raise ValueError("a company BOM needs 'bom_source' (the document its masses come from)")
        return self

    @property
    def energy_kwh(self) -> float:  # nominal energy: rated capacity x nominal voltage
        return self.capacity_ah * self.nominal_voltage_v / 1000.0


class Electricity(_Model):  # noqa: D101 (documented below)
    """The cell plant's electricity. Shares are fractions of the plant's consumption.

    * ``onsite``: direct connection / on-site generation by technology (e.g. ``pv_rooftop: 0.3``);
      accepted by every rule.
    * ``contract``: supplier-specific contracts (PPA, certificates) by technology; accepted by
      ISO 14067 (with the ``residual_mix`` for the rest), not by the draft delegated act, which
      counts the contracted share at the national mix.
    * ``mix``: an explicit mix of alternatives (``grid_XX``, ``tech_YY``), used as given.
    """
    onsite: dict[str, float] = Field(default_factory=dict)
    contract: dict[str, float] = Field(default_factory=dict)
    instrument: Literal["ppa", "certificate"] = "ppa"
    residual_mix_kg_per_kwh: float | dict[str, float] | None = Field(None, description=(
        "residual mix factor, kg CO2e/kWh, or one per plant country (e.g. {HU: 0.35, SE: 0.04}): the one of "
        "plant.country applies, so a plant moved in a sweep takes its own country's residual mix"))
    residual_mix_source: str = ""
    mix: dict[str, float] | None = None
    rule: Literal["eu_delegated_act", "iso14067"] = Field(
        "eu_delegated_act", description="rule of the headline result; both are reported where they differ")

    @model_validator(mode="after")
    def _check(self):
        for name in ("onsite", "contract"):
            d = getattr(self, name)
            if any((not isinstance(v, (int, float))) or v < 0 or v > 1 for v in d.values()):
                raise ValueError(f"{name}: shares must be numbers in [0, 1]{percent_hint(d)}")
        if sum(self.onsite.values()) + sum(self.contract.values()) > 1 + 1e-9:
            raise ValueError("onsite + contract shares exceed 1")
        if self.mix is not None:
            _check_share(self.mix, "mix")
        res = self.residual_mix_kg_per_kwh
        for k, v in ((res or {}).items() if isinstance(res, dict) else [("", res)] if res is not None else []):
            if v < 0:
                raise ValueError(f"residual_mix_kg_per_kwh{'.' + k if k else ''}: must be >= 0 (got {v:g})")
        if res is not None and not self.residual_mix_source:
            raise ValueError("residual_mix_kg_per_kwh needs residual_mix_source (e.g. AIB European Residual Mixes 2024)")
        return self


class Supplier(_Model):
    """Supplier-specific data for one material (by its process id)."""
    pcf_kg_co2e_per_kg: float | None = Field(None, ge=0, le=MAX_PCF_KG_CO2E_PER_KG,
                                             description="supplier's product carbon footprint")
    source: str = Field("", description="document the figure comes from")
    year: int | None = None
    scope: str = Field("cradle-to-gate", description="system boundary of the figure: only cradle-to-gate fits "
                                                      "the model")
    dqr: float | None = Field(None, ge=1, le=5, description="the supplier data's PEF data quality rating "
                                                            "(1 excellent ... 5 poor), if assessed")
    verification: Literal["third-party verified", "self-declared", "unverified"] = "unverified"
    location: str | None = Field(None, description="production country (ISO alpha-2): its grid supplies the process")
    power: str | None = Field(None, description=(
        "the generation technology that supplies the process's site electricity in place of its grid: the "
        "supplier's own plant or a direct line (hydro, pv_utility, wind_onshore, coal, ...; IPCC AR5 life-cycle "
        "medians), which both electricity rules accept; a contract or certificate is not a power source here"))
    inventory: str | None = Field(None, description="supplier's process inventory file (inventories/ format), "
                                                    "relative to the study file")
    process: str | None = Field(None, description="the process id in that file that replaces the material")
    pact: str | None = Field(None, description=(
        "supplier's WBCSD PACT v2/v3 ProductFootprint JSON file, relative to the study file: its PCF excluding "
        "biogenic uptake per kg becomes pcf_kg_co2e_per_kg; source, year, DQR and verification are taken from "
        "it unless the study gives them (lca_battery/report/pact.py)"))

    @model_validator(mode="after")
    def _need_source(self):
        if self.pcf_kg_co2e_per_kg is not None and not self.source.strip():
            raise ValueError("a supplier figure needs a 'source'")
        if self.inventory and not self.process:
            raise ValueError("a supplier inventory needs 'process': the id of the process that replaces the material")
        if self.inventory and self.pcf_kg_co2e_per_kg is not None:
            raise ValueError("give either pcf_kg_co2e_per_kg or an inventory, not both")
        if self.pact and self.inventory:
            raise ValueError("give either a PACT file (pact) or an inventory, not both")
        if self.location and self.power:
            raise ValueError("give either location (the site's national grid) or power (a technology), not both")
        return self

    @field_validator("location")
    @classmethod
    def _upper(cls, v):
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("power")
    @classmethod
    def _lower(cls, v):
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("scope")
    @classmethod
    def _scope(cls, v):
        if v != "cradle-to-gate":
            raise ValueError(f"scope must be 'cradle-to-gate' (got {v!r}): the supplier figure replaces a "
                             f"cradle-to-gate material; a figure with another boundary cannot stand in for it")
        return v


class Plant(_Model):
    name: str = ""
    country: str = Field(description="ISO 3166 alpha-2 code of the cell plant, e.g. CN")
    electricity: Electricity = Field(
        default_factory=Electricity,
        description="'grid' (national consumption mix of plant.country) or an electricity mapping")

    @field_validator("electricity", mode="before")
    @classmethod
    def _grid(cls, v):
        if v == "grid" or v is None:
            return {}
        if isinstance(v, str):
            raise ValueError(f"'{v}' is not an electricity supply: write 'grid' or a mapping with onsite, "
                             f"contract, mix")
        return v
    heat: Share = Field("natural_gas", description="heat supply of the plant: natural_gas, coal, electric_boiler, district_steam, "
                                                   "heat_pump (needs heat_pump_cop), biomass (needs biomass_boiler_efficiency "
                                                   "and biomass_supply_kg_co2e_per_mj), or a mapping of shares")
    heat_pump_cop: float | None = Field(None, ge=1, description="seasonal COP of the plant's heat pump "
                                                                "(useful heat / electricity)")
    heat_pump_cop_source: str = Field("", description="where the heat pump COP comes from")
    biomass_boiler_efficiency: float | None = Field(
        None, description="useful heat per MJ of wood fuel (net calorific value) of the plant's biomass boiler, in (0, 1]")
    biomass_supply_kg_co2e_per_mj: float | None = Field(
        None, description="supply chain of the wood fuel (harvest, chipping, drying, transport), kg CO2e per MJ of "
                          "fuel (NCV), >= 0; combustion CH4/N2O (IPCC 2006) and biogenic CO2 are added by the engine")
    biomass_source: str = Field("", description="where the biomass boiler efficiency and fuel supply factor come from")
    energy_data: str = Field("default", description=(
        "plant energy by process step: 'default' (per chemistry), 'degen_schutte_2022_by_step' (the Li-ion "
        "default, nine steps), 'degen_schutte_2022_by_mass' (the nine steps per kg of cell relative to the source's "
        "reference cell, formation per kWh), 'degen_schutte_2022' (the same plant, two steps), or 'inventory' "
        "(the electrode and cell inventories)"))
    electricity_kwh_per_kwh_cell: float | None = Field(
        None, ge=0, le=MAX_PLANT_KWH, description="measured whole-plant electricity, kWh per kWh of cell (replaces energy_data)")
    heat_mj_per_kwh_cell: float | None = Field(
        None, ge=0, le=MAX_PLANT_MJ, description="measured whole-plant useful heat, MJ per kWh of cell (replaces energy_data)")
    electricity_kwh_per_kg_cell: float | None = Field(
        None, ge=0, le=MAX_PLANT_KWH, description="measured whole-plant electricity, kWh per kg cell (same as the per-kWh field "
                                "divided by the energy density)")
    heat_mj_per_kg_cell: float | None = Field(
        None, ge=0, le=MAX_PLANT_MJ, description="measured whole-plant useful heat, MJ per kg cell")
    cell_yield: float | None = Field(
        None, alias="yield",
        description="share of built cells that pass end-of-line inspection; the rejected cells' materials (and "
                    "energy, where the energy data are per cell built) are carried by the good cells. Default: "
                    "BatPaC 5.0's 95 % for cells of the design model, 1 for cells whose inventory is per cell made")
    yield_source: str = Field("", description="where plant.yield comes from (needed when it is given)")

    @field_validator("cell_yield")
    @classmethod
    def _yield_range(cls, v):
        if v is not None and not 0 < v <= 1:
            raise ValueError(f"must lie in (0, 1]: the share of built cells that pass end-of-line inspection "
                             f"(0.95 = 95 %), got {v:g}{percent_hint(v)}")
        return v

    @field_validator("biomass_boiler_efficiency")
    @classmethod
    def _eff_range(cls, v):
        if v is not None and not 0 < v <= 1:
            raise ValueError(f"must lie in (0, 1]: useful heat per MJ of wood fuel (net calorific value), got {v:g}{percent_hint(v)}")
        return v

    @field_validator("biomass_supply_kg_co2e_per_mj")
    @classmethod
    def _supply_range(cls, v):
        if v is not None and v < 0:
            raise ValueError(f"must be >= 0 (kg CO2e per MJ of wood fuel), got {v:g}")
        return v

    @model_validator(mode="after")
    def _cop_source(self):
        if self.heat_pump_cop is not None and not self.heat_pump_cop_source.strip():
            raise ValueError("heat_pump_cop needs heat_pump_cop_source (a datasheet or measurement)")
        if ((self.biomass_boiler_efficiency is not None or self.biomass_supply_kg_co2e_per_mj is not None)
                and not self.biomass_source.strip()):
            raise ValueError("biomass_boiler_efficiency and biomass_supply_kg_co2e_per_mj need biomass_source "
                             "(a boiler datasheet, fuel supplier declaration or cited study)")
        if self.cell_yield is not None and not self.yield_source.strip():
            raise ValueError("yield needs yield_source (the plant's quality records or a cited figure)")
        return self

    @field_validator("country")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.strip().upper()


class Distribution(_Model):
    truck_km: float = Field(0.0, ge=0, le=MAX_LEG_KM)
    rail_km: float = Field(0.0, ge=0, le=MAX_LEG_KM)
    sea_km: float = Field(0.0, ge=0, le=MAX_LEG_KM)


#: The study whose amounts the Brightway databases store (what Activity Browser shows); the same as
#: examples/nmc811-cn.yaml: an NMC811 cell made in China on the national grid, all defaults.
DEFAULT_STUDY = {"name": "default", "cell": {"chemistry": "NMC811", "capacity_ah": 60, "nominal_voltage_v": 3.65},
                 "plant": {"country": "CN"}}

METALS = ("Co", "Ni", "Li", "Mn")


class MetalContent(_Model):
    """Recycled content R1 of one metal (share of the metal's input), pre- and post-consumer."""
    total: float | None = Field(None, ge=0, le=1)
    pre_consumer: float = Field(0.0, ge=0, le=1, description="external manufacturing scrap (not run-around)")
    post_consumer: float = Field(0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _split(self):
        split = self.pre_consumer + self.post_consumer
        if split > 1 + 1e-12:
            raise ValueError(f"pre_consumer + post_consumer = {split:g} is above 1")
        if self.total is not None and split > self.total + 1e-12:
            raise ValueError(f"pre_consumer + post_consumer = {split:g} is above total = {self.total:g}")
        if self.total is not None and split and abs(split - self.total) > 1e-12:
            raise ValueError(f"pre_consumer + post_consumer = {split:g} differs from total = {self.total:g}: give "
                             f"total alone, or a split that adds up to it")
        return self

    @property
    def r1(self) -> float:
        return self.total if self.total is not None else self.pre_consumer + self.post_consumer

    @property
    def split_unstated(self) -> bool:
        """Only a total was given: the pre-/post-consumer split is not known."""
        return self.total is not None and not (self.pre_consumer or self.post_consumer)


class CFFParameters(_Model):
    """Circular footprint formula parameters; defaults of the EF method (A = 0.2 for metals, Q = 1).
    Every override needs a reason."""
    A: dict[str, float] = Field(default_factory=dict, description="allocation factor per metal, 0..1")
    qsin_qp: float = Field(1.0, gt=0, le=1)
    qsout_qp: float = Field(1.0, gt=0, le=1)
    reason: str = ""

    @model_validator(mode="after")
    def _check(self):
        for m, a in self.A.items():
            if m not in METALS:
                raise ValueError(f"A: unknown metal '{m}' (allowed: {', '.join(METALS)})")
            if not isinstance(a, (int, float)) or not 0 <= a <= 1:
                raise ValueError(f"A.{m} must be in [0, 1] (got {a!r}){percent_hint(a)}")
        if (self.A or self.qsin_qp != 1 or self.qsout_qp != 1) and not self.reason.strip():
            raise ValueError("an override of A or Q needs a 'reason'")
        return self

    def a(self, metal: str) -> float:
        return float(self.A.get(metal, 0.2))


class Recycling(_Model):
    accounting: Literal["cut_off", "avoided_burden", "cff"] = "cut_off"
    route: str = Field("hydro_nmc", description="route of recycled content and of the end of life")
    recycled_content: dict[str, MetalContent] = Field(default_factory=dict)
    chain_of_custody: Literal["identity_preserved", "segregated", "controlled_blending", "mass_balance",
                              "book_and_claim"] = "mass_balance"
    chain_of_custody_evidence: str = Field("", description=(
        "document that supports the recycled-content claim (ISO 22095 chain of custody), e.g. a certificate id"))
    scrap_rate: float = Field(0.0, description="share of cathode production scrapped and recycled, in [0, 1)")
    scrap_route: str = "hydro_nmc"
    eol_collection_rate: float = Field(0.0, ge=0, le=1, description="share of cells collected for recycling")
    cff: CFFParameters = CFFParameters()

    @field_validator("scrap_rate")
    @classmethod
    def _scrap_range(cls, v):
        if not 0 <= v < 1:
            raise ValueError(f"must lie in [0, 1): the share of cathode (electrode) production scrapped before cell "
                             f"assembly (0.05 = 5 %), got {v:g}{percent_hint(v)}")
        return v

    @field_validator("recycled_content")
    @classmethod
    def _metals(cls, v):
        for m in v:
            if m not in METALS:
                raise ValueError(f"unknown metal '{m}' (allowed: {', '.join(METALS)})")
        return v


class Declaration(_Model):
    """Fields of the carbon footprint declaration, Regulation (EU) 2023/1542 Art. 7(1), and the
    service life that turns kWh of capacity into the regulation's declared unit."""
    manufacturer: str = ""
    battery_model: str = ""
    plant_address: str = ""
    declaration_id: str = ""
    eu_declaration_of_conformity_number: str = Field("", description="identification number of the EU "
                                                                      "declaration of conformity (Art. 7(1)(f))")
    study_url: str = ""
    vehicle_category: Literal["M1", "N1", "L", "M2", "M3", "N2", "N3", "other"] | None = None
    cycles_per_year: float | None = Field(None, gt=0, description="full equivalent cycles per year")
    service_life_years: float | None = Field(None, gt=0)
    usable_capacity_share: float = Field(1.0, gt=0, le=1, description="usable / nominal energy")
    justification: str = Field("", description="why these cycles and years (required when given)")

    @model_validator(mode="after")
    def _cycles(self):
        if (self.cycles_per_year or self.service_life_years) and not self.justification.strip():
            raise ValueError("cycles_per_year and service_life_years need a 'justification'")
        return self


_URN = r"^[uU][rR][nN]:\S+$"


class Company(_Model):
    """The company that owns the footprint (WBCSD PACT v3 ProductFootprint companyName / companyIds)."""
    name: str = Field("", description="legal name of the data owner (default: declaration.manufacturer)")
    ids: list[str] = Field(default_factory=list, description=(
        "company identifiers as URNs, e.g. urn:lei:5299009N55YRQC69CN08 or urn:pact:company:example:acme"))

    @field_validator("ids")
    @classmethod
    def _urns(cls, v):
        return _check_urns(v)


class Product(_Model):
    """The product the footprint is for (PACT ProductFootprint productIds, productNameCompany, ...) and
    the reference period of the activity data (PACT CarbonFootprint referencePeriodStart / End)."""
    name: str = Field("", description="the company's product name (default: cell.model, else the study name)")
    description: str = Field("", description="free text (default: chemistry, capacity, voltage, format, country)")
    ids: list[str] = Field(default_factory=list, description="product identifiers as URNs, e.g. urn:gtin:..., "
                                                             "urn:pact:product:acme:cell-60ah")
    classifications: list[str] = Field(default_factory=list, description=(
        "classification identifiers as URNs, e.g. urn:pact:productclassification:cn:850760"))
    reference_period_start: date | None = Field(None, description="first day of the activity data (YYYY-MM-DD)")
    reference_period_end: date | None = Field(None, description="last day of the activity data (YYYY-MM-DD)")

    @field_validator("ids", "classifications")
    @classmethod
    def _urns(cls, v):
        return _check_urns(v)

    @model_validator(mode="after")
    def _period(self):
        s, e = self.reference_period_start, self.reference_period_end
        if (s is None) != (e is None):
            raise ValueError("give both reference_period_start and reference_period_end")
        if s is not None and e < s:
            raise ValueError(f"reference_period_end ({e}) is before reference_period_start ({s})")
        return self


def _check_urns(v: list[str]) -> list[str]:
    import re
    for x in v:
        if not isinstance(x, str) or not re.match(_URN, x):
            raise ValueError(f"{x!r} is not a URN (it must start with 'urn:', e.g. urn:pact:company:example:acme)")
    if len(set(v)) != len(v):
        raise ValueError("identifiers must be unique")
    return v


#: What each rule set fixes (study path -> value) and where it says so. The CFB-EV rules of the
#: draft delegated act (JRC, 2024 draft) prescribe the EF 3.1 climate-change method, the national
#: consumption mix or a direct line for the plant electricity (no contractual instruments) and the
#: circular footprint formula; ISO 14067:2018 takes IPCC GWP100 and (6.4.9.4) contractual instruments
#: that meet its criteria.
RULES = {
    "eu_cfb_2024_draft": {"label": "EU carbon footprint of EV batteries, draft delegated act rules (2024 draft)",
                          "pinned": {"method": "ef31", "plant.electricity.rule": "eu_delegated_act",
                                     "recycling.accounting": "cff"}},
    "iso14067": {"label": "ISO 14067:2018 partial carbon footprint (cradle-to-gate)",
                 "pinned": {"method": "ipcc2021", "plant.electricity.rule": "iso14067"}},
}

#: Full equivalent cycles per year by vehicle category (draft delegated act on the carbon footprint
#: of EV batteries, 2024 draft)
CYCLES_PER_YEAR = {"M1": 60, "N1": 60, "L": 20, "M2": 250, "M3": 250, "N2": 250, "N3": 250}


class LicensedBackground(_Model):
    """A database of the user's Brightway project (e.g. ecoinvent, or premise on ecoinvent) as background."""
    database: str = Field(description="database name in the user's Brightway project")
    project: str | None = Field(None, description="Brightway project holding it (default: the only one that does)")
    mapping: str | None = Field(None, description="randonneur mapping file (default inventories/mappings/ecoinvent.json)")


class Study(_Model):
    name: str = "study"
    description: str = ""
    cell: Cell
    plant: Plant
    allocation: dict[str, Share] = Field(default_factory=dict)
    supply: dict[str, Share] = Field(default_factory=dict)
    suppliers: dict[str, Supplier] = Field(default_factory=dict)
    recycling: Recycling = Recycling()
    declaration: Declaration = Declaration()
    company: Company = Field(default_factory=Company, description="data owner, for the PACT export")
    product: Product = Field(default_factory=Product, description="product ids and reference period, for the "
                                                                   "PACT export")
    stage_overrides: dict[str, Literal["raw_material_acquisition", "main_production", "distribution",
                                       "end_of_life"]] = Field(
        default_factory=dict, description="process-id pattern -> life-cycle stage, replacing the inventory's "
                                          "assignment (e.g. 'cam_*: main_production')")
    distribution: Distribution = Distribution()
    method: Literal["ipcc2021", "ef31"] = "ipcc2021"
    background: Literal["open"] | LicensedBackground = Field("open", description=(
        "'open' (the cited open inventories) or {database:, project:, mapping:} (see lca_battery.background)"))
    rules: Literal["eu_cfb_2024_draft", "iso14067"] | None = Field(None, description=(
        "rule set the study follows: pins the switches it fixes (RULES) and lists every non-conformity"))

    @field_validator("method", mode="before")
    @classmethod
    def _lower(cls, v):
        return v.lower() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _check_shares(self):
        for section in ("allocation", "supply"):
            for key, val in getattr(self, section).items():
                _check_share(val, f"{section}.{key}")
        _check_share(self.plant.heat, "plant.heat")
        return self


def _check_share(val, path):
    if isinstance(val, dict):
        if not val or any((not isinstance(v, (int, float))) or v < 0 or v > 1 for v in val.values()):
            raise ValueError(f"{path}: shares must be numbers in [0, 1]{percent_hint(val)}")
        if abs(sum(val.values()) - 1.0) > 1e-6:
            raise ValueError(f"{path}: shares must sum to 1 (they sum to {sum(val.values()):g})")


def _parse_value(text: str, key: str | None = None):
    """A ``--set`` value as YAML (``3.7``, ``SE``, ``{pv_rooftop: 0.3}``); plain text if it is not YAML,
    except a flow mapping / list (``{...}``, ``[...]``) with a syntax error, which is reported."""
    from .inventory.loader import YamlLimitError, read_yaml_text
    try:
        return read_yaml_text(text)
    except yaml.YAMLError as exc:
        if isinstance(exc, YamlLimitError) or text.strip().startswith(("{", "[")):
            mark = getattr(exc, "problem_mark", None)
            col = f" at column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise StudyError(f"YAML syntax error in the value {text!r}{col}: {problem}", field=key,
                             allowed="a number, a word, or a mapping such as {pv_rooftop: 0.3}") from None
        return text


_FIELDS_BY_KEY: dict[type, tuple[dict, dict[str, str]]] = {}


def _fields_by_key(model: type[BaseModel]) -> dict[str, str]:
    """Study-file key -> field name (a field with an alias, e.g. plant.yield, is written by its alias).

    Cached per model class while its ``model_fields`` is the same dict (a sweep applies overrides to
    hundreds of studies); callers only read the result."""
    fields = model.model_fields
    hit = _FIELDS_BY_KEY.get(model)
    if hit is None or hit[0] is not fields:
        hit = _FIELDS_BY_KEY[model] = (fields, {(f.alias or name): name for name, f in fields.items()})
    return hit[1]


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return sorted(_fields_by_key(model))


def apply_override(data: dict, key: str, value, file: str, switch_params: set[str] | None = None,
                   option: str = "") -> None:
    """Set ``data[key.path] = value`` after checking that the path is a field of the study.

    Model fields are checked here (an unknown key lists the allowed ones); keys inside free
    mappings (``cell.bom.<component>``, ``suppliers.<process id>``) are checked by the model.
    The path's steps depend only on the key (and the switch parameters): they are worked out once per
    key (:func:`_override_plan`; a sweep applies the same keys to hundreds of studies). ``option``: where
    the key came from, for the message on an unknown key (``--set``; empty for a sweep's grid or table,
    whose errors name their own column)."""
    hit = _PLANS.get(key)
    if hit is None or hit[0] != switch_params:
        ops = _override_plan(key, file, switch_params, option)
        if len(_PLANS) >= 1024:
            _PLANS.clear()
        hit = _PLANS[key] = (None if switch_params is None else frozenset(switch_params), ops)
    node = data
    for op, part in hit[1]:
        if op == "set":
            node[part] = value
        elif op == "into":
            node = node.setdefault(part, {})
        else:                                    # "section": a value there (e.g. electricity: grid) -> a mapping
            if not isinstance(node.get(part, {}), dict):
                node[part] = {}
            node = node.setdefault(part, {})


_PLANS: dict[str, tuple] = {}


def _override_plan(key: str, file: str, switch_params: set[str] | None, option: str = "") -> list[tuple[str, str]]:
    """The steps :func:`apply_override` takes for ``key`` (``into``: a mapping, created if absent;
    ``section``: the same, replacing a non-mapping value; ``set``: the value), or its error."""
    parts = key.split(".")
    model: type[BaseModel] | None = Study
    ops: list[tuple[str, str]] = []
    i = 0
    while i < len(parts):
        part, last = parts[i], i == len(parts) - 1
        path = ".".join(parts[: i + 1])
        if model is None:                       # inside a free mapping
            if last:
                ops.append(("set", part))
                return ops
            ops.append(("into", part))
            i += 1
            continue
        if part not in _fields_by_key(model):
            raise StudyError(f"unknown key '{key}'" + (f" in {option}" if option else ""), file=file, field=path,
                             allowed=", ".join(".".join(parts[:i] + [k]) for k in _allowed_keys(model)))
        ann = model.model_fields[_fields_by_key(model)[part]].annotation
        if last:
            ops.append(("set", part))
            return ops
        if model is Study and part in ("allocation", "supply"):
            rest = ".".join(parts[i + 1:])
            known = sorted(p.split(".", 1)[1] for p in (switch_params or set()) if p.startswith(part + "."))
            if switch_params is not None and rest not in known:
                raise StudyError(f"unknown key '{key}'" + (f" in {option}" if option else ""), file=file, field=key,
                                 allowed=", ".join(f"{part}.{k}" for k in known))
            ops += [("into", part), ("set", rest)]
            return ops
        if _is_mapping(ann):
            ops.append(("into", part))
            i += 1                               # parts[i] is a key of the mapping
            if i == len(parts) - 1:
                ops.append(("set", parts[i]))
                return ops
            ops.append(("into", parts[i]))
            model = _submodel(typing_args_value(ann))
            i += 1
            continue
        sub = _submodel(ann)
        if sub is None:
            raise StudyError(f"'{path}' is a value, not a section", file=file, field=key)
        ops.append(("section", part))
        model = sub
        i += 1
    return ops


def read_study_file(path: str | Path) -> dict:
    """The parsed mapping of a study file (not validated, no overrides applied); errors as :func:`load_study`'s.

    A sweep parses its study once and passes the result to :func:`load_study` as ``parsed``."""
    file = str(path)
    p = Path(path)
    if p.is_dir():
        raise StudyError("is a folder, not a study file (give a YAML file, e.g. examples/nmc811-cn.yaml)", file=file)
    if not p.is_file():
        raise StudyError("study file not found", file=file)
    try:
        from .inventory.loader import read_yaml_file
        data = read_yaml_file(p)
    except UnicodeDecodeError:
        raise StudyError("not UTF-8 text (save the study file as UTF-8)", file=file) from None
    except OSError as exc:
        raise StudyError(f"cannot read the study file: {exc.strerror}", file=file) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        from .inventory.loader import YamlLimitError
        if isinstance(exc, YamlLimitError):
            raise StudyError(f"YAML file refused{f' (line {mark.line + 1})' if mark else ''}: {exc.problem}",
                             file=file) from None
        raise StudyError(f"not valid YAML{f' (line {mark.line + 1})' if mark else ''}: "
                         f"{getattr(exc, 'problem', exc)}", file=file) from None
    if not isinstance(data, dict):
        raise StudyError("a study file must be a mapping (cell:, plant:, ...)", file=file)
    return data


def load_study(path: str | Path | dict, overrides: list[str] | dict | None = None,
               switch_params: set[str] | None = None, parsed: dict | None = None,
               sections: dict | None = None) -> Study:
    """Read, override and validate a study. ``overrides``: ``["plant.country=SE", ...]`` or a dict.

    ``parsed``: the file's mapping as :func:`read_study_file` returned it (not modified here; the
    file is then not read again, its path still names it in errors and resolves relative paths).
    ``sections``: validated sections kept between the studies of a sweep (:func:`_reuse_sections`)."""
    if isinstance(path, dict):
        data, file = dict(path), "<study>"
    elif parsed is not None:
        data, file = parsed, str(path)
    else:
        file = str(path)
        data = read_study_file(path)
    data = _deep_copy(data)
    if isinstance(overrides, str):       # one KEY=VALUE (iterating it would split it into characters)
        overrides = [overrides]
    items = overrides.items() if isinstance(overrides, dict) else [
        _split_override(o, file) for o in (overrides or [])]
    option = "" if isinstance(overrides, dict) else "--set"     # a dict: the API or a sweep's grid/table row
    for key, value in items:
        apply_override(data, key, value, file, switch_params, option)
    _resolve_supplier_files(data, Path(file).parent if file != "<study>" else Path.cwd())
    sups = data.get("suppliers")
    if isinstance(sups, dict) and any(isinstance(e, dict) and e.get("pact") is not None for e in sups.values()):
        from .supplier_pact import apply_supplier_pact
        apply_supplier_pact(data, file)
    bg = data.get("background")
    if isinstance(bg, dict) and isinstance(bg.get("mapping"), str) and not Path(bg["mapping"]).is_absolute():
        bg["mapping"] = str((Path(file).parent if file != "<study>" else Path.cwd()) / bg["mapping"])
    _pin_rules(data, file)
    raw = _reuse_sections(data, sections) if sections is not None else None
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        errors = sorted(_merge_unions(exc.errors()),
                        key=lambda e: (e["type"] != "extra_forbidden", e["type"] == "missing"))
        parts = [_describe(e) for e in errors[:4]]
        more = f" (+{len(errors) - 4} more)" if len(errors) > 4 else ""
        field, msg, allowed = parts[0]
        if len(parts) > 1:
            msg += "; also " + "; ".join(f"'{f}': {m}" for f, m, _ in parts[1:]) + more
        raise StudyError(msg, file=file, field=field or None, allowed=allowed) from None
    if switch_params is not None:
        for section in ("allocation", "supply"):
            for key in getattr(study, section):
                if f"{section}.{key}" not in switch_params:
                    known = sorted(p for p in switch_params if p.startswith(section + "."))
                    raise StudyError("unknown choice", file=file, field=f"{section}.{key}",
                                     allowed=", ".join(known) or "none")
    if raw:
        for name, key in raw:
            sections[name][key] = getattr(study, name)
    return study


#: Sections of a study validated on their own (model-typed fields of :class:`Study` that no validator of
#: ``Study`` reads as raw data: only ``_no_bool_or_infinite_numbers``, which passes a model through).
REUSABLE_SECTIONS = ("cell", "plant", "recycling", "distribution", "declaration", "company", "product")
#: Validated sections kept per section name, past which that section's are dropped.
MAX_SECTIONS = 4096


def _reuse_sections(data: dict, sections: dict) -> list[tuple[str, tuple]]:
    """Put in ``data`` the validated section (pydantic keeps a model instance as it is) of every section
    whose raw mapping equals one already validated in a study of this sweep (keyed by its whole content,
    :func:`lca_battery.model.entries.frozen`); the other sections stay raw and are validated as always, so
    a bad value gives the same error. Returns (section, key) of the raw sections to keep once the study
    validates (a section of a study that fails is never kept)."""
    from .model.entries import frozen
    todo = []
    for name in REUSABLE_SECTIONS:
        value = data.get(name)
        if not isinstance(value, dict):
            continue
        try:
            key = frozen(value)
            kept = sections.setdefault(name, {})
            hit = kept.get(key)
        except TypeError:                  # an unhashable value (not from YAML): validated as always
            continue
        if hit is not None:
            data[name] = hit
        else:
            if len(kept) >= MAX_SECTIONS:
                kept.clear()
            todo.append((name, key))
    return todo


def _pin_rules(data: dict, file: str) -> None:
    """A rule set (``rules:``) fixes some switches: set them, refuse a study that sets them otherwise."""
    rules = data.get("rules")
    if rules not in RULES:
        return                  # an unknown value is reported by the model
    for path, value in RULES[rules]["pinned"].items():
        node = data
        parts = path.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                if node.get(part) not in (None, "grid"):
                    break       # not a mapping: the model reports it
                node[part] = {}
            node = node[part]
        else:
            have = node.get(parts[-1], value)
            if not isinstance(have, str) or have.lower() != value:
                raise StudyError(f"rules '{rules}' fix this to '{value}' (the study sets {have!r}): remove it "
                                 f"or set it to '{value}'", file=file, field=path)
            node[parts[-1]] = value


_UNION_MEMBER = re.compile(r"^(str|int|float|bool|none|dict|list|tuple|set)(\[.*\])?$")
_KIND_WORDS = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true or false",
               "dict": "a mapping", "list": "a list", "tuple": "a list", "set": "a list", "none": "empty"}


def _merge_unions(errors: list[dict]) -> list[dict]:
    """Pydantic reports a value that fits no member of a union (``str | dict[str, float]``) once per member, at
    locations ending in the member's type (``supply.graphite.str``): one error per field instead, saying what
    the field takes (``Input should be text or a mapping``)."""
    out, at = [], {}
    for e in errors:
        loc = tuple(e["loc"])
        members = [str(x) for x in loc if _UNION_MEMBER.match(str(x))]
        if not members:
            out.append(e)
            continue
        key = tuple(x for x in loc if not _UNION_MEMBER.match(str(x)))
        kind = _KIND_WORDS.get(_UNION_MEMBER.match(members[-1]).group(1), members[-1])
        if key in at:
            if kind not in at[key]["kinds"]:
                at[key]["kinds"].append(kind)
            continue
        at[key] = {**e, "loc": key, "kinds": [kind]}
        out.append(at[key])
    for e in out:
        if len(e.get("kinds", ())) > 1:
            e["msg"], e["type"] = f"Input should be {' or '.join(e['kinds'])}", "union"
    return out


def _describe(err) -> tuple[str, str, str | None]:
    """(field, message, allowed) of one pydantic error, in the words of a study file."""
    loc = [str(x) for x in err["loc"] if not str(x).startswith(("function-", "literal["))]
    field = ".".join(loc)
    msg = err["msg"].replace("Value error, ", "")
    allowed = None
    if err["type"] == "extra_forbidden":
        model = _model_at(err["loc"][:-1])
        msg = f"unknown field '{err['loc'][-1]}'"
        allowed = ", ".join(_allowed_keys(model)) if model else None
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif "input" in err and err["type"] not in ("value_error",):
        msg = f"{msg} (got {err['input']!r})"
        if err["type"] in ("less_than_equal", "less_than", "greater_than_equal", "greater_than") \
                and _is_share(err["loc"]):
            msg += f": {share_hint(err['input'])}"
        elif isinstance(err["input"], str):
            msg += number_hint(err["input"], field)
    return field, msg, allowed


def number_hint(text: str, field: str) -> str:
    """For a number written with a unit or a percent sign ('16%', '60 Ah', '500 mi'): what to write instead (a
    study's numbers are bare; the unit is the field's, in its name or its description)."""
    import re
    # a unit starts with a letter (or is a percent sign): '2024-02-30' (a date) is no number with a unit
    m = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(%|[^\W\d_].*?)\s*", text)
    if not m:
        return ""
    number, unit = m.group(1), m.group(2)
    if unit == "%":
        return f": write a share without the percent sign ({float(number) / 100:g} for {number} %)"
    units = {"kg": "kg", "km": "km", "ah": "Ah", "kwh": "kWh", "v": "V", "mj": "MJ", "um": "um", "wh": "Wh",
             "g": "g", "m": "m", "mm": "mm", "t": "t", "years": "years"}
    own = units.get(field.rsplit(".", 1)[-1].rsplit("_", 1)[-1].lower())
    if own is None:
        return (f": write the number alone, without '{unit}' (a study's numbers are bare: the field's unit is in its "
                "description)")
    if unit.lower() == own.lower():
        return f": write {number} (the field is in {own}: no unit after the number)"
    return f": write the number in {own}, the field's unit, without a unit ('{unit}' is not converted)"


def share_hint(value) -> str:
    """The words for a share field (bounds 0 and 1) given a value outside them: a value between 1 and 100
    is most likely a percentage, so say which share to write instead."""
    return "this field is a share from 0 to 1 (0.05 = 5 %)" + percent_hint(value)


def percent_hint(value) -> str:
    """``"; 20 looks like a percentage: write 0.2"`` for a number in (1, 100] where a share is expected, else ''.
    A mapping of shares: the first such value, with its key."""
    if isinstance(value, dict):
        for key, v in value.items():
            if percent_hint(v):
                return f"; {key}: {v:g} looks like a percentage: write {v / 100:g}"
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 < value <= 100:
        return f"; {value:g} looks like a percentage: write {value / 100:g}"
    return ""


def _is_share(loc) -> bool:
    """Whether the field at ``loc`` is constrained to [0, 1] (or (0, 1]): a share, not a percentage."""
    model = _model_at(loc[:-1]) if loc else None
    field = model.model_fields.get(str(loc[-1])) if model is not None else None
    if field is None:
        return False
    low = high = None
    for m in field.metadata:
        low = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else (
            getattr(m, "gt", None) if getattr(m, "gt", None) is not None else low)
        high = getattr(m, "le", None) if getattr(m, "le", None) is not None else (
            getattr(m, "lt", None) if getattr(m, "lt", None) is not None else high)
    return low == 0 and high == 1


def _submodel(ann):
    """The pydantic model inside an annotation (``Electricity`` in ``Literal['grid'] | Electricity``)."""
    import typing
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _is_mapping(ann) -> bool:
    import typing
    return typing.get_origin(ann) is dict


def _model_at(loc) -> type[BaseModel] | None:
    model = Study
    for part in loc:
        if model is None:
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            # mapping values (suppliers.<id>) and union members (electricity.Electricity)
            continue
        model = _submodel(field.annotation) or (
            _submodel(typing_args_value(field.annotation)) if _is_mapping(field.annotation) else None)
    return model


def typing_args_value(ann):
    import typing
    args = typing.get_args(ann)
    return args[1] if len(args) == 2 else None


def _resolve_supplier_files(data: dict, base: Path) -> None:
    """Supplier inventory paths are relative to the study file: make them absolute once, here."""
    suppliers = data.get("suppliers")
    if not isinstance(suppliers, dict):
        return
    for entry in suppliers.values():
        for key in ("inventory", "pact"):
            if isinstance(entry, dict) and isinstance(entry.get(key), str):
                entry[key] = str((base / entry[key]).resolve())


def as_overrides(overrides, file: str) -> dict:
    """``--set`` strings (``["a.b=1", ...]``, or one such string) or a mapping -> a mapping of dotted paths to
    values."""
    if isinstance(overrides, str):       # one KEY=VALUE (iterating it would split it into characters)
        overrides = [overrides]
    if overrides and not isinstance(overrides, dict):
        return dict(_split_override(o, file) for o in overrides)
    return dict(overrides or {})


def _split_override(text: str, file: str):
    if "=" not in text:
        raise StudyError(f"--set expects KEY=VALUE (got {text!r})", file=file)
    key, value = text.split("=", 1)
    try:
        return key.strip(), _parse_value(value, key.strip())
    except StudyError as exc:
        raise StudyError(f"--set {exc.message}", file=file, field=exc.field, allowed=exc.allowed) from None


def _deep_copy(obj):
    if isinstance(obj, dict):
        return {k: _deep_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_deep_copy(v) for v in obj]
    return obj
