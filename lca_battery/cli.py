"""The ``lca-battery`` command.

User mistakes (a bad study, a bad inventory, an unknown ``--set`` key) and file-system errors
(permissions, disk full, a missing path) print one message to stderr and exit with status 2,
without a traceback and without writing to ``results/``. Anything else is a bug: status 1 and a
message saying "internal error" (``LCA_BATTERY_DEBUG=1`` shows the traceback).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from pathlib import Path

from .errors import LcaBatteryError, os_error
from .report.limits import MAX_SAMPLES, MAX_SOBOL_N, MAX_STEPS, count_problem   # the API checks them too

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1


@contextlib.contextmanager
def _doing(what: str):
    """An OSError inside becomes one line naming ``what`` was being done and the path."""
    try:
        yield
    except BrokenPipeError:                      # the reader went away (`| head`): not an error of ours
        raise
    except OSError as exc:
        raise os_error(exc, what) from None


def _bw_dir() -> str:
    import os
    return os.environ.get("BRIGHTWAY2_DIR") or "the default Brightway data folder"


def _progress(msg: str) -> None:
    print(f"lca-battery: {msg} ...", file=sys.stderr, flush=True)


def _engine(inventory_root=None):
    from .api import get_engine
    # bw2io prints its import strategies to stdout: keep stdout for results only
    with contextlib.redirect_stdout(sys.stderr), _doing(f"set up the Brightway project in {_bw_dir()}"):
        return get_engine(inventory_root, progress=_progress)


@contextlib.contextmanager
def _progress_bar(desc: str):
    """A tqdm bar on stderr; yields the ``progress(done, total)`` callback the API functions take. Redrawn at most
    ten times a second on a terminal; into a log file (stderr not a terminal) a line every 30 s at most, so that a
    long run's log shows its progress without thousands of redraws. The bar appears at the first progress report:
    a run that fails on its input before any work prints its error alone, not after an empty bar."""
    bars = []

    def update(done: int, total: int) -> None:
        if not bars:
            from tqdm import tqdm
            tty = sys.stderr.isatty()       # into a log file the bar's last state stays, on a line of its own
            bars.append(tqdm(total=total, desc=desc, file=sys.stderr, leave=not tty,
                             mininterval=0.1 if tty else 30.0))
        bar = bars[0]
        bar.total = total
        bar.update(done - bar.n)          # redraws only when mininterval has passed (refresh() would every time)
    try:
        yield update
    finally:
        for bar in bars:
            bar.close()


#: short names of the stages, for a terminal column that lists a site serving several
_STAGE_SHORT = {"raw_material_acquisition": "raw mat.", "main_production": "main prod.",
                "distribution": "distrib.", "end_of_life": "end of life"}


def _short_stage(label: str) -> str:
    """A stage label as a terminal column fits it: one stage as it is, several (a background site's split,
    'raw_material_acquisition 97.1%, main_production 2.9%') with short names."""
    if ", " not in label:
        return label
    for k, v in _STAGE_SHORT.items():
        label = label.replace(k, v)
    return label


def _cut(text: str, n: int) -> str:
    """``text`` in at most ``n`` characters for a terminal column: cut at a word boundary with an ellipsis,
    never mid-word (the full names are in the results files)."""
    if len(text) <= n:
        return text
    head = text[: n - 1]
    space = head.rfind(" ")
    return (head[:space] if space > n // 2 else head).rstrip(" ,;(/") + "\u2026"


def _fmt(v: float, digits: int = 2) -> str:
    return f"{v:,.{digits}f}"


def print_footprint(r: dict, out=None) -> None:
    w = (out or sys.stdout).write      # sys.stdout as it is at the call (a test may have replaced it)
    w(f"{r['label']}\n")
    w(f"Study: {r['study']}  |  {r['chemistry']} cell made in {r['plant_country']}  |  "
      f"method: {r['method']['family']}\n\n")
    w(f"  {'kg CO2e per kWh':<28}{_fmt(r['kg_co2e_per_kwh']):>12}\n")
    w(f"  {'kg CO2e per cell':<28}{_fmt(r['kg_co2e_per_cell']):>12}   "
      f"({r['cell']['energy_kwh']:.4g} kWh, {r['cell']['mass_kg']:.4g} kg)\n")
    w(f"  {'kg CO2e per kg cell':<28}{_fmt(r['kg_co2e_per_kg']):>12}\n\n")
    total = r["kg_co2e_per_kwh"] or 1.0
    w(f"  {'Life-cycle stage':<28}{'kg CO2e/kWh':>12}{'share':>9}\n")
    for k, v in r["stages"].items():
        w(f"  {k:<28}{_fmt(v):>12}{v / total:>9.1%}\n")
    w(f"\n  {'Greenhouse-gas origin':<28}{'kg CO2e/kWh':>12}\n")
    for k, v in r["gases"].items():
        w(f"  {k:<28}{_fmt(v, 3):>12}\n")
    w(f"\n  {'Top processes':<56}{'kg CO2e/kWh':>12}{'share':>9}\n")
    for p in r["top_processes"]:
        w(f"  {_cut(p['name'], 52 - len(p['location'])) + ', ' + p['location']:<56}{_fmt(p['kg_co2e_per_kwh']):>12}{p['share']:>9.1%}\n")
    if r.get("materials"):
        w(f"\n  {'Inputs to the cell (cradle-to-gate)':<56}{'kg CO2e/kWh':>12}{'share':>9}\n")
        for m in r["materials"]:
            w(f"  {_cut(m['name'], 54):<56}{_fmt(m['kg_co2e_per_kwh']):>12}{m['share']:>9.1%}\n")
    if r.get("electricity_sites"):
        w(f"\n  {'Electricity by site':<40}{'stage':<26}{'kWh/kWh':>9}{'kg CO2e/kWh el.':>17}\n")
        for e in r["electricity_sites"][:8]:
            w(f"  {_cut(e['site'], 38):<40}{_cut(_short_stage(e['stage'] or ''), 24):<26}{e['kwh']:>9.3f}"
              f"{e['factor_kg_co2e_per_kwh']:>17.4f}\n")
    if len(r["plant"]["result_by_rule"]) > 1:
        w("\n  Electricity accounting rules (plant):\n")
        for k, v in r["plant"]["result_by_rule"].items():
            mark = "*" if k == r["plant"]["electricity_rule"] else " "
            w(f"  {mark} {_cut(v['rule'], 54):<54}{_fmt(v['kg_co2e_per_kwh']):>12}\n")
    if r.get("rules"):
        ru = r["rules"]
        w(f"\n  Rules: {ru['label']} ({'conforms' if ru['conforms'] else str(len(ru['non_conformities'])) + ' non-conformities'})\n")
        for n in ru["non_conformities"]:
            w(f"    - {n}\n")
    for warning in r.get("warnings", []):
        w(f"  warning: {warning}\n")
    for note in r.get("notes", r["plant"]["electricity_notes"]):
        w(f"  note: {note}\n")
    company = [b["input"] for b in r["bom"] if b["data"] == "company-specific"]
    if company:
        w(f"  company-specific bill of materials for: {', '.join(company)}\n")
    for s in r["suppliers"]:
        if s.get("power"):
            w(f"  supplier power: {s['process']} on {s['power']} in place of its grid\n")
        if s["pcf_kg_co2e_per_kg"] is not None:
            w(f"  supplier figure: {s['process']} = {s['pcf_kg_co2e_per_kg']:g} kg CO2e/kg ({s['source']}, "
              f"{s['verification']}{'' if s.get('used', True) else '; UNUSED'})\n")
    rec = r["recycling"]
    if any(v["R1"] or v["scrap_loop_share"] for v in rec["metals"].values()) or rec["eol"].get("R2"):
        w(f"\n  Recycling ({rec['accounting'].replace('_', ' ')}, route {rec['route']}, chain of custody: "
          f"{rec['chain_of_custody'].replace('_', ' ')})\n")
        for m, v in rec["metals"].items():
            if v["R1"] or v["scrap_loop_share"]:
                split = ("split not stated" if v["R1_pre_consumer"] is None else
                         f"pre-consumer {v['R1_pre_consumer']:.1%}, post-consumer {v['R1_post_consumer']:.1%}")
                w(f"    {m}: recycled content R1 {v['R1']:.1%} ({split}), own scrap loop {v['scrap_loop_share']:.1%}, "
                  f"A = {v['A']:g}\n")
        if rec["eol"].get("R2"):
            w(f"    end of life: {rec['eol']['collection_rate']:.0%} collected, R2 "
              + ", ".join(f"{k} {v:.0%}" for k, v in rec["eol"]["R2"].items() if v) + "\n")
            w(f"    end-of-life burdens {rec['end_of_life_burdens']:.2f}, credits {rec['end_of_life_credits']:.2f} "
              f"kg CO2e/kWh\n")
    energy = r["plant"].get("energy")
    if energy:
        label = energy["profile"] if energy["source"] == energy["profile"] else f"{energy['profile']}; {energy['source']}"
        w(f"\n  Cell-plant energy by step ({label}), per kWh of cell:\n")
        for s in energy["steps"]:
            w(f"    {_cut(s['name'], 62):<62} {s['electricity_kwh_per_kwh']:>7.2f} kWh el {s['heat_mj_per_kwh']:>7.1f} MJ heat\n")
        w(f"    {'total (electricity share, heat as useful heat: ' + format(energy['electricity_share'], '.0%') + ')':<62} "
          f"{energy['electricity_kwh_per_kwh']:>7.2f} kWh el {energy['heat_mj_per_kwh']:>7.1f} MJ heat\n")
    w(f"\n  cobalt: {r['cobalt_kg_per_kwh']:.4f} kg/kWh   plant electricity: "
      f"{r['plant']['electricity_kwh_per_kwh']:.2f} kWh/kWh ({r['plant']['electricity_rule_label']})\n"
      f"  DQR (contribution-weighted): {r['dqr_weighted']:.2f}   most relevant processes (80 %): "
      f"{len(r['most_relevant_processes'])}\n")
    w(f"  inventory {r['inventory']['content_hash'][:12]}  lca_battery {r['software']['lca_battery']}\n")
    bg = r.get("background") or {}
    if bg.get("type") == "licensed database":
        w(f"  background: '{bg['database']}' (project '{bg['project']}'), {len(bg['linked'])} open nodes linked, "
          f"{len(bg['open_nodes_kept'])} kept open\n")


def run_name(study: str, sets) -> str:
    """Results folder name: the study's file stem, plus the overrides (hashed when long). If a folder
    of that name belongs to another study or override set, a hash of this run's identity is appended
    (see :func:`~lca_battery.report.outputs.write_atomic`)."""
    import hashlib
    from .report.outputs import slug
    name = slug(Path(study).stem if not sets else Path(study).stem + "-" + "-".join(sets))
    if len(name) > 80:
        name = f"{slug(Path(study).stem)}-{hashlib.sha256(' '.join(sets).encode()).hexdigest()[:10]}"
    return name


def _owner(command: str, args, **extra) -> dict:
    """What a results folder belongs to: the command, the study file (resolved) and the overrides."""
    try:
        study = str(Path(args.study).resolve())
    except OSError:
        study = str(args.study)
    return {"command": command, "study": study, "overrides": list(args.set or []), **extra}


def _footprint_engine(study=None, overrides=None):
    """The warm engine (cached compiled model, no Brightway import) when its cache is valid, else the
    cold one, which builds the project as :func:`_engine` and writes the cache (:mod:`lca_battery.warm`);
    on the study's licensed background when it names one (its own cache)."""
    from .warm import footprint_engine
    with contextlib.redirect_stdout(sys.stderr), _doing(f"set up the Brightway project in {_bw_dir()}"):
        return footprint_engine(progress=_progress, study=study, overrides=overrides)


