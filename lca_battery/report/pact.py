"""WBCSD PACT product footprints: export a study's result as a PACT v3 ProductFootprint, and read a
supplier's PACT v2 / v3 ProductFootprint as the supplier figure of a material.

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
  exported as ``1 + (r - 1) / 2`` and a PACT rating ``q`` read as ``1 + 2 (q - 1)``: a linear map of
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
import re
import uuid
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
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


def pact_to_pef_dqr(q: float) -> float:
    """PACT data quality rating (1 good ... 3 poor) -> PEF rating (1 excellent ... 5 poor), linear."""
    return 1.0 + 2.0 * (q - 1.0)


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
    if study.product.reference_period_start is None:
        missing.append(("product.reference_period_start",
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
             "no biogenic CO2 uptake in the inventories: PCF including and excluding it are equal"]
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
            "biogenicCarbonContent": "0",
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


# --------------------------------------------------------------------------------------------------
# supplier files

MAX_PACT_BYTES = 5 * 1024 * 1024


class _PactFileError(Exception):
    def __init__(self, field: str | None, message: str):
        self.field, self.message = field, message


def _get(obj: dict, path: str, required: bool = True):
    node = obj
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node or node[part] is None:
            if required:
                raise _PactFileError(path, "required field is missing")
            return None
        node = node[part]
    return node


def _number(obj: dict, path: str, required: bool = True) -> float | None:
    v = _get(obj, path, required)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise _PactFileError(path, f"must be a decimal number as a string, e.g. \"1.25\" (got {v!r})")
    try:
        x = float(Decimal(str(v).strip()))
    except (InvalidOperation, ValueError):
        raise _PactFileError(path, f"not a decimal number: {v!r}") from None
    if not math.isfinite(x):
        raise _PactFileError(path, f"must be finite (got {v!r})")
    return x


def read_supplier_pact(path: str | Path) -> dict:
    """The supplier figure of a PACT v2 / v3 ProductFootprint JSON file (a footprint, or an API
    response ``{"data": footprint}`` / ``{"data": [footprint]}``). Raises _PactFileError(field, message)."""
    p = Path(path)
    if not p.is_file():
        raise _PactFileError(None, "file not found")
    if p.stat().st_size > MAX_PACT_BYTES:
        raise _PactFileError(None, f"larger than {MAX_PACT_BYTES // 1024 // 1024} MB: not a single product footprint")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise _PactFileError(None, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _PactFileError(None, f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    prefix = ""
    if isinstance(doc, dict) and "data" in doc and "pcf" not in doc:
        data = doc["data"]
        if isinstance(data, list):
            if len(data) != 1:
                raise _PactFileError("data", f"holds {len(data)} footprints: give a file with exactly one")
            data, prefix = data[0], "data[0]."
        else:
            prefix = "data."
        doc = data
    if not isinstance(doc, dict):
        raise _PactFileError(prefix.rstrip(".") or None, "a PACT ProductFootprint must be a JSON object")
    try:
        return _read_footprint(doc)
    except _PactFileError as exc:
        raise _PactFileError(prefix + exc.field if exc.field else prefix.rstrip(".") or None, exc.message) from None


def _read_footprint(pf: dict) -> dict:
    spec = _get(pf, "specVersion")
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)(-\d{8})?$", str(spec))
    if not m or m.group(1) not in ("2", "3"):
        raise _PactFileError("specVersion", f"PACT version 2.x or 3.x is read (got {spec!r})")
    major = int(m.group(1))
    status = _get(pf, "status", required=False)
    if status == "Deprecated":
        raise _PactFileError("status", "the footprint is Deprecated: ask the supplier for its current one")
    pcf = _get(pf, "pcf")
    if not isinstance(pcf, dict):
        raise _PactFileError("pcf", "must be an object (the CarbonFootprint)")
    unit_field = "declaredUnitOfMeasurement" if major >= 3 else "declaredUnit"
    value_field = "pcfExcludingBiogenicUptake" if major >= 3 else "pCfExcludingBiogenic"
    unit = _get(pcf, unit_field, required=False)
    if unit is None:
        raise _PactFileError(f"pcf.{unit_field}", "required field is missing")
    if unit != "kilogram":
        raise _PactFileError(f"pcf.{unit_field}", f"the declared unit must be 'kilogram' (got {unit!r}): the figure "
                                                  f"replaces a material per kg")
    try:
        value = _number(pcf, value_field)
    except _PactFileError as exc:
        raise _PactFileError(f"pcf.{exc.field}", exc.message) from None
    if value < 0:
        raise _PactFileError(f"pcf.{value_field}", f"a material's footprint must be >= 0 (got {value:g})")
    names = ("technologicalDQR", "geographicalDQR", "temporalDQR") + (
        ("completenessDQR", "reliabilityDQR") if major == 2 else ())
    dq = {}
    if isinstance(pcf.get("dqi"), dict):
        for n in names:
            try:
                v = _number(pcf["dqi"], n, required=False)
            except _PactFileError as exc:
                raise _PactFileError(f"pcf.dqi.{exc.field}", exc.message) from None
            if v is not None:
                if not 1 <= v <= 3:
                    raise _PactFileError(f"pcf.dqi.{n}", f"must be between 1 and 3 (got {v:g})")
                dq[n] = v
    ver_key = "verification" if major >= 3 else "assurance"
    ver = pcf.get(ver_key)
    if major >= 3:
        verified = isinstance(ver, dict)
    else:
        verified = isinstance(ver, dict) and ver.get("assurance") is True
    end = _get(pcf, "referencePeriodEnd", required=False)
    year = None
    if isinstance(end, str) and re.match(r"^\d{4}-", end):
        year = int(end[:4])
    return {
        "id": str(_get(pf, "id", required=False) or ""), "specVersion": str(spec),
        "companyName": str(_get(pf, "companyName", required=False) or ""),
        "productNameCompany": str(_get(pf, "productNameCompany", required=False) or ""),
        "productIds": list(_get(pf, "productIds", required=False) or []),
        "pcf_kg_co2e_per_kg": value, "year": year, "dqi": dq,
        "dqr_pef": (pact_to_pef_dqr(sum(dq.values()) / len(dq)) if dq else None),
        "verification": "third-party verified" if verified else "self-declared",
        "verification_detail": ({k: v for k, v in ver.items() if isinstance(v, (str, bool))}
                                if isinstance(ver, dict) else None),
    }


def apply_supplier_pact(data: dict, file: str) -> None:
    """Fill ``suppliers.<id>`` from its ``pact:`` file (called by load_study before validation): the
    PCF, and the source, year, DQR and verification the study does not give itself."""
    suppliers = data.get("suppliers")
    if not isinstance(suppliers, dict):
        return
    for pid, entry in suppliers.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("pact"), str):
            continue
        if entry.get("pcf_kg_co2e_per_kg") is not None:
            raise StudyError("give either pcf_kg_co2e_per_kg or a PACT file, not both", file=file,
                             field=f"suppliers.{pid}.pact")
        try:
            fig = read_supplier_pact(entry["pact"])
        except _PactFileError as exc:
            where = f"field '{exc.field}': " if exc.field else ""
            raise StudyError(f"PACT file {entry['pact']}: {where}{exc.message}", file=file,
                             field=f"suppliers.{pid}.pact") from None
        entry["pcf_kg_co2e_per_kg"] = fig["pcf_kg_co2e_per_kg"]
        entry.setdefault("source", pact_source(fig, entry["pact"]))
        if fig["year"] is not None:
            entry.setdefault("year", fig["year"])
        if fig["dqr_pef"] is not None:
            entry.setdefault("dqr", round(fig["dqr_pef"], 6))
        entry.setdefault("verification", fig["verification"])


def pact_source(fig: dict, path: str) -> str:
    who = " ".join(x for x in (fig["companyName"], f"({fig['productNameCompany']})" if fig["productNameCompany"]
                                else "") if x)
    return f"PACT {fig['specVersion']} ProductFootprint {fig['id']} by {who or 'supplier'}, file {Path(path).name}"


def supplier_details(study) -> dict[str, dict]:
    """Per supplier process with a PACT file: what the file says (for the datasets table)."""
    out = {}
    for pid, sup in study.suppliers.items():
        if sup.pact:
            fig = read_supplier_pact(sup.pact)
            out[pid] = {"file": Path(sup.pact).name, "id": fig["id"], "specVersion": fig["specVersion"],
                        "companyName": fig["companyName"], "productIds": fig["productIds"],
                        "pcf_kg_co2e_per_kg": fig["pcf_kg_co2e_per_kg"], "dqi": fig["dqi"],
                        "verification": fig["verification"], "verification_detail": fig["verification_detail"]}
    return out
