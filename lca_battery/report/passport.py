"""``passport.json`` in the Battery Pass data model 1.2.0 shapes, and its validation.

The two aspects the engine can fill are written in the exact shapes of the Battery Pass
consortium's JSON schemas (vendored unchanged in ``schemas/``, CC BY 4.0, see its README):

* ``CarbonFootprintForBatteries`` (io.BatteryPass.CarbonFootprint 1.2.0): ``batteryCarbonFootprint``
  (kg CO2e per kWh of total energy over the service life, a number), ``carbonFootprintPerLifecycleStage``
  (a list of ``{lifecycleStage, carbonFootprint}``), ``carbonFootprintPerformanceClass``,
  ``carbonFootprintStudy`` (a link) and ``absoluteCarbonFootprint`` (kg CO2e per unit).
* ``Circularity`` (io.BatteryPass.Circularity 1.2.0): ``recycledContent`` (a list of
  ``{recycledMaterial: Cobalt|Nickel|Lithium|Lead, preConsumerShare, postConsumerShare}`` in
  percent 0-100) and ``renewableContent``.

Everything else the engine knows (per kWh of capacity, units, chain of custody, which required
fields it cannot fill) is under ``lcaBatteryExtras``, a key of its own.
A required field the study does not give (service life, study link) is left out, never filled
with a placeholder: the passport then does not validate, and the extras list the field.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMAS = {"CarbonFootprintForBatteries": "CarbonFootprintForBatteries-1.2.0-schema.json",
           "Circularity": "Circularity-1.2.0-schema.json"}
STAGES = {"raw_material_acquisition": "RawMaterialExtraction", "main_production": "MainProduction",
          "distribution": "Distribution", "end_of_life": "Recycling"}
METALS = {"Co": "Cobalt", "Ni": "Nickel", "Li": "Lithium", "Pb": "Lead"}
#: Circularity fields about the battery (dismantling, spare parts, safety, end of life): not the engine's
CIRCULARITY_OUT_OF_SCOPE = ("dismantlingAndRemovalInformation", "sparePartSources", "safetyMeasures",
                            "endOfLifeInformation")
PERFORMANCE_CLASS_REASON = ("the carbon footprint performance classes of Regulation (EU) 2023/1542 Art. 7(2) "
                            "are set by a delegated act not adopted yet; no class can be assigned")


@lru_cache(maxsize=None)
def schema(aspect: str) -> dict:
    return json.loads((SCHEMA_DIR / SCHEMAS[aspect]).read_text(encoding="utf-8"))


def passport(study, result: dict, life: dict | None) -> dict:
    """The passport's two aspects and the engine's extras. ``life``: lifetime energy (declaration.py)."""
    kwh_cell = result["cell"]["energy_kwh"]
    scale = kwh_cell / life["e_total_kwh_per_cell"] if life else None
    url = study.declaration.study_url or None
    cf: dict = {}
    if life:
        cf["batteryCarbonFootprint"] = result["kg_co2e_per_kwh"] * scale
        cf["carbonFootprintPerLifecycleStage"] = [
            {"lifecycleStage": STAGES[k], "carbonFootprint": v * scale}
            for k, v in result["stages"].items() if k in STAGES]
    cf["carbonFootprintPerformanceClass"] = "not yet defined"     # reason in the extras
    if url:
        cf["carbonFootprintStudy"] = url
    cf["absoluteCarbonFootprint"] = result["kg_co2e_per_cell"]
    rec = result["recycling"]["metals"]
    content = []
    unstated = []
    for metal, name in METALS.items():
        v = rec.get(metal)
        pre = (v or {}).get("R1_pre_consumer")
        post = (v or {}).get("R1_post_consumer")
        if v and v.get("R1") and pre is None:
            unstated.append(metal)     # only a total was given: the split is not known, not written as 0
            continue
        content.append({"recycledMaterial": name, "preConsumerShare": 100.0 * (pre or 0.0),
                        "postConsumerShare": 100.0 * (post or 0.0)})
    circ = {"recycledContent": content,
            # the modelled bill of materials holds no material made of renewable resources
            "renewableContent": 0.0}
    missing_cf = [f for f in schema("CarbonFootprintForBatteries")["required"] if f not in cf]
    return {
        "CarbonFootprintForBatteries": cf,
        "Circularity": circ,
        "lcaBatteryExtras": {
            "dataModel": "Battery Pass data model 1.2.0 (io.BatteryPass.CarbonFootprint 1.2.0, "
                         "io.BatteryPass.Circularity 1.2.0), DIN DKE SPEC 99100",
            "units": {"batteryCarbonFootprint": "kg CO2e per kWh of total energy over the service life",
                      "carbonFootprint": "kg CO2e per kWh of total energy over the service life",
                      "absoluteCarbonFootprint": "kg CO2e per cell",
                      "preConsumerShare": "percent", "postConsumerShare": "percent",
                      "renewableContent": "percent"},
            "declaredObject": "cell (not a battery: pack components are outside the model)",
            "label": result["label"],
            "kgCO2ePerKWhCapacity": result["kg_co2e_per_kwh"],
            "kgCO2ePerKWhCapacityPerLifecycleStage": {STAGES[k]: v for k, v in result["stages"].items()
                                                      if k in STAGES},
            "performanceClass": {"value": "not yet defined", "reason": PERFORMANCE_CLASS_REASON},
            "chainOfCustody": result["recycling"]["chain_of_custody"],
            "recycledContentSplitNotStated": unstated,
            "renewableContentBasis": "no material of renewable origin in the modelled bill of materials",
            "missingRequired": {
                "CarbonFootprintForBatteries": [
                    f"{f}: {_WHY.get(f, 'not given by the study')}" for f in missing_cf],
                "Circularity": [f"{f}: battery-level information, outside a cell footprint model"
                                for f in CIRCULARITY_OUT_OF_SCOPE] +
                               [f"recycledContent.{m}: only a total recycled content was given, no "
                                f"pre-/post-consumer split" for m in unstated],
            },
        },
    }


_WHY = {"batteryCarbonFootprint": "needs declaration.cycles_per_year (or vehicle_category) and "
                                  "declaration.service_life_years with a justification",
        "carbonFootprintPerLifecycleStage": "needs the service life (as batteryCarbonFootprint)",
        "carbonFootprintStudy": "needs declaration.study_url"}


def validate(passport_doc: dict, aspect: str, *, engine_fields_only: bool = False) -> list[str]:
    """Schema errors of one aspect of a passport (empty: valid). ``engine_fields_only``: for the
    Circularity aspect, do not count the battery-level required fields the engine cannot fill."""
    import jsonschema
    sch = schema(aspect)
    if engine_fields_only:
        sch = {**sch, "required": [f for f in sch["required"] if f not in CIRCULARITY_OUT_OF_SCOPE]}
    # the published schemas declare draft-04; they are used as published (not re-checked: the
    # Circularity RecycledMaterial enum repeats its values, which the draft-04 meta-schema forbids)
    validator = jsonschema.Draft4Validator(sch)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in sorted(validator.iter_errors(passport_doc[aspect]), key=lambda e: list(e.absolute_path))]