def cmd_footprint(args) -> int:
    workers = {}
    if not args.no_write:
        # forked before the heavy imports: the children import matplotlib and XlsxWriter while this process computes
        from .report.workers import start_footprint_workers
        workers = start_footprint_workers()
    staged = []                              # the temporary results folder, once made
    try:
        from .api import footprint
        from .report.outputs import send_chart, staging_folder, to_json, write_footprint
        out = None if args.no_write else Path(args.out) / run_name(args.study, args.set)

        def headline(result):
            # the chart worker starts drawing as soon as the headline is known, into the folder made for it now
            staged.append(staging_folder(out))
            send_chart(workers["chart"], result, staged[0])
        engine = _footprint_engine(args.study, args.set or [])
        result = footprint(args.study, args.set or [], engine=engine,
                           on_headline=headline if workers.get("chart") is not None else None)
        if out is not None:
            with _doing(f"write results to {out}"):
                out = write_footprint(result, out, args.study, command=args.argv, owner=_owner("footprint", args),
                                      sets=args.set or [], workers=workers, tmp=staged[0] if staged else None)
            staged.clear()                   # moved into place (or removed by write_footprint on its error)
            result_dir = str(out)
        else:
            result_dir = None
    finally:
        for worker in workers.values():      # those not sent anything (an error before writing): killed; those
            worker.close()                   # drawing into the staged folder: waited for
        for tmp in staged:                   # an error before the folder was written: nothing left in results/
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        slim = {k: v for k, v in result.items() if k != "processes"}
        slim["results_dir"] = result_dir
        print(to_json(slim))
    else:
        print_footprint(result)
        if result_dir:
            files = ", ".join(sorted(p.name for p in Path(result_dir).iterdir()))
            print(f"\n  written to {result_dir}/ ({files})")
    return 0


