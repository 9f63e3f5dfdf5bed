"""WBCSD PACT product footprints: export a study's result as a PACT v3 ProductFootprint (reading a
supplier's PACT file, study input, is :mod:`lca_battery.supplier_pact`).

The pydantic models below are written from the public PACT Technical Specifications v3 (WBCSD,
"Technical Specifications for PCF Data Exchange", version 3.0, data model: ProductFootprint,
CarbonFootprint, DataQualityIndicators, Verification, ProductOrSectorSpecificRule,
EmissionFactorSource; repository github.com/wbcsd/data-exchange-protocol, spec/v3/openapi.yaml and
spec/v3/data-model.md). The specification's licence does not allow redistributing it, so its JSON
schema is not vendored: these models carry the same required properties, types, enumerations and
decimal-string patterns, and the tests validate every export against them.

Conventions of this engine (not fixed by the specification):

* Declared unit: 1 kWh of cell energy capacity (``declaredUnitOfMeasurement: kilowatt hour``), the
  engine's declared unit; ``declaredUnitAmount`` is the cell's nominal energy (kWh per cell, the
  product being one cell) and ``productMassPerDeclaredUnit`` the cell mass per kWh.
* Data quality: PACT rates each criterion from 1 (good) to 3 (poor) (data model, DataQualityIndicators);
  the engine's datasets carry PEF ratings from 1 (excellent) to 5 (poor). A PEF rating ``r`` is
  exported as ``1 + (r - 1) / 2`` and a PACT rating ``q`` read (:mod:`lca_battery.supplier_pact`) as ``1 + 2 (q - 1)``: a linear map of
  the two scales' ends onto each other. The ratings are weighted by the absolute contribution of the
  processes above 5 % of the footprint, as the data model asks (TeR -> technologicalDQR, GeR ->
  geographicalDQR, TiR -> temporalDQR).
* Primary-data share: the share of the absolute process contributions from company-specific datasets
  (the study report's definition), in percent.
* Biogenic carbon: the inventories hold no biogenic CO2 uptake, so PCF including and excluding biogenic
  uptake are equal; the method's "biogenic" part (non-CO2 biogenic gases) is ``biogenicNonCO2Emissions``.
"""
from __future__ import annotations

import json
import math
import uuid
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..errors import StudyError

SPEC_VERSION = "3.0.0"

