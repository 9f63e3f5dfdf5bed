"""Declaration and battery-passport fields from a footprint result.

* Carbon footprint declaration, Regulation (EU) 2023/1542 Art. 7(1) and Annex II: manufacturer,
  model, plant, kg CO2e per functional unit and per life-cycle stage, declaration id, study link.
* Battery Pass data model 1.2.0 (DIN DKE SPEC 99100): see passport.py.

The regulation's declared unit is 1 kWh of total energy over the service life,
E_total = usable capacity x full equivalent cycles per year x service-life years; it is given
only when the study states cycles and years with a justification (else ``null``).
"""
from __future__ import annotations

from ..study import CYCLES_PER_YEAR



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


#: components whose data the draft delegated act (CFB-EV rules) makes company-specific: the cell's
#: bill-of-materials ids by component (default ids of every chemistry)
MANDATORY_COMPONENTS = {"cathode": ("cathode_", "cam_"), "anode": ("anode_", "graphite"), "electrolyte": ("electrolyte",),
                        "separator": ("separator",), "casing": ("casing_", "steel_can_", "tab_aluminium")}


def end_of_life_included(result: dict) -> bool:
    """End-of-life burdens or credits are in the figure (the result is then not cradle-to-gate)."""
    rec = result["recycling"]
    return bool(rec.get("end_of_life_burdens") or rec.get("end_of_life_credits") or result["stages"].get("end_of_life"))


def declaration(study, result: dict) -> dict:
    """Art. 7(1) fields, the label of the published figure and an honest list of what is missing."""
    from .passport import PERFORMANCE_CLASS_REASON
    d = study.declaration
    life = lifetime_energy(study, result["cell"]["energy_kwh"])
    per_cell = result["kg_co2e_per_cell"]
    per_fu = per_cell / life["e_total_kwh_per_cell"] if life else None
    eol = end_of_life_included(result)
    label = ("carbon footprint including end-of-life burdens and credits (not cradle-to-gate; Annex II stage 4 "
             "modelled)" if eol else "partial carbon footprint (cradle-to-gate), ISO 14067")
    missing = [m for m, ok in (
        ("manufacturer (Art. 7(1)(a): declaration.manufacturer)", d.manufacturer),
        ("manufacturing plant address (Art. 7(1)(c): declaration.plant_address)", d.plant_address),
        ("carbon footprint per functional unit (Art. 7(1)(d)): needs the service life, declaration."
         "cycles_per_year or vehicle_category and service_life_years with a justification", life),
        ("EU declaration of conformity number (Art. 7(1)(f): declaration.eu_declaration_of_conformity_number)",
         d.eu_declaration_of_conformity_number),
        ("web link to the public study (Art. 7(1)(g): declaration.study_url)", d.study_url),
        ("declaration id (declaration.declaration_id)", d.declaration_id)) if not ok]
    if not result["stages"].get("distribution"):
        missing.append("distribution stage (Annex II stage 3) is zero: no transport given (distribution.*_km)")
    if not eol:
        missing.append("end-of-life and recycling stage (Annex II stage 4) not included: the figure is a partial "
                       "(cradle-to-gate) footprint")
    missing.append("battery-level components (modules, pack housing, battery management system, cooling, "
                   "wiring) are outside the model: the figure is for one cell, not the battery Art. 7 covers")
    company = {b["input"] for b in result["bom"] if b["data"] == "company-specific"}
    company |= {s["process"] for s in result["suppliers"] if s.get("used", True) and
                (s["pcf_kg_co2e_per_kg"] is not None or s.get("replaced_by"))}
    for comp, prefixes in MANDATORY_COMPONENTS.items():
        if not any(i.startswith(prefixes) for i in company):
            missing.append(f"company-specific data for the {comp} (mandatory under the draft delegated act): "
                           f"the default dataset stands in")
    steps = ((result.get("plant") or {}).get("energy") or {}).get("steps") or []
    if not any(st.get("step") == "measured" for st in steps):
        partial = next((st for st in steps if str(st.get("step", "")).startswith("measured_")), None)
        missing.append("company-specific cell plant energy (main production; mandatory under the draft delegated "
                       "act: plant.electricity_kwh_per_kwh_cell and plant.heat_mj_per_kwh_cell): "
                       + (f"only part of it is measured ({partial['name']})" if partial else
                          "a published plant stands in (" + ((result.get("plant") or {}).get("energy") or {}).get(
                              "source", "default") + ")"))
    el = (result.get("plant") or {})
    by_rule = el.get("result_by_rule") or {}
    if el.get("electricity_rule") == "iso14067" and "eu_delegated_act" in by_rule:
        missing.append(f"the figure counts contractual instruments for the plant electricity (ISO 14067 6.4.9.4); "
                       f"the draft delegated act does not accept them: under it the figure is "
                       f"{by_rule['eu_delegated_act']['kg_co2e_per_kwh']:.2f} kg CO2e/kWh")
    if el.get("electricity_rule") == "user_mix":
        missing.append("the plant electricity is a user-defined mix (plant.electricity.mix) counted as given, not "
                       "checked against an electricity rule: give direct lines and on-site generation as "
                       "plant.electricity.onsite and contracts as plant.electricity.contract")
    if not result.get("rules"):
        missing.append("a named rule set (rules: eu_cfb_2024_draft for a declaration under the draft delegated act): "
                       "without one the figure follows the study's own method choices, not checked against any rules")
    missing.append("third-party verification of the study (Art. 7(1) declarations are verified by a notified body)")
    return {
        "regulation": "Regulation (EU) 2023/1542, Art. 7(1), Annex II; " + (
            f"rule set: {result['rules']['label']} (rules: {result['rules']['rules']})" if result.get("rules") else
            "no rule set chosen (study field rules): the study's own method choices"),
        "label": label,
        "published_figure": {"value": per_fu, "unit": "kg CO2e per kWh of total energy over the service life",
                             "label": label} if life else
        {"value": result["kg_co2e_per_kwh"], "unit": "kg CO2e per kWh of cell energy capacity "
         "(not the regulation's functional unit: service life not given)", "label": label},
        "declared_object": "cell",
        "declared_object_note": "declares a cell, not a battery: Art. 7 applies to the battery (pack) model; "
                                "the cell's footprint is an input to that declaration, not the declaration",
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
        "eu_declaration_of_conformity_number": d.eu_declaration_of_conformity_number or None,
        "performance_class": {"value": "not yet defined", "reason": PERFORMANCE_CLASS_REASON},
        "declaration_id": d.declaration_id or None,
        "study_url": d.study_url or None,
        "method": result["method"]["label"],
        "electricity_rule": result["plant"]["electricity_rule_label"],
        "rules": result.get("rules"),
        "missing": missing,
    }