def cmd_compare(args) -> int:
    from .api import compare
    from .report.outputs import slug, to_json, write_compare
    engine = _footprint_engine(args.study, args.set or [])     # warm when its cache is valid, as footprint
    with _progress_bar("recycled-content curves") as progress:
        result = compare(args.study, args.set or [], engine=engine, steps=args.steps, progress=progress)
    out = None
    if not args.no_write:
        out = Path(args.out) / (slug(Path(args.study).stem) + "-compare")
        with _doing(f"write results to {out}"):
            out = write_compare(result, out, args.study, owner=_owner("compare", args, steps=args.steps))
    if args.json:
        print(to_json({**result, "results_dir": str(out) if out else None}))
        return 0
    w = sys.stdout.write
    w(f"Recycled versus virgin supply  |  {result['chemistry']} cell made in {result['plant_country']}  |  "
      f"study accounting: {result['accounting_of_study']}\n\n")
    w(f"  {'material':<58}{'kg CO2e/kg':>11}{'per kg metal':>14}{'vs virgin':>11}\n")
    for m in result["materials"]:
        vs = f"{m['vs_virgin']:+.0%}" if "vs_virgin" in m else ""
        w(f"  {_cut(m['metal'] + ': ' + m['supply'] + ', ' + m['material'], 56):<58}{m['kg_co2e_per_kg']:>11.2f}"
          f"{m['kg_co2e_per_kg_metal']:>14.2f}{vs:>11}\n")
    notes = sorted({m["note"] for m in result["materials"] if m.get("note")})
    for key in ("metals_not_in_cell_note", "supplier_note"):
        if result.get(key):
            notes.append(result[key])
    for n in notes:
        w(f"  note: {n}\n")
    from .report.outputs import boundary_note
    w("\n  kg CO2e per kWh of cell at recycled content (post-consumer) of one metal:\n")
    if boundary_note(result):
        w(f"  ({boundary_note(result)})\n")
    mins = result["eu_minimum_recycled_content"]
    shown_metals = [m for m in ("Co", "Ni", "Li") if any(r["metal"] == m for r in result["curves"])]
    for metal in shown_metals:
        pts = [r for r in result["curves"] if r["metal"] == metal]
        xs = sorted({r["recycled_content"] for r in pts})
        shown = [0.0, *(mins[y].get(metal, 0.0) for y in sorted(mins)), 0.5, 1.0]
        # the points computed (one left out for every rule, as past the scrap loop's share, is no column; one left
        # out for some rules shows '-' there), each once
        cols = list(dict.fromkeys(x for s in shown for x in xs if abs(x - s) < 1e-9))
        note = "   (EU minimum 2031, 2036 in the 2nd and 3rd column)" if metal == shown_metals[0] else ""
        w(f"  {metal:<4}{'':<16}" + "".join(f"{c:>9.0%}" for c in cols) + note + "\n")
        for acc in ("cut_off", "avoided_burden", "cff"):
            vals = {r["recycled_content"]: r["kg_co2e_per_kwh"] for r in pts if r["accounting"] == acc}
            w(f"      {acc:<16}" + "".join(f"{vals[c]:>9.2f}" if c in vals else f"{'-':>9}" for c in cols) + "\n")
    def shares(d: dict) -> str:
        return ", ".join(f"{k} {v:.0%}" for k, v in d.items())
    w(f"\n  EU minimum recycled content (Reg. 2023/1542 Art. 8): 2031: {shares(mins['2031'])}; "
      f"2036: {shares(mins['2036'])}\n")
    targets = result["eu_material_recovery_targets"]
    w("  Material recovery of the routes for this cell, as modelled (metal in the route's products / in its feed),\n"
      "  against Reg. 2023/1542 Annex XII Part C: "
      + "; ".join(f"{y}: {shares(t)}" for y, t in targets.items()) + "\n")
    for r in result["routes"]:
        verdict = "; ".join(f"{y} " + (f"below for {', '.join(r['below'][y])}" if r["below"][y] else "met")
                            for y in targets)
        rates = ", ".join(f"{k} {v:.1%}" for k, v in r["recovery"].items())
        w(f"    {r['route']:<12}{rates:<42}{verdict}\n")
    complete = [f"{r['route']} {', '.join(r['complete'])}" for r in result["routes"] if r.get("complete")]
    if complete:
        w(f"  100 % ({'; '.join(complete)}): the source's product masses over the feed, not a measured rate, so an "
          "upper bound (how each was derived: allocation_note of the route in inventories/recycling)\n")
    cff = result["cff_parameters"]
    w(f"  CFF: A = {', '.join(f'{k} {v:g}' for k, v in cff['A'].items())}; Qsin/Qp = {cff['qsin_qp']:g}, "
      f"Qsout/Qp = {cff['qsout_qp']:g} ({cff['reason']})\n")
    w(f"  {result['critical_review']}\n")
    if out:
        w(f"\n  written to {out}/ (compare.json, materials.csv, curves.csv, recovery.csv, curves.png, curves.svg, "
          "manifest.json)\n")
    return 0


