"""``lca-battery export``: dispatch to the format writers."""
from __future__ import annotations

from pathlib import Path

from ..errors import LcaBatteryError
from . import FORMATS


def export(studies, fmt: str, out: Path, overrides=None, grid: dict | None = None, *, engine=None) -> dict:
    """Write ``studies`` (x ``grid``) in format ``fmt`` to ``out``; returns what was written.

    ``ab-scenarios`` takes any number of scenarios (one column each); ``olca`` and ``bw-excel`` write
    one study (its amounts in the processes)."""
    from .scenarios import build_scenarios
    if fmt not in FORMATS:
        raise LcaBatteryError(f"unknown export format '{fmt}'", field="--format", allowed=", ".join(FORMATS))
    if isinstance(studies, (str, Path)):
        studies = [studies]
    out = Path(out)
    scenarios, engine = build_scenarios([str(s) for s in studies], overrides, grid, engine)
    names = [s.name for s in scenarios]
    if fmt == "ab-scenarios":
        from .ab import write_scenarios
        path = write_scenarios(scenarios, engine, out)
        return {"format": fmt, "path": str(path), "scenarios": names,
                "notes": ["load it in Activity Browser on the Brightway project "
                          f"'{engine.project}' (Calculation setup > Scenario LCA)"]}
    if len(scenarios) != 1:
        raise LcaBatteryError(f"--format {fmt} writes one study ({len(scenarios)} given: {', '.join(names)}); "
                              f"use ab-scenarios for several", field="--format")
    if fmt == "olca":
        from .olca import write_olca
        path, notes = write_olca(scenarios[0], engine, out)
    else:
        from .bwexcel import write_bw_excel
        path, notes = write_bw_excel(scenarios[0], engine, out)
    return {"format": fmt, "path": str(path), "scenarios": names, "notes": notes}
