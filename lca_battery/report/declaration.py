"""Declaration and battery-passport fields from a footprint result.

* Carbon footprint declaration, Regulation (EU) 2023/1542 Art. 7(1) and Annex II: manufacturer,
  model, plant, kg CO2e per functional unit and per life-cycle stage, declaration id, study link.
* Battery Pass data model (DIN DKE SPEC 99100): footprint per functional unit and per stage
  (RawMaterialExtraction, MainProduction, Distribution, Recycling), absolute footprint, recycled
  content pre-/post-consumer per Co, Li, Ni, Pb.

The regulation's declared unit is 1 kWh of total energy over the service life,
E_total = usable capacity x full equivalent cycles per year x service-life years; it is given
only when the study states cycles and years with a justification (else ``null``).
"""
from __future__ import annotations

from ..study import CYCLES_PER_YEAR

PASSPORT_STAGES = {"raw_material_acquisition": "RawMaterialExtraction", "main_production": "MainProduction",
                   "distribution": "Distribution", "end_of_life": "Recycling"}


def lifetime_energy(study, kwh_per_cell: float) -> dict | None:
    d = study.declaration
    cycles = d.cycles_per_year or (CYCLES_PER_YEAR.get(d.vehicle_category) if d.vehicle_category else None)
    if not cycles or not d.service_life_years:
        return None
    e_total = kwh_per_cell * d.usable_capacity_share * cycles * d.service_life_years
    return {"e_total_kwh_per_cell": e_total, "cycles_per_year": cycles, "service_life_years": d.service_life_years,
            "usable_capacity_share": d.usable_capacity_share, "justification": d.justification,
            "cycles_source": "study" if d.cycles_per_year else
            f"draft delegated act default for category {d.vehicle_category}"}


def declaration(study, result: dict) -> dict:
    d = study.declaration
    life = lifetime_energy(study, result["cell"]["energy_kwh"])
    per_cell = result["kg_co2e_per_cell"]
    per_fu = per_cell / life["e_total_kwh_per_cell"] if life else None
    return {
        "regulation": "Regulation (EU) 2023/1542, Art. 7(1), Annex II (draft delegated act 2024 rules)",
        "label": result["label"],
        "manufacturer": d.manufacturer or None,
        "battery_model": d.battery_model or study.cell.model or None,
        "manufacturing_plant": {"country": study.plant.country, "name": study.plant.name or None,
                                "address": d.plant_address or None},
        "functional_unit": "1 kWh of total energy provided over the service life (E_total)" if life else None,
        "kg_co2e_per_kwh_e_total": per_fu,
        "kg_co2e_per_stage_per_kwh_e_total": ({k: v * result["cell"]["energy_kwh"] / life["e_total_kwh_per_cell"]
                                                for k, v in result["stages"].items()} if life else None),
        "service_life": life,
        "reference_flows": {"kg_co2e_per_kwh_capacity": result["kg_co2e_per_kwh"], "kg_co2e_per_cell": per_cell,
                            "kg_co2e_per_kg": result["kg_co2e_per_kg"]},
        "kg_co2e_per_stage_per_kwh_capacity": result["stages"],
        "declaration_id": d.declaration_id or None,
        "study_url": d.study_url or None,
        "method": result["method"]["label"],
        "electricity_rule": result["plant"]["electricity_rule_label"],
        "missing": [k for k, v in (("manufacturer", d.manufacturer), ("declaration_id", d.declaration_id),
                                   ("study_url", d.study_url), ("service life (cycles, years)", life)) if not v],
    }


def passport(study, result: dict) -> dict:
    life = lifetime_energy(study, result["cell"]["energy_kwh"])
    scale = result["cell"]["energy_kwh"] / life["e_total_kwh_per_cell"] if life else None
    rec = result["recycling"]["metals"]
    content = {}
    for metal in ("Co", "Li", "Ni", "Pb"):
        v = rec.get(metal)
        content[metal] = {"preConsumerShare": v["R1_pre_consumer"] if v else 0.0,
                          "postConsumerShare": v["R1_post_consumer"] if v else 0.0,
                          "totalShare": v["R1"] if v else 0.0}
    return {
        "dataModel": "DIN DKE SPEC 99100 (Battery Pass), carbon footprint and circularity fields",
        "batteryCarbonFootprint": {
            "absoluteCarbonFootprint_kgCO2e_per_cell": result["kg_co2e_per_cell"],
            "batteryCarbonFootprint_kgCO2e_per_kWh": (result["kg_co2e_per_kwh"] * scale) if life else None,
            "functionalUnit": "kWh of total energy over the service life" if life else None,
            "carbonFootprintPerLifecycleStage": [
                {"lifecycleStage": PASSPORT_STAGES[k], "carbonFootprint_kgCO2e_per_kWh": (v * scale) if life else None,
                 "carbonFootprint_kgCO2e_per_kWh_capacity": v}
                for k, v in result["stages"].items() if k in PASSPORT_STAGES],
            "carbonFootprintStudy": study.declaration.study_url or None,
        },
        "recycledContent": content,
        "chainOfCustody": result["recycling"]["chain_of_custody"],
    }
