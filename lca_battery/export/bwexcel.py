"""Brightway Excel: bw2io's ``write_lci_excel``, one workbook per lca_battery database.

The workbooks hold the databases as written in the Brightway project, i.e. with the default
study's amounts (``study.DEFAULT_STUDY``). The study's own amounts are written beside them as an
Activity Browser scenario difference file (``<study>-scenario.csv``, :mod:`.ab`), which applies
them to the same exchanges; for the default study it changes nothing.
"""
from __future__ import annotations

from pathlib import Path


def write_bw_excel(scenario, engine, out: Path) -> tuple[Path, list[str]]:
    from bw2io.export.excel import write_lci_excel
    from ..errors import LcaBatteryError
    from .ab import write_scenarios
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise LcaBatteryError(f"--out for bw-excel is a folder; '{out}' is a file", field="--out")
    out.mkdir(parents=True, exist_ok=True)
    engine.activate()
    written = []
    for db in sorted(engine.databases):
        written.append(Path(write_lci_excel(db, dirpath=str(out))).name)
    sc = write_scenarios([scenario], engine, out / f"{Path(scenario.file).stem}-scenario.csv")
    return out, [f"workbooks (bw2io, default study's amounts): {', '.join(written)}",
                 f"the study's amounts: {sc.name} (Activity Browser scenario difference file)"]
