"""The sweep in one process: a sweep's scenarios checked and expanded (:func:`scenarios`), and solved here
(:func:`sweep`): by the grid engine (:mod:`lca_battery.sweep_engine`) when the grid or table allows, else each
scenario built and all solved by exact low-rank updates of one factorisation
(:class:`lca_battery.compiled.BatchSolver`), or by bw2calc per scenario (the reference).

:func:`lca_battery.api.sweep` sends the scenarios to a Dask cluster when given a client
(:mod:`lca_battery.distributed`), whose workers run :func:`sweep` here on their parts; this module imports
neither of those."""
from __future__ import annotations

from pathlib import Path

from .calc import Engine
from .prepare import get_engine, prepare_mapping
from .sweep_engine import MATERIAL_PREFIX


#: A sweep holds its rows in memory: larger grids are refused up front.
MAX_SCENARIOS = 2_000_000
#: Peak memory per scenario of a sweep whose rows are written (``lca-battery sweep``: rows, CSV, JSON and Parquet):
#: measured 2.04 GB peak RSS for 160,000 scenarios of the default study with its material columns (2026-12-02,
#: 12.7 kB each), rounded up. A sweep needing more than the machine's available memory is refused up front.
ROW_BYTES = 13_000
#: Scenarios solved together on the per-scenario path (one Woodbury batch). A Dask chunk is a multiple of
#: it, so each batch a worker solves is a batch of the serial run (:mod:`lca_battery.distributed`).
SOLVE_BATCH = 512


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``; psutil elsewhere), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except Exception:                    # noqa: BLE001 - no psutil: the fixed cap only
        return None


def check_size(total: int, file: str, field: str = "--grid") -> None:
    """Refuse a sweep of ``total`` scenarios that holds more than :data:`MAX_SCENARIOS` or would need more memory
    than the machine has available (:data:`ROW_BYTES` each), with the numbers."""
    from .errors import StudyError
    if total > MAX_SCENARIOS:
        raise StudyError(f"{total:,} scenarios is more than a sweep holds in memory ({MAX_SCENARIOS:,}): split the "
                         "grid or the table", file=file, field=field)
    avail = available_memory()
    if avail is not None and total * ROW_BYTES > avail:
        raise StudyError(f"{total:,} scenarios need about {total * ROW_BYTES / 1e9:.1f} GB of memory (about "
                         f"{ROW_BYTES / 1e3:.0f} kB each with the result files), more than the "
                         f"{avail / 1e9:.1f} GB available: split the grid or the table into sweeps of at most "
                         f"{avail // ROW_BYTES:,} scenarios", file=file, field=field)


def scenarios(study, grid: dict[str, list] | None, overrides, table: list[dict] | None):
    """A sweep's input checked and expanded: (overrides as a mapping, the grid, every scenario's full override
    mapping in order - each table row with the grid's combinations, the last key fastest - and the number of
    grid combinations). An empty value list or more scenarios than :data:`MAX_SCENARIOS` is refused."""
    import itertools
    from .errors import StudyError
    from .study import as_overrides
    overrides = as_overrides(overrides, str(study))
    grid = dict(grid or {})
    for k, vals in grid.items():
        if not isinstance(vals, (list, tuple)):
            raise StudyError(f"sweep key '{k}' needs a list of values (got {type(vals).__name__} {vals!r})",
                             file=str(study), field=k, allowed=f"a list, e.g. {{'{k}': [{vals!r}]}}")
        if len(vals) == 0:
            raise StudyError(f"sweep key '{k}' has no values", file=str(study), field=k,
                             allowed="one value or more, e.g. plant.country=CN,SE")
    n_grid = 1
    for vals in grid.values():
        n_grid *= len(vals)
    rows_in = table if table is not None else [{}]
    if table and grid:                   # a grid value would silently replace the table's
        columns = list(dict.fromkeys(k for r in table for k in r))
        for k in grid:
            clash = [c for c in columns if c == k or c.startswith(k + ".") or k.startswith(c + ".")]
            if clash:
                raise StudyError(f"--grid {k} sets what the scenario table's column '{clash[0]}' sets: each "
                                 "table row would take the grid's values instead of its own", file=str(study),
                                 field=k, allowed="a field either in the table or in --grid, not both")
    total = n_grid * len(rows_in)
    check_size(total, str(study))
    keys = list(grid)
    combos = []
    for row in rows_in:
        for combo in itertools.product(*(grid[k] for k in keys)):
            combos.append({**row, **dict(zip(keys, combo))})
    return overrides, grid, combos, n_grid