# Decimal strings of the specification (spec/v3/openapi.yaml, components/schemas)
DecimalStr = Annotated[str, StringConstraints(pattern=r"^[+-]?\d+(\.\d+)?$")]
PositiveOrZero = Annotated[str, StringConstraints(pattern=r"^[+]?\d+(\.\d+)?$")]
PositiveNonZero = Annotated[str, StringConstraints(pattern=r"^[+]?((\d*[1-9]\d*)(\.\d+)?|0+\.\d*[1-9]\d*)$")]
NegativeOrZero = Annotated[str, StringConstraints(pattern=r"^(-\d+(\.\d+)?|0+(\.0+)?)$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Urn = Annotated[str, StringConstraints(pattern=r"^[uU][rR][nN]:")]
# date-time (RFC 3339) as the exports write it
DateTime = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")]
DQR = Annotated[str, StringConstraints(pattern=r"^([12](\.\d+)?|3(\.0+)?)$")]   # decimal in [1, 3]

DECLARED_UNITS = ("liter", "kilogram", "cubic meter", "kilowatt hour", "megajoule", "ton kilometer",
                  "square meter", "piece", "hour", "megabit second")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataQualityIndicators(_Strict):
    technologicalDQR: DQR
    geographicalDQR: DQR
    temporalDQR: DQR


class Verification(_Strict):
    coverage: Literal["PCF calculation model", "PCF program", "product level"] | None = None
    providerName: str | None = None
    completedAt: DateTime | None = None
    standardName: str | None = None
    comments: str | None = None


class ProductOrSectorSpecificRule(_Strict):
    operator: Literal["PEF", "EPD International", "Other"]
    ruleNames: list[NonEmpty] = Field(min_length=1)
    otherOperatorName: NonEmpty | None = None


class EmissionFactorSource(_Strict):
    name: NonEmpty
    version: NonEmpty


class CarbonFootprint(_Strict):
    declaredUnitOfMeasurement: Literal[DECLARED_UNITS]                     # type: ignore[valid-type]
    declaredUnitAmount: PositiveNonZero
    productMassPerDeclaredUnit: DecimalStr
    referencePeriodStart: DateTime
    referencePeriodEnd: DateTime
    geographyCountry: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    boundaryProcessesDescription: str | None = None
    pcfExcludingBiogenicUptake: DecimalStr
    pcfIncludingBiogenicUptake: DecimalStr
    fossilCarbonContent: PositiveOrZero
    biogenicCarbonContent: PositiveOrZero | None = None
    fossilGhgEmissions: PositiveOrZero
    landUseChangeGhgEmissions: PositiveOrZero | None = None
    biogenicCO2Uptake: NegativeOrZero | None = None
    biogenicNonCO2Emissions: PositiveOrZero | None = None
    aircraftGhgEmissions: PositiveOrZero | None = None
    packagingEmissionsIncluded: bool | None = None
    ccsTechnologicalCO2CaptureIncluded: bool | None = None
    ipccCharacterizationFactors: list[Annotated[str, StringConstraints(pattern=r"^AR\d+$")]] = Field(min_length=1)
    crossSectoralStandards: list[NonEmpty] = Field(min_length=1)
    productOrSectorSpecificRules: list[ProductOrSectorSpecificRule] | None = Field(None, min_length=1)
    exemptedEmissionsPercent: DecimalStr
    exemptedEmissionsDescription: str | None = None
    allocationRulesDescription: str | None = None
    secondaryEmissionFactorSources: list[EmissionFactorSource] | None = Field(None, min_length=1)
    primaryDataShare: DecimalStr | None = None
    dqi: DataQualityIndicators | None = None
    verification: Verification | None = None


class ProductFootprint(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    specVersion: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+(-\d{8})?$")]
    precedingPfIds: list[str] | None = Field(None, min_length=1)
    created: DateTime
    status: Literal["Active", "Deprecated"]
    validityPeriodStart: DateTime | None = None
    validityPeriodEnd: DateTime | None = None
    companyName: NonEmpty
    companyIds: list[Urn] = Field(min_length=1)
    productDescription: str
    productIds: list[Urn] = Field(min_length=1)
    productClassifications: list[Urn] | None = Field(None, min_length=1)
    productNameCompany: NonEmpty
    comment: str | None = None
    pcf: CarbonFootprint


# --------------------------------------------------------------------------------------------------
# export


def _dec(x: float, digits: int = 6) -> str:
    """A float as a PACT decimal string (no exponent), ``digits`` significant digits."""
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {x}")
    if x == 0:
        return "0"
    d = Decimal(f"{x:.{digits}g}")
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pef_to_pact_dqr(r: float) -> float:
    """PEF data quality rating (1 excellent ... 5 poor) -> PACT rating (1 good ... 3 poor), linear."""
    return 1.0 + (min(max(r, 1.0), 5.0) - 1.0) / 2.0


def _iso(d: date, end: bool = False) -> str:
    t = time(23, 59, 59) if end else time(0, 0, 0)
    return datetime.combine(d, t, tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dqi(result: dict, engine, supplier_dqi: dict[str, dict] | None = None) -> dict:
    """Contribution-weighted TeR, GeR, TiR over the processes above 5 % of the footprint (PACT data
    model, DataQualityIndicators), on the PACT scale. A supplier PCF read from a PACT file counts with
    its own indicators; one given as a number counts with its overall DQR on every criterion."""
    supplier_dqi = supplier_dqi or {}
    rows = result["processes"]
    total = sum(abs(r["kg_co2e"]) for r in rows) or 1.0
    relevant = [r for r in rows if abs(r["kg_co2e"]) / total > 0.05] or rows
    out = {}
    for key, name in (("TeR", "technologicalDQR"), ("GeR", "geographicalDQR"), ("TiR", "temporalDQR")):
        num = den = 0.0
        for r in relevant:
            if r["id"] in supplier_dqi:
                q = supplier_dqi[r["id"]].get(name)
                if q is None:
                    continue
            elif r.get("data", "").startswith("supplier"):
                if r.get("dqr") is None:
                    continue                          # supplier figure without a DQR: left out
                q = pef_to_pact_dqr(float(r["dqr"]))
            else:
                q = pef_to_pact_dqr(float(engine.processes[r["id"]].dqr[key]))
            w = abs(r["kg_co2e"])
            num += w * q
            den += w
        out[name] = num / den if den else None
    return out


def product_footprint(study, result: dict, report: dict, engine, *, created: datetime | None = None,
                      file: str = "<study>") -> dict:
    """The PACT v3 ProductFootprint of a footprint ``result`` (``report``: the cut-off log and the
    primary-data share of :func:`lca_battery.api.pact`). Raises StudyError naming a missing field."""
    company_name = study.company.name or study.declaration.manufacturer
    missing = []
    if not company_name.strip():
        missing.append(("company.name", "the data owner's name (or declaration.manufacturer)"))
    if not study.company.ids:
        missing.append(("company.ids", "at least one company URN, e.g. urn:pact:company:example:acme"))
    if not study.product.ids:
        missing.append(("product.ids", "at least one product URN, e.g. urn:pact:product:acme:cell-60ah"))
    for end in ("start", "end"):
        if getattr(study.product, f"reference_period_{end}") is None:
            missing.append((f"product.reference_period_{end}",
                            "the reference period of the activity data (reference_period_start / _end)"))
    if missing:
        field, what = missing[0]
        more = f"; also missing: {', '.join(f for f, _ in missing[1:])}" if len(missing) > 1 else ""
        raise StudyError(f"a PACT footprint needs {what}{more}", file=file, field=field)
    from .declaration import end_of_life_included
    if end_of_life_included(result):
        raise StudyError("a PACT footprint is cradle-to-gate: this study includes end-of-life burdens and credits "
                         "(set recycling.eol_collection_rate to 0 for the export)", file=file,
                         field="recycling.eol_collection_rate")
    gases = result["gases"]
    total = result["kg_co2e_per_kwh"]
    if gases.get("fossil", 0.0) < 0 or gases.get("land_use_change", 0.0) < -1e-12:
        raise StudyError("a PACT footprint cannot carry negative fossil or land-use emissions (credits in the "
                         "cradle-to-gate result)", file=file)
    cell = result["cell"]
    q = dqi(result, engine, report.get("supplier_dqi"))
    method = study.method
    ar = ["AR6"]     # both methods of the engine use IPCC AR6 GWP100 (bw/project.py METHODS)
    secondary = {}
    for d in result["datasets"]:
        if d["data"].startswith("secondary"):
            for k in d.get("source_keys", []):
                src = engine.inventory.sources.get(k)
                if src is not None:
                    secondary[k] = {"name": f"{src.author}: {src.title}"[:300], "version": str(src.year)}
    rules = None
    if study.rules == "eu_cfb_2024_draft":
        rules = [{"operator": "Other", "otherOperatorName": "European Commission (JRC)",
                  "ruleNames": ["Carbon footprint of EV batteries, draft delegated act under Regulation (EU) "
                                "2023/1542 Art. 7 (2024 draft)"]}]
    cutoff = report["cutoff"]
    desc = study.product.description or (
        f"{result['chemistry']} Li-ion cell, {study.cell.capacity_ah:g} Ah, {study.cell.nominal_voltage_v:g} V, "
        f"{study.cell.format}, made in {study.plant.country}; declared unit 1 kWh of nominal energy capacity")
    stages = ", ".join(k.replace("_", " ") for k, v in result["stages"].items() if v)
    notes = [result["label"], f"computed by lca_battery {result['software']['lca_battery']} with "
             f"{result['method']['label']}", "DQR mapped from PEF 1-5 to PACT 1-3 linearly",
             "no biogenic CO2 uptake in the inventories: PCF including and excluding it are equal",
             f"cell-plant electricity: {result['plant']['electricity_rule_label']}"]
    other = {r: v for r, v in (result["plant"].get("result_by_rule") or {}).items()
             if r != result["plant"]["electricity_rule"]}
    notes += [f"under {v['rule']}: {v['kg_co2e_per_kwh']:.4g} kg CO2e per kWh" for v in other.values()]
    pf = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "lca_battery:pact:" + json.dumps(
            [company_name, study.company.ids, study.product.ids, result["study"], repr(total),
             result["inventory"]["content_hash"]]))),
        "specVersion": SPEC_VERSION,
        "created": (created or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "Active",
        "companyName": company_name,
        "companyIds": list(study.company.ids),
        "productDescription": desc,
        "productIds": list(study.product.ids),
        **({"productClassifications": list(study.product.classifications)} if study.product.classifications else {}),
        "productNameCompany": study.product.name or study.cell.model or result["study"],
        "comment": "; ".join(notes),
        "pcf": {
            "declaredUnitOfMeasurement": "kilowatt hour",
            "declaredUnitAmount": _dec(cell["energy_kwh"]),
            "productMassPerDeclaredUnit": _dec(cell["kg_per_kwh"]),
            "referencePeriodStart": _iso(study.product.reference_period_start),
            "referencePeriodEnd": _iso(study.product.reference_period_end, end=True),
            "geographyCountry": study.plant.country,
            "boundaryProcessesDescription": f"cradle-to-gate of the cell: {stages}; see the study report",
            "pcfExcludingBiogenicUptake": _dec(total),
            "pcfIncludingBiogenicUptake": _dec(total),
            "fossilCarbonContent": _dec(result["element_kg_per_kwh"].get("C", 0.0)),
            "biogenicCarbonContent": _dec(result["element_kg_per_kwh"].get("C_biogenic", 0.0)),
            "fossilGhgEmissions": _dec(gases.get("fossil", 0.0)),
            "landUseChangeGhgEmissions": _dec(max(gases.get("land_use_change", 0.0), 0.0)),
            "biogenicCO2Uptake": "0",
            "biogenicNonCO2Emissions": _dec(max(gases.get("biogenic", 0.0), 0.0)),
            "packagingEmissionsIncluded": False,
            "ipccCharacterizationFactors": ar,
            "crossSectoralStandards": ["ISO14067"] + (["PEF"] if method == "ef31" else []),
            **({"productOrSectorSpecificRules": rules} if rules else {}),
            "exemptedEmissionsPercent": _dec(max(cutoff["total_share"], 0.0) * 100, 4),
            "exemptedEmissionsDescription": (
                f"flows excluded by the inventories (cut-off log of the study report, {len(cutoff['rows'])} "
                f"entries, estimated upper bound)"),
            "allocationRulesDescription": "; ".join(f"{k}: {v}" for k, v in report["allocation"].items()),
            **({"secondaryEmissionFactorSources": _unique(secondary[k] for k in sorted(secondary))} if secondary else {}),
            "primaryDataShare": _dec(report["primary_data"]["share"] * 100, 4),
            **({"dqi": {k: _dec(v, 3) for k, v in q.items()}} if all(v is not None for v in q.values()) else {}),
        },
    }
    # a number that a decimal string cannot hold would fail here, not at the receiver
    return ProductFootprint.model_validate(pf).model_dump(mode="json", exclude_none=True)


def _unique(items) -> list[dict]:
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out
