"""The cell plant's electricity under each accounting rule.

Rules (named and versioned, never hard-wired, see REQUIREMENTS "Electricity"):

``eu_delegated_act``
    Draft delegated act on the carbon footprint of EV batteries (2024 draft): only a direct
    connection / on-site generation or the national consumption mix. Contracted shares (PPA,
    certificates) are counted at the national mix.
``iso14067``
    ISO 14067:2018 (6.4.9.4) and earlier JRC rules: contractual instruments are accepted; the
    share not covered by them takes the residual mix (the study gives it with its source) or,
    if none is given, the national mix, which the output flags as a risk of double counting.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import StudyError

RULE_LABELS = {
    "eu_delegated_act": "EU draft delegated act (2024): direct connection / on-site and national mix only",
    "iso14067": "ISO 14067: contractual instruments accepted, residual mix for the rest",
}


#: what stands for "the national consumption mix" of the rules
GRID_NOTE = ("national mix: the life-cycle factor of the country's generation mix (Ember) stands in for its consumption "
             "mix (no import/export correction, no transmission and distribution losses)")


def rule_label(rule: str, el) -> str:
    """The rule's label as applied to the study's plant electricity ``el`` (its ``contract`` and residual mix):
    the ISO 14067 rule counts contracts and a residual mix only where the study gives them."""
    label = RULE_LABELS.get(rule, rule)
    if rule != "iso14067":
        return label
    if not el.contract:
        return label.split(":")[0] + ": no contractual instruments in the study, so the national consumption mix"
    if el.residual_mix_kg_per_kwh is None:
        return (label.split(":")[0] + ": contractual instruments accepted; no residual mix given, so the national "
                "consumption mix for the rest")
    return label


@dataclass
class PlantElectricity:
    shares: dict[str, float]                 # alternative key -> share
    rule: str
    label: str
    residual_kg_per_kwh: float | None = None
    notes: list[str] = field(default_factory=list)


def _tech_key(tech: str, alternatives: dict[str, str], where: str, file: str) -> str:
    key = tech if tech.startswith(("tech_", "grid_")) else f"tech_{tech}"
    if key not in alternatives:
        raise StudyError(f"unknown technology '{tech}'", file=file, field=where,
                         allowed=", ".join(sorted(k[5:] for k in alternatives if k.startswith("tech_"))))
    return key


def plant_shares(study, alternatives: dict[str, str], rule: str | None, file: str) -> PlantElectricity:
    """Shares of the plant-electricity alternatives for ``rule`` (default: the study's rule)."""
    el = study.plant.electricity
    rule = rule or el.rule
    grid = f"grid_{study.plant.country}"
    if grid not in alternatives:
        raise StudyError(f"unknown country code '{study.plant.country}' (no national grid mix in the inventories)",
                         file=file, field="plant.country",
                         allowed=", ".join(sorted(k[5:] for k in alternatives if k.startswith("grid_"))))
    if el.mix is not None:
        shares = {}
        for k, v in el.mix.items():
            if k not in alternatives:
                raise StudyError(f"unknown alternative '{k}'", file=file, field="plant.electricity.mix",
                                 allowed=", ".join(sorted(a for a in alternatives if a != "residual_mix")))
            shares[k] = shares.get(k, 0.0) + float(v)
        tech = sorted(k for k, v in shares.items() if v and not k.startswith("grid_"))
        notes = [GRID_NOTE] if any(v and k.startswith("grid_") for k, v in shares.items()) else []
        return PlantElectricity(shares, "user_mix", "user-defined technology mix (as given by the study)" + (
            f": {', '.join(tech)} counted as given, not checked against an electricity rule (on-site generation "
            f"and direct lines: plant.electricity.onsite; contracts: plant.electricity.contract)" if tech else ""),
            notes=notes)
    shares: dict[str, float] = {}
    notes = []
    for tech, v in el.onsite.items():
        k = _tech_key(tech, alternatives, "plant.electricity.onsite", file)
        shares[k] = shares.get(k, 0.0) + v
    contracted = 0.0
    if rule == "iso14067":
        for tech, v in el.contract.items():
            k = _tech_key(tech, alternatives, "plant.electricity.contract", file)
            shares[k] = shares.get(k, 0.0) + v
            contracted += v
    else:
        for tech in el.contract:
            _tech_key(tech, alternatives, "plant.electricity.contract", file)
        if el.contract:
            notes.append("contractual instruments are not accepted by the draft delegated act: the contracted "
                         "share is counted at the national consumption mix")
    rest = max(0.0, 1.0 - sum(shares.values()))
    residual = None
    if rule == "iso14067" and contracted > 0:
        if el.residual_mix_kg_per_kwh is not None:
            shares["residual_mix"] = shares.get("residual_mix", 0.0) + rest
            residual = el.residual_mix_kg_per_kwh
            if isinstance(residual, dict):          # one per country: the plant's
                if study.plant.country not in residual:
                    raise StudyError(f"no residual mix given for the plant's country '{study.plant.country}'",
                                     file=file, field="plant.electricity.residual_mix_kg_per_kwh",
                                     allowed=", ".join(sorted(residual)) + f", or add {study.plant.country}")
                residual = float(residual[study.plant.country])
            per_country = isinstance(el.residual_mix_kg_per_kwh, dict)
            notes.append(f"residual mix {residual:g} kg CO2e/kWh"
                         + (f" of {study.plant.country}" if per_country else
                            " (one figure, whatever plant.country: give one per country to move the plant)")
                         + f" ({el.residual_mix_source}) for the share not covered by {el.instrument.upper()}s")
        else:
            shares[grid] = shares.get(grid, 0.0) + rest
            notes.append("no residual mix given: the national consumption mix stands in for the share not covered "
                         "by contracts (the contracted renewable power may be counted twice)")
    else:
        shares[grid] = shares.get(grid, 0.0) + rest
    if shares.get(grid):
        notes.append(GRID_NOTE)
    return PlantElectricity(shares, rule, RULE_LABELS[rule], residual, notes)