@contextlib.contextmanager
def _table_errors(table: str | None, study: str):
    """A bad value in a cell of the scenario table is reported against the table file (its row and column
    named), not against the study it overrides."""
    from .errors import TableCellError
    try:
        yield
    except TableCellError as exc:
        if table and exc.column:
            raise TableCellError(f"{exc.message} (study {study})", row=exc.row, column=exc.column, file=table,
                                 field=exc.field, allowed=exc.allowed) from None
        raise


def _set_keys(sets: list[str] | None) -> list[str]:
    """The study paths of ``KEY=VALUE`` options (--set, --paired-set)."""
    return [s.split("=", 1)[0].strip() for s in sets or []]


@contextlib.contextmanager
def _option_errors(option: str, keys):
    """A study error on one of ``keys`` (the study paths an option sets) says which option set it, as ``--set``'s
    errors do: ``unknown key 'plant.countryy' (in --grid)``."""
    from .errors import StudyError, TableCellError
    keys = [k for k in keys if k]
    try:
        yield
    except StudyError as exc:
        f = exc.field or ""
        if isinstance(exc, TableCellError) or f"in {option}" in exc.message or not any(
                f == k or f.startswith(k + ".") or k.startswith(f + ".") for k in keys):
            raise
        raise StudyError(f"{exc.message} (in {option})", file=exc.file, field=exc.field,
                         allowed=exc.allowed) from None


def cmd_sweep(args) -> int:
    from .api import sweep
    from .report.outputs import slug, to_json, write_table
    from .sweep_table import read_scenario_table
    grid = _grid(args.grid)
    if not grid and not args.table:
        raise LcaBatteryError("sweep needs --grid KEY=V1,V2,... or --table FILE (or both)")
    table = read_scenario_table(args.table) if args.table else None
    with _cluster(args) as client:         # an unreachable scheduler fails before the engine is set up
        engine = _footprint_engine(args.study, args.set or [])     # warm: the compiled model, no bw2data
        with _progress_bar("scenarios") as progress, _table_errors(args.table, args.study):
            rows = sweep(args.study, grid, args.set or [], engine=engine, progress=progress, table=table, client=client,
                         materials=not args.no_materials)
    out = None
    if not args.no_write:
        out = Path(args.out) / (slug(Path(args.study).stem) + "-sweep")
        with _doing(f"write results to {out}"):
            out = write_table(rows, out, "sweep", args.study,
                              owner=_owner("sweep", args, grid=args.grid, table=args.table), parquet=True)
    if args.json:
        print(to_json(rows))        # a list of rows: the folder written is named on stderr
        if out:
            print(f"written to {out}/", file=sys.stderr)
        return 0
    cols = list(dict.fromkeys([*(k for r in (table or []) for k in r), *grid])) + ["kg_co2e_per_kwh",
                                                                                    "kg_co2e_per_cell"]
    shown = rows if len(rows) <= 200 else rows[:200]
    width = {c: max(12, len(c)) for c in cols}       # each column as wide as its full key (no cut names)
    print("  ".join(f"{c:>{width[c]}}" for c in cols))
    for r in shown:
        print("  ".join(f"{r[c]:>{width[c]}.4f}" if isinstance(r.get(c), float) else f"{str(r.get(c, '')):>{width[c]}}"
                        for c in cols))
    if len(rows) > len(shown):
        print(f"  ... {len(rows) - len(shown):,} more scenarios in the results files")
    if out:
        files = "sweep.csv, sweep.json" + (", sweep.parquet" if (out / "sweep.parquet").exists() else "")
        print(f"\n  written to {out}/ ({files}, manifest.json)")
    return 0