def sweep(study, grid: dict[str, list] | None = None, overrides=None, *, engine: Engine | None = None,
          progress=None, table: list[dict] | None = None, fast: bool = True, parsed: dict | None = None,
          materials: bool = True, memo=None) -> list[dict]:
    """:func:`lca_battery.api.sweep` in this process (no Dask client): what the API runs without a cluster
    and what each Dask worker runs on its part of the scenarios. Arguments and rows as there."""
    from .errors import StudyError
    overrides, grid, combos, n_grid = scenarios(study, grid, overrides, table)
    rows_in = table if table is not None else [{}]
    if not fast:
        return _sweep_bw2calc(study, combos, overrides, engine, progress, table is not None, materials)
    from .compiled import CompiledModel, NotCompilable, Scenario, batch_solver
    from .model.entries import BuildMemo
    engine = engine or get_engine()
    if parsed is None:
        parsed = _parsed(study)
    if memo is None:
        memo = BuildMemo()             # parts of the study builds shared by the scenarios (exact: keyed by all they read)
    if table is None and grid:
        frame = _grid_frame(study, grid, overrides, engine, parsed, progress, materials=materials, memo=memo)
        if frame is not None:
            return frame.rows()
    if table is not None:
        rows = _table_rows(study, combos, overrides, engine, parsed, progress, materials=materials, memo=memo)
        if rows is not None:
            return rows
    # batch by batch (SOLVE_BATCH scenarios: built, solved, turned into rows, their studies and mappings dropped),
    # so that the memory of a long sweep is its rows, not every scenario's study
    rows = []
    for start in range(0, len(combos), SOLVE_BATCH):
        prepared = []
        for n in range(start, min(start + SOLVE_BATCH, len(combos))):
            ov = combos[n]
            try:
                st, mapping, eng = prepare_mapping(study, {**overrides, **ov}, engine, parsed=parsed, memo=memo)
            except StudyError as exc:
                if table is not None:
                    from .sweep_table import cell_error
                    raise cell_error(exc, n // n_grid, rows_in[n // n_grid]) from None
                raise
            if eng is not engine and eng.inventory.extra_files:   # a supplier inventory: its own project,
                prepared.append((ov, st, mapping, eng, None))       # solved by bw2calc
                continue                   # (a linked background's engine is compiled like the open one)
            model = CompiledModel.from_engine(eng)
            try:
                sc = Scenario(model.delta(mapping.entries, mapping.cells, mapping.amounts, mapping.layout_key),
                              st.method, dict(st.stage_overrides))      # the layout per study family, as the grid engine
            except NotCompilable:
                sc = None
            prepared.append((ov, st, mapping, eng, sc))
        solved, by_engine = {}, {}
        for i, p in enumerate(prepared):   # one solver per engine (open background, or a linked one)
            if p[4] is not None:
                by_engine.setdefault(id(p[3]), []).append(i)
        for part in by_engine.values():
            solver = batch_solver(prepared[part[0]][3])
            for i, r in zip(part, solver.solve([prepared[i][4] for i in part], materials)):
                solved[i] = r
        for i, (ov, st, mapping, eng, sc) in enumerate(prepared):
            r = solved.get(i)
            rows.append(_sweep_row(ov, st, mapping, r if r is not None else _solve_bw2calc(eng, st, mapping, materials)))
        if progress:
            progress(len(rows), len(combos))
    return rows


def _parsed(study):
    """A study file parsed once (each scenario overrides a deep copy); None when it is reported per scenario."""
    from .errors import StudyError
    if isinstance(study, (str, Path)):
        from .study import read_study_file
        try:
            return read_study_file(study)
        except StudyError:
            return None                            # reported per scenario, as before
    return None


def _grid_frame(study, grid, overrides, engine, parsed, progress, stats=None, materials: bool = True, memo=None,
                pool=None):
    """The grid by separable building and one vectorised solve (:mod:`lca_battery.sweep_engine`), or None
    when that path does not apply (the caller builds every scenario). ``pool``: see ``grid_frame``."""
    from .sweep_engine import Fallback, grid_frame
    try:
        return grid_frame(study, grid, overrides, engine, parsed, progress, stats=stats, materials=materials,
                          memo=memo, pool=pool)
    except Fallback as exc:
        if stats is not None:
            stats["fallback"] = str(exc)
        return None


def _table_rows(study, combos, overrides, engine, parsed, progress, stats=None, materials: bool = True,
                memo=None):
    """A scenario table's rows by the grid engine on the virtual grid of its columns' distinct values
    (:func:`lca_battery.sweep_engine.table_frame`), or None when that path does not apply (the caller
    builds every scenario)."""
    from .sweep_engine import Fallback, column_rows, table_frame
    try:
        cols = table_frame(study, combos, overrides, engine, parsed, progress, stats=stats, materials=materials,
                           memo=memo)
    except Fallback as exc:
        if stats is not None:
            stats["fallback"] = str(exc)
        return None
    return column_rows(cols, len(combos), heads=combos)     # the scenario's values, then the columns


def sweep_frame(study, grid: dict[str, list], overrides=None, *, engine: Engine | None = None, progress=None,
                stats: dict | None = None, materials: bool = True):
    """A grid sweep as columns (:class:`lca_battery.sweep_engine.SweepFrame`: numpy arrays, grid order, the
    last key fastest), for grids of 1e5-1e6 scenarios; ``frame.rows()`` equals :func:`sweep`'s rows
    (``materials``: the ``material:<id>`` columns, see :func:`sweep`).
    ``stats`` receives the number of study builds, the blocks of interacting axes, or why the grid was
    built scenario by scenario."""
    from .sweep_engine import SweepFrame
    rows_grid = dict(grid or {})
    engine = engine or get_engine()
    frame = None
    if rows_grid and all(isinstance(v, (list, tuple)) and v for v in rows_grid.values()):
        from .study import as_overrides
        n = 1
        for v in rows_grid.values():
            n *= len(v)
        if n <= MAX_SCENARIOS:
            frame = _grid_frame(study, rows_grid, as_overrides(overrides, str(study)), engine, _parsed(study),
                                progress, stats, materials)
    if frame is not None:
        return frame
    rows = sweep(study, grid, overrides, engine=engine, progress=progress, materials=materials)   # checks bad input
    keys = list(dict.fromkeys(k for r in rows for k in r))
    cols = {}
    import numpy as np
    for k in keys:
        vals = [r.get(k, float("nan")) for r in rows]
        arr = np.empty(len(vals), dtype=object)
        for i, v in enumerate(vals):
            arr[i] = v
        cols[k] = arr.astype(float) if all(isinstance(v, float) for v in vals) else arr
    return SweepFrame(cols, len(rows), list(rows_grid))


def _sweep_row(ov: dict, st, mapping, r: dict) -> dict:
    """One row of a sweep: the scenario's values, the totals per kWh, kg and cell, stages, gases and, when
    ``r`` has them, the cell's direct inputs (``material:<process id>``, by id; only the inputs the cell has)."""
    tot = r["kg_co2e_per_kwh"]
    return {**ov, "kg_co2e_per_kwh": tot, "kg_co2e_per_kg": tot * mapping.bom_info["energy_density_kwh_per_kg"],
            "kg_co2e_per_cell": tot * st.cell.energy_kwh,
            **{f"stage:{k}": v for k, v in r["stages"].items()}, **{f"gas:{k}": v for k, v in r["gases"].items()},
            **{f"{MATERIAL_PREFIX}{k}": v for k, v in sorted(r.get("materials", {}).items())}}


def _solve_bw2calc(eng: Engine, st, mapping, materials: bool = True) -> dict:
    from .analysis import contribution as contrib
    solved = eng.solve(mapping.entries, st.method)
    solved.stage_overrides = dict(st.stage_overrides)
    stages, _ = contrib.stage_split(eng, solved, mapping.entries)
    out = {"kg_co2e_per_kwh": solved.total, "stages": stages, "gases": contrib.gas_scores(solved)}
    if materials:
        out["materials"] = {m["id"]: m["kg_co2e"] for m in contrib.input_contributions(eng, solved, mapping.cell_id)}
    return out


def _sweep_bw2calc(study, combos, overrides, engine, progress, is_table, materials: bool = True) -> list[dict]:
    """The reference path: bw2calc per scenario (a new LCA and override package each time)."""
    rows = []
    for n, ov in enumerate(combos):
        st, mapping, eng = prepare_mapping(study, {**overrides, **ov}, engine)
        engine = eng
        rows.append(_sweep_row(ov, st, mapping, _solve_bw2calc(eng, st, mapping, materials)))
        if progress:
            progress(n + 1, len(combos))
    return rows
