"""A supplier's WBCSD PACT v2 / v3 ProductFootprint file read as the supplier figure of a material
(``suppliers.<id>.pact`` in a study): the footprint per kg, its year, data quality and verification.

Study input, read by :func:`lca_battery.study.load_study` before validation; the export of a result as
PACT is :mod:`lca_battery.report.pact`. Data quality: PACT rates 1 (good) to 3 (poor), the engine's datasets
carry PEF ratings 1 (excellent) to 5 (poor); a PACT rating ``q`` is read as ``1 + 2 (q - 1)``
(:func:`pact_to_pef_dqr`), the inverse of the export's map."""
from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .errors import StudyError


def pact_to_pef_dqr(q: float) -> float:
    """PACT data quality rating (1 good ... 3 poor) -> PEF rating (1 excellent ... 5 poor), linear."""
    return 1.0 + 2.0 * (q - 1.0)


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


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key '{k}' appears twice in one object (which value is meant?)")
        out[k] = v
    return out


#: What a PACT file may say, beyond the specification's types: the statuses of PACT v2/v3, a footprint per kg
#: at most this (platinum-group metals are about 1e4-1e5 kg CO2e per kg; a study's own supplier figure has the
#: same ceiling), a reference period ending between these years.
MAX_PCF_KG_CO2E_PER_KG = 1e6
STATUSES = ("Active", "Deprecated")
YEARS = (1990, 2100)


def read_supplier_pact(path: str | Path) -> dict:
    """The supplier figure of a PACT v2 / v3 ProductFootprint JSON file (a footprint, or an API
    response ``{"data": footprint}`` / ``{"data": [footprint]}``). Raises _PactFileError(field, message)."""
    p = Path(path)
    if not p.is_file():
        raise _PactFileError(None, "file not found")
    if p.stat().st_size > MAX_PACT_BYTES:
        raise _PactFileError(None, f"larger than {MAX_PACT_BYTES // 1024 // 1024} MB: not a single product footprint")
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise _PactFileError(None, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _PactFileError(None, f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except RecursionError:
        raise _PactFileError(None, "nested too deeply: not a product footprint") from None
    except ValueError as exc:            # a duplicate key, an integer of thousands of digits
        raise _PactFileError(None, f"not a product footprint: {exc}") from None
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
    if status is not None and status not in STATUSES:
        raise _PactFileError("status", f"must be one of {', '.join(STATUSES)} (got {status!r})")
    if status == "Deprecated":
        raise _PactFileError("status", "the footprint is Deprecated: ask the supplier for its current one")
    for name in ("companyName", "productNameCompany", "id"):
        if _get(pf, name, required=False) is not None and not isinstance(pf[name], str):
            raise _PactFileError(name, f"must be text (got {pf[name]!r})")
    ids = _get(pf, "productIds", required=False)
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(x, str) for x in ids)):
        raise _PactFileError("productIds", f"must be a list of URNs (text) (got {ids!r})")
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
    if value < 0 or value > MAX_PCF_KG_CO2E_PER_KG:
        raise _PactFileError(f"pcf.{value_field}", f"a material's footprint must be between 0 and "
                                                   f"{MAX_PCF_KG_CO2E_PER_KG:g} kg CO2e per kg (got {value:g})")
    names = ("technologicalDQR", "geographicalDQR", "temporalDQR") + (
        ("completenessDQR", "reliabilityDQR") if major == 2 else ())
    dq = {}
    if pcf.get("dqi") is not None and not isinstance(pcf["dqi"], dict):
        raise _PactFileError("pcf.dqi", f"must be an object of DQR ratings (got {pcf['dqi']!r})")
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
        verified = isinstance(ver, dict) and bool(ver)       # an empty object states no verification
    else:
        verified = isinstance(ver, dict) and ver.get("assurance") is True
    end = _get(pcf, "referencePeriodEnd", required=False)
    year = None
    if isinstance(end, str) and re.match(r"^\d{4}-", end):
        year = int(end[:4])
        if not YEARS[0] <= year <= YEARS[1]:
            raise _PactFileError("pcf.referencePeriodEnd", f"the year must be between {YEARS[0]} and {YEARS[1]} "
                                                           f"(got {end!r})")
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