def cmd_uncertainty(args) -> int:
    from .api import uncertainty
    from .report.outputs import slug, to_json, write_uncertainty
    paired_with, paired_set = args.paired_with, list(args.paired_set or [])
    if paired_set and not paired_with:      # the same study, with the base's --set and then --paired-set
        paired_with, paired_set = args.study, [*(args.set or []), *paired_set]
    if paired_with and not Path(paired_with).is_file():
        raise LcaBatteryError(f"study file not found: {paired_with}", field="--paired-with")
    grid = _grid(args.paired_grid, "--paired-grid")
    scenarios = None
    if grid:
        import itertools
        scenarios = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    with _cluster(args) as client:
        engine = _footprint_engine(args.study, args.set or [])     # warm: the compiled model, no bw2data
        with _progress_bar("Monte Carlo") as progress, \
                _option_errors("--paired-set", _set_keys(args.paired_set)), _option_errors("--paired-grid", grid):
            result = uncertainty(args.study, args.set or [], engine=engine, samples=args.samples, seed=args.seed,
                                 progress=progress, paired_with=paired_with, paired_overrides=paired_set or None,
                                 client=client, scenarios=scenarios)
    out = None
    if not args.no_write:
        out = Path(args.out) / (slug(Path(args.study).stem) + "-uncertainty")
        with _doing(f"write results to {out}"):
            paired = {"paired_with": str(Path(paired_with).resolve()), "paired_set": paired_set} if paired_with else {}
            if grid:
                paired["paired_grid"] = list(args.paired_grid)
            out = write_uncertainty(result, out, args.study,
                                    owner=_owner("uncertainty", args, samples=args.samples, seed=args.seed, **paired))
    if args.json:
        print(to_json({**{k: v for k, v in result.items() if k not in ("samples", "scenario_samples")},
                       **({"results_dir": str(out)} if out else {})}))
        return 0
    s = result["kg_co2e_per_kwh"]
    print(f"Monte Carlo, {s['n']} samples (seed {result['seed']}), kg CO2e per kWh")
    print(f"  deterministic {s['deterministic']:.2f}   median {s['median']:.2f}   mean {s['mean']:.2f}   "
          f"sd {s['sd']:.2f} (CV {s['cv']:.1%})")
    print(f"  95 % interval {s['p2_5']:.2f} - {s['p97_5']:.2f}   90 % interval {s['p5']:.2f} - {s['p95']:.2f}")
    p = result.get("paired")
    if p:
        b, d = p["kg_co2e_per_kwh"], p["difference"]
        what = " ".join([str(paired_with) if paired_with != args.study else "the same study",
                         *(f"--set {x}" for x in paired_set)])
        print(f"  B = {p['study']} ({what}), same draws on every exchange (paired):")
        print(f"  B: deterministic {b['deterministic']:.2f}   median {b['median']:.2f}   mean {b['mean']:.2f}   "
              f"95 % interval {b['p2_5']:.2f} - {b['p97_5']:.2f}")
        print(f"  A - B: deterministic {d['deterministic']:.3f}   mean {d['mean']:.3f}   median {d['median']:.3f}   "
              f"95 % interval {d['p2_5']:.3f} - {d['p97_5']:.3f}")
        print(f"  probability that B < A: {p['share_other_lower']:.1%}   (A < B: {p['share_lower']:.1%})")
    if result.get("scenarios"):
        print(f"  paired scenarios (the study with these values, same draws on every exchange); S - A and "
              f"P(S < A) against the study:")
        keys = list(grid)
        width = {k: max(len(k), *(len(str(sc["values"][k])) for sc in result["scenarios"])) for k in keys}
        print("    " + "  ".join(f"{k:>{width[k]}}" for k in keys)
              + f"  {'median':>8}  {'95 % interval':>18}  {'S - A median':>12}  {'S - A 95 % interval':>22}"
              + f"  {'P(S < A)':>8}")
        for sc in result["scenarios"]:
            v, d = sc["kg_co2e_per_kwh"], sc["difference"]
            print("    " + "  ".join(f"{str(sc['values'][k]):>{width[k]}}" for k in keys)
                  + f"  {v['median']:>8.2f}  {v['p2_5']:>7.2f} to {v['p97_5']:<7.2f}  {d['median']:>12.3f}"
                  + f"  {d['p2_5']:>9.3f} to {d['p97_5']:<9.3f}  {sc['share_lower']:>8.1%}")
    print(f"  distributions: {result['method']}")
    print(f"  {result['statement']}")
    if out:
        print(f"\n  written to {out}/ (uncertainty.json, samples.csv, "
              f"{'scenarios.csv, ' if result.get('scenarios') else ''}histogram.png, histogram.svg, manifest.json)")
    return 0


def cmd_report(args) -> int:
    from .api import report
    from .report.outputs import check_report_target, write_report
    check_report_target(Path(args.out))        # before the runs: a wrong --out fails at once
    engine = _footprint_engine(args.study, args.set or [])     # warm when its cache is valid, as footprint
    with _progress_bar("sensitivity runs") as progress:
        rep = report(args.study, args.set or [], engine=engine, samples=args.samples, seed=args.seed,
                     sobol_n=args.sobol_n, progress=progress)
    out = write_report(rep, Path(args.out), args.study, sets=args.set or [])
    r = rep["result"]
    print(f"{r['label']}: {r['kg_co2e_per_kwh']:.2f} kg CO2e/kWh ({r['study']})")
    print(f"  report written to {out}/report.html ({len(list(out.iterdir()))} files)")
    return 0


def cmd_export_pact(args) -> int:
    from .api import pact
    from .report.outputs import to_json
    pf = pact(args.study, args.set or [], engine=_footprint_engine(args.study, args.set or []), file=args.study)
    text = to_json(pf)
    if not args.out or args.out == "-":
        print(text)
        return 0
    out = Path(args.out)
    if out.is_dir():
        raise LcaBatteryError(f"--out {out} is a folder: give a file name, e.g. {out / 'pact.json'}")
    with _doing(f"write the PACT footprint to {out}"):
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(out)
    pcf = pf["pcf"]
    print(f"PACT {pf['specVersion']} ProductFootprint {pf['id']}: {pcf['pcfExcludingBiogenicUptake']} kg CO2e per "
          f"{pcf['declaredUnitOfMeasurement']} ({pf['productNameCompany']}), written to {out}")
    return 0