def passport(study, result: dict) -> dict:
    from .passport import passport as _passport
    return _passport(study, result, lifetime_energy(study, result["cell"]["energy_kwh"]))


def rules_check(study, result: dict) -> dict | None:
    """The study's rule set (``rules:``), the switches it pinned and every non-conformity found."""
    from ..study import RULES
    if not study.rules:
        return None
    rule = RULES[study.rules]
    found = []
    company = {b["input"] for b in result["bom"] if b["data"] == "company-specific"}
    company |= {s["process"] for s in result["suppliers"] if s.get("used", True) and
                (s["pcf_kg_co2e_per_kg"] is not None or s.get("replaced_by"))}
    if study.rules == "eu_cfb_2024_draft":
        for comp, prefixes in MANDATORY_COMPONENTS.items():
            if not any(i.startswith(prefixes) for i in company):
                found.append(f"company-specific data mandatory for the {comp}: the default (secondary) dataset "
                             f"stands in")
        secondary = [d["id"] for d in result["datasets"] if d["data"].startswith("secondary")]
        found.append(f"secondary datasets must be EF 3.1-compliant: none of the {len(secondary)} open secondary "
                     f"datasets used is (they are cited literature and statistics, not EF 3.1 datasets)")
    p = study.plant
    mixed = sorted(k for k in (p.electricity.mix or {}) if not k.startswith("grid_"))
    if mixed:
        found.append(f"plant.electricity.mix counts {', '.join(mixed)} as given, unchecked: the draft delegated act "
                     f"accepts only a direct connection or on-site generation (plant.electricity.onsite) beside the "
                     f"national mix, ISO 14067 contractual instruments with the residual mix for the rest "
                     f"(plant.electricity.contract)")
    if p.electricity_kwh_per_kwh_cell is None and p.electricity_kwh_per_kg_cell is None:
        found.append("cell-plant energy is not site-specific (plant.electricity_kwh_per_kwh_cell not given): "
                     + ("mandatory company-specific data under the draft delegated act" if
                        study.rules == "eu_cfb_2024_draft" else
                        "ISO 14067 6.3.5 asks for site-specific data for processes under the organization's control"))
    rec = result["recycling"]
    claimed = sorted(m for m, v in rec["metals"].items() if v.get("R1"))
    if claimed and not study.recycling.chain_of_custody_evidence.strip():
        found.append(f"recycled content R1 claimed for {', '.join(claimed)} without chain-of-custody evidence "
                     f"(recycling.chain_of_custody_evidence; model stated: {rec['chain_of_custody']})")
    no_dqr = [s["process"] for s in result["suppliers"] if s.get("used", True) and
              s["pcf_kg_co2e_per_kg"] is not None and s.get("dqr") is None]
    if no_dqr:
        found.append(f"supplier figures without a data-quality rating (suppliers.<id>.dqr): {', '.join(no_dqr)}; "
                     f"their share of the result is left out of the weighted DQR")
    unverified = [s["process"] for s in result["suppliers"] if s.get("used", True) and
                  s["pcf_kg_co2e_per_kg"] is not None and s["verification"] != "third-party verified"]
    if unverified:
        found.append(f"supplier figures not third-party verified: {', '.join(unverified)}")
    return {"rules": study.rules, "label": rule["label"], "pinned": dict(rule["pinned"]),
            "conforms": not found, "non_conformities": found}
