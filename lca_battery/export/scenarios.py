"""The studies of an export: study files x ``--grid`` combinations, each with its matrix entries."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from ..errors import StudyError


@dataclass
class Scenario:
    name: str            # column name in the scenario file
    file: str
    study: object        # validated Study
    mapping: object      # model.entries.Mapping


def scenario_name(file: str, combo: dict) -> str:
    stem = Path(file).stem
    return stem if not combo else stem + " | " + ", ".join(f"{k}={v}" for k, v in combo.items())


def build_scenarios(studies, overrides=None, grid: dict | None = None, engine=None) -> tuple[list[Scenario], object]:
    """Every study x every combination of ``grid`` (as ``sweep``), on one engine.

    Returns the scenarios and the engine. Studies that need a Brightway project of their own
    (a supplier inventory file) cannot share a scenario file with the others: one clear error."""
    from ..prepare import get_engine, prepare_mapping
    from ..study import as_overrides
    engine = engine or get_engine()
    grid = grid or {}
    keys = list(grid)
    out: list[Scenario] = []
    used = None
    for file in studies:
        base = as_overrides(overrides, str(file))
        for combo in itertools.product(*(grid[k] for k in keys)):
            c = dict(zip(keys, combo))
            st, mapping, eng = prepare_mapping(str(file), {**base, **c}, engine, str(file))
            if used is not None and eng is not used:
                raise StudyError("this study uses a supplier inventory file (a Brightway project of its own) and "
                                 "cannot share an export with studies on another project; export it alone",
                                 file=str(file))
            used = eng
            name = scenario_name(str(file), c)
            if any(s.name == name for s in out):
                raise StudyError(f"study '{name}' is given twice", file=str(file))
            out.append(Scenario(name, str(file), st, mapping))
    if not out:
        raise StudyError("no study to export")
    return out, used