def cmd_datasets(args) -> int:
    from .api import footprint
    from .report.outputs import to_json
    result = footprint(args.study, args.set or [], engine=_footprint_engine(args.study, args.set or []),
                       details=False)
    rows = result["datasets"]
    if args.json:
        print(to_json(rows))
        return 0
    print(f"{len(rows)} datasets used by {result['study']} (DQR: 1 excellent ... 5 poor)\n")
    print(f"  {'dataset':<44}{'geo':<6}{'year':>5}{'DQR':>6}  {'data':<22} sources")
    for d in rows:
        dqr = f"{d['dqr']:.2f}" if d["dqr"] is not None else "  -"
        src = "; ".join(d.get("source_keys") or d["sources"])
        print(f"  {_cut(d['id'], 43):<44}{d['location']:<6}{d['reference_year'] or '':>5}{dqr:>6}  "
              f"{_cut(d['data'], 21):<22} {src}")
    return 0


def cmd_verify(args) -> int:
    from .report.outputs import to_json
    from .report.verify import verify
    with contextlib.ExitStack() as stack:
        bar = []

        def progress(done: int, total: int) -> None:     # a bar only once a report's Sobol' runs start
            if not bar:
                bar.append(stack.enter_context(_progress_bar("re-running the report's Sobol' runs")))
            bar[0](done, total)
        v = verify(args.dir, engine_factory=_engine, full=args.full, progress=progress, study_file=args.study)
    if args.json:
        print(to_json({"folder": v.folder, "ok": v.ok, "hash_only": v.hash_only,
                       "checks": [{"file": c.file, "ok": c.ok, "detail": c.detail, "recomputed": c.recomputed}
                                  for c in v.checks]}))
    else:
        print(f"Verifying {v.folder} against its manifest.json\n")
        for c in v.checks:
            print(f"  {'OK  ' if c.ok else 'FAIL'} {c.file:<28} {c.detail}")
        failed = [c.file for c in v.checks if not c.ok]
        if not v.ok:
            print(f"\n  NOT verified: {len(failed)} file(s) fail: {', '.join(failed)}")
        elif v.hash_only:
            print(f"\n  verified: every recomputed number matches; {len(v.hash_only)} file(s) checked by hash "
                  f"only, not recomputed: {', '.join(v.hash_only)} (--full re-runs them)")
        else:
            print("\n  verified: every number matches")
    return 0 if v.ok else 1


def cmd_check(args) -> int:
    from .inventory.loader import load_inventory
    inv = load_inventory(Path(args.inventories) if args.inventories else None)
    bw = ""
    if args.brightway:
        engine = _engine(args.inventories)
        bw = (f"; Brightway project '{engine.project}' built and its biosphere flows linked "
              f"({', '.join(engine.databases)})")
    n_ex = sum(len(p.exchanges) for p in inv.processes.values())
    print(f"OK: {len(inv.processes)} processes, {n_ex} exchanges, {len(inv.sources)} sources "
          f"in {inv.root} (content hash {inv.content_hash[:12]}){bw}")
    return 0


def cmd_chemistries(args) -> int:
    from .inventory.loader import load_inventory
    from .model.cell import bill_of_materials, complete_voltage, formats
    from .model.superstructure import all_processes, chemistries
    from .study import DEFAULT_STUDY, load_study
    inv = load_inventory()
    procs = all_processes(inv)
    print(f"{'chemistry':<10} {'process':<14} {'V':>6} {'kWh/kg':>7} {'lit.*':>6}  {'formats':<30} name")
    for name, p in sorted(chemistries(inv).items()):
        fmts = ", ".join(formats(p)) or str(p.extra.get("cell_format", ""))
        # the default study's cell of this chemistry (pouch, its design voltage): what a study computes with
        cell = {k: v for k, v in DEFAULT_STUDY["cell"].items() if k != "nominal_voltage_v"}
        st = complete_voltage(load_study({**DEFAULT_STUDY, "cell": {**cell, "chemistry": name}}), p)
        ed = bill_of_materials(st, p, procs)[1]["energy_density_kwh_per_kg"]
        print(f"{name:<10} {p.id:<14} {st.cell.nominal_voltage_v:>6.3f} {ed:>7.3f} "
              f"{float(p.extra['energy_density_kwh_per_kg']):>6.3f}  {fmts:<30} {p.name}")
    print("V, kWh/kg: the default study's pouch cell of the chemistry (design voltage, cell design model where the "
          "cell has one), as footprint computes it; * lit.: the inventory's literature default (cells.yaml, "
          "energy_density_source), for comparison")
    return 0


@contextlib.contextmanager
def _cluster(args):
    """The Dask client of ``--workers N`` / ``--scheduler ADDRESS`` (None: serial)."""
    from .distributed import client
    with client(getattr(args, "workers", None), getattr(args, "scheduler", None)) as c:
        yield c


def _dask_options(p) -> None:
    p.add_argument("--workers", type=_count(1), metavar="N",
                   help="solve the scenarios (a grid as sub-grids, a table or samples as chunks) on a local Dask "
                        "cluster of N worker processes (results equal the serial run)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="the same on a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (see README, Dask)")


def _grid(items, option: str = "--grid") -> dict:
    """``--grid KEY=V1,V2,...`` options -> {key: [values]} (values parsed as study values)."""
    from .study import _parse_value
    grid = {}
    for g in items or []:
        if "=" not in g:
            raise LcaBatteryError(f"{option} expects KEY=V1,V2,... (got {g!r})")
        key, values = g.split("=", 1)
        if key.strip() in grid:
            raise LcaBatteryError(f"{option} {key.strip()} given twice: give all its values at once, e.g. "
                                  f"{key.strip()}=A,B,C")
        if not values.strip() or any(not v.strip() for v in values.split(",")):
            raise LcaBatteryError(f"{option} {key.strip()} has an empty value (got {values!r})", field=key.strip(),
                                  allowed="one value or more, e.g. plant.country=CN,SE")
        grid[key.strip()] = [_parse_value(v, key.strip()) for v in values.split(",")]
    return grid


def cmd_export(args) -> int:
    from .export.run import export
    engine = _engine()
    with _doing(f"write the export to {args.out}"):
        done = export(args.study, args.format, Path(args.out), args.set or [], _grid(args.grid), engine=engine)
    print(f"{done['format']}: {len(done['scenarios'])} scenario(s) "
          f"({', '.join(done['scenarios'])}) written to {done['path']}")
    for note in done.get("notes", []):
        print(f"  note: {note}")
    return 0




def _count(minimum: int, maximum: int | None = None, why: str = "", power_of_two: bool = False):
    """argparse type: an integer >= ``minimum`` (and <= ``maximum``, ``why`` saying what the bound is for; with
    ``power_of_two``, 0 or a power of 2), worded as the API words it (:func:`lca_battery.report.limits.count_problem`)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        problem = count_problem(value, minimum, maximum, why, power_of_two)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value
    return parse


#: argparse type of ``--sobol-n``: 0 (skip) or a power of 2 (SALib's Sobol' sequence needs one)
_power_of_two_or_zero = _count(0, MAX_SOBOL_N, ": up to 9 N runs", power_of_two=True)


def _study_command(sub, name: str, help: str, func, *, write: bool = True):
    """A sub-command on a study: STUDY, --set (repeatable), --json and, if it writes, --out/--no-write."""
    p = sub.add_parser(name, help=help)
    p.add_argument("study", help="study file (YAML), e.g. examples/nmc811-cn.yaml")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a study field by its dotted path, e.g. plant.country=SE (repeatable)")
    p.add_argument("--json", action="store_true",
                   help="print JSON instead of tables" if name != "export-pact" else
                   "accepted for symmetry: the export is JSON either way")
    if write:
        p.add_argument("--out", default="results", help="results folder (default: results)")
        p.add_argument("--no-write", action="store_true", help="do not write files under --out")
    p.set_defaults(func=func)
    return p


class _Parser(argparse.ArgumentParser):
    """argparse's parser with one line per mistake (a bad option value, an unknown option), as every other error
    of the command line: the usage block is what --help shows, not part of the error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    ap = _Parser(prog="lca-battery", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"lca_battery {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    _study_command(sub, "footprint", "cradle-to-gate carbon footprint of a study's cell", cmd_footprint)
    cp = _study_command(sub, "compare", "recycled versus virgin: per material and per cell, three accounting rules",
                        cmd_compare)
    cp.add_argument("--steps", type=_count(2, MAX_STEPS), default=11,
                    help="points per recycled-content curve (default 11)")
    sw = _study_command(sub, "sweep", "footprints over a grid of study values (one solve each, same matrices)",
                        cmd_sweep)
    sw.add_argument("--grid", action="append", metavar="KEY=V1,V2,...",
                    help="a study field and its values, e.g. plant.country=CN,SE,PL (repeatable: Cartesian product)")
    sw.add_argument("--table", metavar="FILE",
                    help="scenario table (CSV or XLSX): one row a scenario, one column a study field "
                         "(values as in --set, mappings included); combined with --grid as a product")
    sw.add_argument("--no-materials", action="store_true",
                    help="leave out the material:<id> columns (the cell's direct inputs); a large grid solves faster")
    _dask_options(sw)
    un = _study_command(sub, "uncertainty", "Monte Carlo from the datasets' data quality (pedigree factors)",
                        cmd_uncertainty)
    un.add_argument("--samples", type=_count(2, MAX_SAMPLES, ": the samples are kept in memory"), default=10_000,
                    help="Monte Carlo samples (default 10,000, about 1-2 s with the vectorised engine; the "
                         "percentiles of a few hundred samples move by several percent from one seed to another)")
    un.add_argument("--seed", type=_count(0), default=42,
                    help="seed of the sampling (default 42): the same seed gives the same samples")
    un.add_argument("--paired-with", metavar="OTHER_STUDY",
                    help="paired Monte Carlo: study B sampled with the same draws on every exchange; prints and "
                         "writes the distribution of A - B and the probability that B < A")
    un.add_argument("--paired-set", action="append", metavar="KEY=VALUE",
                    help="override a field of study B (repeatable); without --paired-with, B is this study "
                         "with its --set and these")
    un.add_argument("--paired-grid", action="append", metavar="KEY=V1,V2,...",
                    help="paired scenarios: this study with its --set and each combination of these values "
                         "(repeatable: Cartesian product, as sweep --grid), all sampled with the same draws; prints "
                         "and writes each one's distribution, its difference to the study and the probability "
                         "that it is lower")
    _dask_options(un)
    rp = sub.add_parser("report", help="ISO 14067 study report (HTML, workbook, sensitivity) into a folder")
    rp.add_argument("study", help="study file (YAML), e.g. examples/nmc811-cn.yaml")
    rp.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a study field (repeatable)")
    rp.add_argument("--out", required=True, help="report folder (written all or nothing)")
    rp.add_argument("--samples", type=_count(2, MAX_SAMPLES, ": the samples are kept in memory"), default=10_000,
                    help="Monte Carlo samples (default 10,000, as `uncertainty`: a few hundred leave the 2.5 and "
                         "97.5 %% tails several percent apart from one seed to another)")
    rp.add_argument("--sobol-n", type=_power_of_two_or_zero, default=128,
                    help="Sobol base sample N, a power of 2 (up to 9 N runs; default 128; 0 skips)")
    rp.add_argument("--seed", type=_count(0), default=42, help="seed of Monte Carlo and Sobol sampling (default 42)")
    rp.set_defaults(func=cmd_report)
    xp = _study_command(sub, "export-pact", "the result as a WBCSD PACT v3 ProductFootprint (JSON)", cmd_export_pact,
                        write=False)
    xp.add_argument("--out", help="JSON file to write (default: print to stdout)")
    _study_command(sub, "datasets", "the datasets a study uses: source, licence, geography, year, DQR", cmd_datasets,
                   write=False)
    vf = sub.add_parser("verify", help="re-run a footprint results folder or a study report folder from its "
                                       "manifest and compare, file by file (exit 1 if anything changed)")
    vf.add_argument("dir", help="folder written by `lca-battery footprint` or `lca-battery report` (holds "
                                "manifest.json)")
    from .report import limits          # no imports: the help states verify's own limits
    vf.add_argument("--full", action="store_true",
                    help="re-run a report's Monte Carlo and Sobol' indices whatever their size (by default above "
                         f"{limits.MAX_RECOMPUTE_SAMPLES:,} samples / {limits.MAX_RECOMPUTE_SOBOL_RUNS:,} Sobol' runs "
                         "those files are checked by hash only, and the output says so)")
    vf.add_argument("--study", metavar="FILE", help="the study file, when it is not where the manifest records it "
                                                   "(relative to the folder); its SHA-256 must match all the same")
    vf.add_argument("--json", action="store_true", help="print JSON instead of a table")
    vf.set_defaults(func=cmd_verify)
    ex = sub.add_parser("export", help="write studies for other tools: Activity Browser scenario file, openLCA "
                                       "JSON-LD zip, Brightway Excel")
    ex.add_argument("study", nargs="+", help="study file(s) (YAML); each one (x each --grid combination) is a "
                                             "scenario column in ab-scenarios")
    ex.add_argument("--format", required=True, choices=["ab-scenarios", "olca", "bw-excel"],
                    help="ab-scenarios: .csv/.xlsx scenario difference file; olca: openLCA JSON-LD .zip; "
                         "bw-excel: folder of bw2io Excel workbooks")
    ex.add_argument("--out", required=True, help="file (ab-scenarios, olca) or folder (bw-excel) to write")
    ex.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a study field (repeatable)")
    ex.add_argument("--grid", action="append", metavar="KEY=V1,V2,...",
                    help="a study field and its values; every combination is a scenario (repeatable)")
    ex.set_defaults(func=cmd_export)
    ck = sub.add_parser("check-inventories", help="validate the inventory files")
    ck.add_argument("--inventories", help="inventory folder (default: the shipped one)")
    ck.add_argument("--brightway", action="store_true", help="also write them to Brightway (checks flows)")
    ck.set_defaults(func=cmd_check)
    ch = sub.add_parser("chemistries", help="list the cell chemistries available")
    ch.set_defaults(func=cmd_chemistries)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the command; as the program (``argv`` None: the ``lca-battery`` entry point, ``python -m
    lca_battery``) the process then ends at once (:func:`_exit`)."""
    status = _main(argv)
    if argv is None:
        _exit(status)
    return status


def _exit(status: int) -> None:
    """End the process without the interpreter's teardown (collecting every module of NumPy, SciPy,
    pydantic, ...: about 0.07 s of a 1 s command): output flushed, atexit handlers run (they close what
    needs closing: logging, weakref finalizers, temporary folders), then ``os._exit``.
    ``LCA_BATTERY_FULL_EXIT=1`` keeps the usual exit."""
    import os
    if os.environ.get("LCA_BATTERY_FULL_EXIT") == "1":
        return
    import atexit
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):           # a closed pipe (`| head`): status 120, as Python's own exit
            if stream is sys.stdout:
                status = 120
    atexit._run_exitfuncs()
    os._exit(status)


#: Commands whose --out is the folder that holds their results folders (results/<study>/), not a file or the
#: results folder itself.
OUT_HOLDS_RESULTS = ("footprint", "compare", "sweep", "uncertainty")


def _check_out(args) -> None:
    """``--out`` may not write into the results folder of another run (one with a manifest.json): a file put there
    would replace one of its files, and a folder nested there would not be one of its outputs either way."""
    out = getattr(args, "out", None)
    if not out or out == "-" or getattr(args, "no_write", False):
        return
    p = Path(os.path.abspath(out))      # '..' from inside a results folder is its parent, not '.'
    inside = [p.parent] + ([p] if args.command in OUT_HOLDS_RESULTS
                           or (args.command == "export" and args.format == "bw-excel") else [])
    for folder in inside:
        if (folder / "manifest.json").is_file():
            raise LcaBatteryError(f"{folder} is the results folder of another run (it has manifest.json): write "
                                  "beside it, not into it", field="--out",
                                  allowed=f"a path outside {folder}, e.g. {folder.parent}")


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = ["lca-battery", *argv] if argv is not None else list(sys.argv)
    try:
        _check_out(args)
        grid = getattr(args, "grid", None)
        grid_keys = [g.split("=", 1)[0].strip() for g in grid] if isinstance(grid, list) else []
        # every command's study errors say which option gave the key (as footprint's and sweep's own do)
        with _doing(f"run '{args.command}'"), _option_errors("--set", _set_keys(getattr(args, "set", None))), \
                _option_errors("--grid", grid_keys):
            return args.func(args)
    except LcaBatteryError as exc:
        print(f"lca-battery: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # the reader of stdout closed it (`lca-battery ... | head`): stop quietly, as other command-line tools
        # do, with the status of a process ended by SIGPIPE; stdout goes to devnull so that its final flush
        # cannot fail again (Python's documented idiom for SIGPIPE)
        import os
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):  # pragma: no cover - stdout without a descriptor
            pass
        return 141
    except KeyboardInterrupt:  # pragma: no cover
        print("lca-battery: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:   # a bug, not the user's mistake: say so, status 1
        import os
        import traceback
        if os.environ.get("LCA_BATTERY_DEBUG"):
            traceback.print_exc()
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
        print(f"lca-battery: internal error (a bug in lca_battery, not in your input): {type(exc).__name__}: "
              f"{str(exc)[:300]}{at}; please report it with the command line (LCA_BATTERY_DEBUG=1 shows the "
              f"traceback)", file=sys.stderr)
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
