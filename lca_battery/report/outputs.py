"""Writing a run's results: JSON summary, CSV tables (open in Excel), manifest with hashes.

Everything is written into a temporary folder beside the target and moved into place only when
complete, so a failed run leaves nothing half-written in ``results/``. A results folder records
its owner (command, study file, overrides) in ``manifest.json``; a run never replaces a folder that
belongs to another study, override set or to nobody (a folder lca_battery did not write): it
writes ``<name>-<hash of its owner>`` instead. JSON never holds NaN or Infinity.
"""
from __future__ import annotations

import csv
import datetime
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower() or "study"


def _json_default(obj):
    try:
        import numpy as np
        if isinstance(obj, np.generic):
            return obj.item()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"not JSON serializable: {type(obj)}")


def to_json(result: dict, indent: int | None = 2) -> str:
    # allow_nan=False: NaN / Infinity are not JSON; inputs are validated so that none can arise
    return json.dumps(result, indent=indent, default=_json_default, ensure_ascii=False, allow_nan=False)


def _csv(path: Path, rows: list[dict], fields: list[str] | None = None) -> None:
    fields = fields or (list(rows[0]) if rows else [])
    # utf-8-sig: Excel detects the encoding; one header line, plain decimal points
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (repr(float(v)) if isinstance(v, (float, np.floating)) else v) for k, v in r.items()})


def footprint_tables(result: dict) -> dict[str, tuple[list[dict], list[str]]]:
    """The tables of a footprint result, by file stem: (rows, columns). Each is a CSV file of the results
    folder (``<stem>.csv``) and, with the same columns in the same order, a sheet of ``footprint.xlsx`` (the
    stem with spaces); a table the result does not have (no materials, no site electricity, no plant-step
    energy) is neither."""
    total = result["kg_co2e_per_kwh"]
    energy = result["plant"].get("energy")
    tables = {
        "stages": ([{"stage": k, "kg_co2e_per_kwh": v, "share": v / total if total else 0}
                    for k, v in result["stages"].items()], ["stage", "kg_co2e_per_kwh", "share"]),
        "gases": ([{"part": k, "kg_co2e_per_kwh": v} for k, v in result["gases"].items()],
                  ["part", "kg_co2e_per_kwh"]),
        "processes": (result["processes"], ["id", "name", "location", "stage", "kg_co2e",
                                            *(f"kg_co2e_{st}" for st in result["stages"]), "share",
                                            "most_relevant", "dqr", "source", "data"]),
        "materials": (result.get("materials") or [], ["id", "name", "amount", "unit", "kg_co2e_per_kwh", "share"]),
        "bom": (result["bom"], ["input", "name", "role", "kg_per_cell", "kg_per_kg_cell", "default_kg_per_kg_cell",
                                "data"]),
        "electricity": ([{**r, "mix": "; ".join(f"{k}: {v:.4g}" for k, v in r["mix"].items()),
                          "sources": "; ".join(r["sources"])} for r in result.get("electricity_sites") or []],
                        ["site", "switch", "stage", "kwh", "mix", "factor_kg_co2e_per_kwh", "kg_co2e", "sources"]),
        "plant_energy": ([{**r, "profile": energy["profile"]} for r in energy["steps"]] if energy else [],
                         ["profile", "step", "name", "electricity_kwh_per_kwh", "heat_mj_per_kwh", "source"]),
        "mass_balance": ([{"metal": m, **{k: v for k, v in b.items() if k != "processes_creating_metal"},
                           **_recycled_shares(result, m)}
                          for m, b in result["mass_balance"].items()],
                         ["metal", "entering_kg_per_kwh", "in_product_kg_per_kwh", "losses_kg_per_kwh",
                          "relative_residual", "recycled_content_R1", "recycled_pre_consumer",
                          "recycled_post_consumer", "own_scrap_loop_share"]),
        "end_of_life": (end_of_life_rows(result), ["part", "material", "kg_per_kwh", "kg_co2e_per_kwh", "note"]),
        "datasets": ([{**d, "sources": " | ".join(d["sources"]), "source_keys": ", ".join(d.get("source_keys", []))}
                      for d in result["datasets"]],
                     ["id", "name", "location", "reference_year", "data", "dqr", "TeR", "GeR", "TiR", "P", "proxy",
                      "licence", "sources", "source_keys", "file", "version"]),
        "parameters": (result["parameters"], ["parameter", "input", "output", "amount"]),
    }
    return {k: v for k, v in tables.items()
            if v[0] or k not in ("materials", "electricity", "plant_energy", "end_of_life")}


def _recycled_shares(result: dict, metal: str) -> dict:
    """The metal's recycled content as the study claims it (R1, pre- and post-consumer) and the share its own
    cathode-scrap loop returns, for the mass-balance table (blank for a metal without a supply switch)."""
    m = (result.get("recycling") or {}).get("metals", {}).get(metal)
    if not m:
        return {}
    return {"recycled_content_R1": m["R1"], "recycled_pre_consumer": m["R1_pre_consumer"],
            "recycled_post_consumer": m["R1_post_consumer"], "own_scrap_loop_share": m["scrap_loop_share"]}


def end_of_life_rows(result: dict) -> list[dict]:
    """The cell's end of life when it is inside the system (avoided burden, CFF with collection): the treatment's
    burden, then each virgin material its recovered products replace (credits, negative); they sum to the
    end-of-life stage. Empty under cut-off or without collection."""
    rc = result.get("recycling") or {}
    eol = rc.get("eol") or {}
    if not rc.get("avoided") and not rc.get("end_of_life_burdens"):
        return []
    rows = [{"part": f"burden: recycling of the collected cell ({eol.get('collection_rate', 0):.0%} collected, route "
                     f"{eol.get('route')}, {rc['accounting']})", "material": f"eol_treatment__{eol.get('route')}",
             "kg_per_kwh": None, "kg_co2e_per_kwh": rc.get("end_of_life_burdens", 0.0)}]
    notes = eol.get("credit_notes") or {}
    rows += [{"part": "credit: virgin material replaced", "material": a["avoided"], "kg_per_kwh": a["kg"],
              "kg_co2e_per_kwh": a["kg_co2e_per_kwh"], "note": notes.get(a["avoided"], "")}
             for a in rc.get("avoided", [])]
    return rows


def write_workbook(result: dict, path: Path) -> None:
    """The tables of a footprint as one Excel workbook: a summary sheet, then a sheet per CSV table
    (:func:`footprint_tables`, the same columns in the same order)."""
    summary = [{"field": k, "value": result[k]} for k in
               ("study", "label", "declared_unit", "chemistry", "plant_country", "kg_co2e_per_kwh",
                "kg_co2e_per_cell", "kg_co2e_per_kg", "cobalt_kg_per_kwh", "dqr_weighted")]
    rc = result.get("recycling") or {}
    summary += [{"field": "recycling accounting rule", "value": rc.get("accounting")}]
    summary += [{"field": f"recycled content {m} (R1)", "value": d["R1"]}
                for m, d in (rc.get("metals") or {}).items() if d.get("R1")]
    if rc.get("eol", {}).get("collection_rate"):
        summary += [{"field": "end-of-life collection rate", "value": rc["eol"]["collection_rate"]},
                    {"field": "end-of-life burdens, kg CO2e/kWh", "value": rc.get("end_of_life_burdens", 0.0)},
                    {"field": "end-of-life credits, kg CO2e/kWh", "value": rc.get("end_of_life_credits", 0.0)}]
    summary += [{"field": "method", "value": result["method"]["label"]},
                {"field": "electricity rule", "value": result["plant"]["electricity_rule_label"]},
                {"field": "inventory content hash", "value": result["inventory"]["content_hash"]},
                {"field": "lca_battery", "value": result["software"]["lca_battery"]}]
    sheets = {"summary": summary}
    for stem, (rows, columns) in footprint_tables(result).items():
        sheets[stem.replace("_", " ")] = [{c: r.get(c) for c in columns} for r in rows]
    _write_sheets(path, sheets)


XLSX_OPTIONS = {
    "in_memory": True,              # parts zipped with XlsxWriter's fixed 1980 time stamps (byte-reproducible)
    "strings_to_formulas": False,   # a name starting with "=" stays text
    "strings_to_urls": False,       # source URLs stay plain text, as in the CSV files
    "strings_to_numbers": False,
}
XLSX_CREATED = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)   # no save time in the file


def xlsx_workbook(path: Path):
    """An XlsxWriter workbook that writes the same bytes for the same content (fixed creation date and zip
    times), strings never turned into formulas or links."""
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(path), XLSX_OPTIONS)
    wb.set_properties({"created": XLSX_CREATED})
    return wb


def _write_sheets(path: Path, sheets: dict[str, list[dict]]) -> None:
    """Rows of dicts as sheets of an .xlsx: the keys in order of first appearance as a bold, frozen
    header row, one row a dict, empty cells for missing keys and NaN (XlsxWriter: without pandas, and
    about three times faster than openpyxl's write-only mode on a footprint's 12,000 cells)."""
    import math
    wb = xlsx_workbook(path)
    bold = wb.add_format({"bold": True})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name[:31])
        columns = list(dict.fromkeys(k for r in rows for k in r))
        ws.freeze_panes(1, 0)
        for i, c in enumerate(columns):       # widths from the header and the first rows, capped
            width = max([len(str(c)), *(len(str(r.get(c, ""))) for r in rows[:50])])
            ws.set_column(i, i, min(max(width + 2, 8), 60))
        ws.write_row(0, 0, [str(c) for c in columns], bold)
        for i, r in enumerate(rows, start=1):
            ws.write_row(i, 0, [_cell_value(r.get(c), math) for c in columns])
    wb.close()


def _cell_value(v, math):
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    try:                                   # NumPy scalars
        return _cell_value(v.item(), math)
    except AttributeError:
        return str(v)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


OWNER_KEY = "results_owner"


def _owner_digest(owner: dict) -> str:
    """The owner as the manifest records it: a SHA-256 (the owner holds the study's absolute path, which no
    output may show)."""
    return hashlib.sha256(json.dumps(owner, sort_keys=True).encode()).hexdigest()


def _owner_of(folder: Path):
    """The owner digest recorded in ``folder/manifest.json``; None if the folder has no readable one."""
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get(OWNER_KEY)
    except (OSError, ValueError, AttributeError):
        return None


def results_folder(target: Path, owner: dict | None) -> Path:
    """``target`` if it is free or already this owner's; else ``target-<hash of owner>``."""
    target = Path(target)
    if owner is None or not target.exists() or _owner_of(target) == _owner_digest(owner):
        return target
    alt = target.with_name(f"{target.name}-{_owner_digest(owner)[:10]}")
    if alt.exists() and _owner_of(alt) != _owner_digest(owner):
        from ..errors import LcaBatteryError
        raise LcaBatteryError(f"results folders '{target}' and '{alt}' belong to other runs (or were not written "
                              f"by lca_battery); choose another --out", field="--out")
    return alt


def staging_folder(target: Path) -> Path:
    """A new hidden temporary folder beside the results folder ``target`` (created with its parents), where a run
    writes its files before :func:`write_atomic` moves it into place; the caller removes it if the run fails."""
    from ..errors import LcaBatteryError
    target = Path(os.path.abspath(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise LcaBatteryError(f"cannot write results under '{target.parent}': a file stands where a folder "
                              f"is needed", field="--out") from None
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    # mkdtemp makes the folder private (0700); a results folder gets the usual mode under the umask
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    return tmp


def write_atomic(target: Path, write, owner: dict | None = None, tmp: Path | None = None) -> Path:
    """Call ``write(tmpdir)`` then move ``tmpdir`` into place, replacing the folder only if it is
    this ``owner``'s (see :func:`results_folder`); returns the folder written. ``tmp``: a folder of
    :func:`staging_folder` made earlier for ``target`` (else one is made now); it is removed on an error.
    A lock file, one per results folder, serialises concurrent writers."""
    import filelock
    # absolute from here on: a run started inside the folder it replaces (the manifest's re-run command) has
    # its working directory moved away with the old folder, and relative paths would then point nowhere
    target = Path(os.path.abspath(target))
    tmp = staging_folder(target) if tmp is None else Path(os.path.abspath(tmp))
    try:
        write(tmp)
        if owner is not None and (tmp / "manifest.json").is_file():
            manifest = json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))
            manifest[OWNER_KEY] = _owner_digest(owner)
            (tmp / "manifest.json").write_text(to_json(manifest) + "\n", encoding="utf-8")
        key = hashlib.sha256(str(target.parent.resolve()).encode()).hexdigest()[:16]
        with filelock.FileLock(str(Path(tempfile.gettempdir()) / f"lca_battery-results-{key}.lock"), mode=0o666):
            target = results_folder(target, owner)
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
                os.replace(target, old / "x")
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def write_footprint(result: dict, out_dir: Path, study_file: str | None = None,
                    command: list[str] | None = None, owner: dict | None = None,
                    sets: list[str] | None = None, workers: dict | None = None, tmp: Path | None = None) -> Path:
    """Write summary.json, stages/processes/materials/parameters CSVs and manifest.json; the chart and the
    workbook by ``workers`` (started :class:`~lca_battery.report.workers.Worker` by kind) when given. ``tmp``:
    the :func:`staging_folder` the chart worker was already sent (:func:`send_chart`), if any."""
    def write(tmp: Path) -> None:
        _footprint_files(result, tmp, workers)
        _write_manifest(tmp, study_file, command, inventory_content_hash=result["inventory"]["content_hash"],
                        method=result["method"], software=result["software"],
                        rerun_inputs=rerun_inputs(study_file, sets or [], result["inventory"]["root"]))
    return write_atomic(out_dir, write, owner, tmp=tmp)


def send_chart(chart, headline: dict, tmp: Path) -> None:
    """Hand the chart worker its input as soon as the footprint's headline (total, stages, largest processes) is
    known, while the rest of the result is computed: the chart is the slowest file of the folder."""
    if chart is not None and not chart.sent:
        chart.send(_chart_input(headline, tmp))


def _footprint_files(result: dict, tmp: Path, workers: dict | None = None) -> None:
    """The files of a footprint run (all but the manifest) into ``tmp``."""
    # the chart (matplotlib's import and two renderings, the slowest file) is drawn by a forked child while this
    # process writes the rest: the worker the CLI forked at its start (it has imported matplotlib meanwhile), else
    # one forked now; the workbook likewise by its worker when there is one, else here. The folder is moved into
    # place only after all finished (see write_atomic)
    workers = workers or {}
    chart = workers.get("chart")
    waits = []
    if chart is not None and (chart.sent or chart.send(_chart_input(result, tmp))):   # sent early: send_chart
        waits.append(chart.wait)
    else:
        from .charts import footprint_chart
        waits.append(_in_child(footprint_chart, result, tmp / "footprint"))
    try:
        _footprint_tables(result, tmp)
        # sent after the tables: the result (some 300 kB) does not fit in a pipe's buffer, and a worker still
        # importing openpyxl (a loaded machine) would hold this process at the write meanwhile
        book = workers.get("workbook")
        if book is not None and book.send((result, str(tmp / "footprint.xlsx"))):
            waits.append(book.wait)
        else:
            write_workbook(result, tmp / "footprint.xlsx")
    except BaseException:
        _wait_quietly(waits)     # the children still write into tmp: let them end before write_atomic removes it
        for worker in workers.values():
            worker.close()       # one not sent its input yet: ended
        raise
    for i, wait in enumerate(waits):
        try:
            wait()
        except BaseException:
            _wait_quietly(waits[i + 1:])
            raise


def _chart_input(result: dict, tmp: Path):
    from .charts import footprint_chart_input
    return footprint_chart_input(result), str(tmp / "footprint")


def _wait_quietly(waits) -> None:
    for wait in waits:
        try:
            wait()
        except Exception:                    # noqa: BLE001 - the first error is the one reported
            pass


def _footprint_tables(result: dict, tmp: Path) -> None:
    """The JSON and CSV files of a footprint run."""
    (tmp / "summary.json").write_text(to_json(result) + "\n", encoding="utf-8")
    (tmp / "declaration.json").write_text(to_json(result["declaration"]) + "\n", encoding="utf-8")
    (tmp / "passport.json").write_text(to_json(result["passport"]) + "\n", encoding="utf-8")
    for stem, (rows, columns) in footprint_tables(result).items():
        _csv(tmp / f"{stem}.csv", rows, columns)


def _in_child(fn, *args):
    """Run ``fn(*args)`` in a forked child process; return a function that waits for it and raises
    its error, if any, in this process. Where fork is not available (Windows, macOS' default), or
    this process runs other threads, ``fn`` runs here at once. The child draws on a copy of this
    process's memory, so its output is the same bytes as an inline call's."""
    import multiprocessing as mp
    import threading
    # forking a process that runs other threads (a notebook's, Dask's) can copy a held lock: draw inline then
    if "fork" not in mp.get_all_start_methods() or threading.active_count() > 1:
        fn(*args)
        return lambda: None
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def run():
        try:
            fn(*args)
            send.send(None)
        except BaseException as exc:             # noqa: BLE001 - handed to the parent with its traceback
            import traceback
            send.send(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")

    proc = ctx.Process(target=run, daemon=True)
    proc.start()
    send.close()

    def wait():
        try:
            error = recv.recv()
        except EOFError:
            error = f"the process drawing {getattr(fn, '__name__', 'a chart')} ended without a result"
        finally:
            proc.join()
            recv.close()
        if error is not None:
            raise RuntimeError(f"{getattr(fn, '__name__', 'chart')} failed in its worker process: {error}")
    return wait


def git_commit() -> dict | None:
    """The git commit of the lca_battery source when it runs from a checkout (else None)."""
    import subprocess
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                "lca_battery", "inventories"], capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "uncommitted_changes": bool(dirty)}


_CODE_SUFFIXES = (".py", ".j2", ".json")


def code_sha256() -> str:
    """One SHA-256 over the package's code (every ``.py`` file, report template and schema under
    ``lca_battery/``, by relative path): names the code that wrote a results folder whether it runs
    from a git checkout or from an installed package, and changes with any edit of it."""
    pkg = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(p for p in pkg.rglob("*") if p.suffix in _CODE_SUFFIXES and p.is_file()
                    and "__pycache__" not in p.parts):
        h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def inventory_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every inventory file (sources.yaml and the process files) by relative path."""
    from ..inventory.loader import inventory_files
    root = Path(root)
    return {str(p.relative_to(root).as_posix()): sha256(p) for p in [root / "sources.yaml", *inventory_files(root)]}


def supplier_files(study_file: str, sets: list[str]) -> dict[str, str]:
    """Supplier inventory and PACT files of a study: path as the study gives it (relative to the study) -> SHA-256."""
    import yaml
    from ..study import load_study
    study = load_study(study_file, sets)
    raw = yaml.safe_load(Path(study_file).read_text(encoding="utf-8")) or {}
    out = {}
    for pid, sup in study.suppliers.items():
        for key in ("inventory", "pact"):        # a supplier inventory or a supplier PACT footprint
            path = getattr(sup, key)
            if path:
                given = ((raw.get("suppliers") or {}).get(pid) or {}).get(key) or \
                    os.path.relpath(path, Path(study_file).parent)
                out[str(given)] = sha256(Path(path)) if Path(path).is_file() else None
    return out


def rerun_inputs(study_file: str | None, sets: list[str], root_label: str) -> dict | None:
    """What ``lca-battery verify`` needs to re-run a footprint: the overrides, the hashes of every
    inventory file and every supplier file (no absolute path: the study is located relative to the
    results folder when the manifest is written)."""
    if not study_file:
        return None
    from ..inventory.loader import default_root
    return {"subcommand": "footprint", "set": [portable_set(a, study_file) for a in sets], "inventory_root": root_label,
            "inventory_files": inventory_hashes(default_root()),
            "supplier_files": supplier_files(study_file, sets)}


def portable_set(arg: str, study_file: str | None) -> str:
    """A ``KEY=VALUE`` override whose value is an absolute path (a supplier file, a background mapping) with the
    path relative to the study file's folder, where the study resolves a relative one: no output holds an
    absolute path, and the override means the same."""
    key, sep, value = arg.partition("=")
    if sep and study_file and os.path.isabs(value.strip()):
        return f"{key}={os.path.relpath(value.strip(), os.path.dirname(os.path.abspath(study_file)))}"
    return arg


def _portable(args: list[str], base: Path, study_file: str | None = None) -> list[str]:
    """Command-line arguments with file and folder paths relative to ``base`` (the results folder), and override
    values that are absolute paths relative to the study's folder (:func:`portable_set`)."""
    out = []
    for a in args:
        if a and not a.startswith("-") and "=" not in a and (os.path.isabs(a) or Path(a).exists()):
            a = os.path.relpath(os.path.abspath(a), base)
        elif a and not a.startswith("-") and "=" in a:
            a = portable_set(a, study_file)
        out.append(a)
    return out


def _write_manifest(tmp: Path, study_file: str | None, command: list[str] | None = None, **extra) -> None:
    """manifest.json: the command and how to re-run it (paths relative to the results folder), the
    package version and git commit, the study file's SHA-256, ``extra`` and the SHA-256 of every file
    written beside it. ``tmp`` lies beside the final folder, so relative paths hold for both."""
    from .. import __version__
    command = list(command or sys.argv)
    args = _portable(command[1:], tmp, study_file)
    rerun = list(args)
    if rerun[:1] == ["footprint"] and not any(a == "--out" or a.startswith("--out=") for a in rerun):
        rerun += ["--out", ".."]        # the default results root, seen from inside this folder: rewrite it in place
    manifest = {
        "lca_battery": __version__,
        "git": git_commit(),
        "code_sha256": code_sha256(),
        "paths": "relative to this results folder",
        "command": ["lca-battery", *args],
        "rerun": "cd <this folder> && lca-battery " + " ".join(shlex.quote(a) for a in rerun),
        "verify": "lca-battery verify <this folder>",
        "study_file": os.path.relpath(os.path.abspath(study_file), tmp) if study_file else None,
        "study_sha256": sha256(Path(study_file)) if study_file and Path(study_file).is_file() else None,
        **{k: v for k, v in extra.items() if v is not None},
        "files": {f.name: sha256(f) for f in sorted(tmp.iterdir())},
    }
    (tmp / "manifest.json").write_text(to_json(manifest) + "\n", encoding="utf-8")


def boundary_note(result: dict) -> str:
    """What the compare curves include beyond cradle-to-gate: the end of life of the cell under avoided burden and
    the CFF when the study collects it (cut-off stays cradle-to-gate), so the curves are not read as one boundary."""
    rate = result.get("eol_collection_rate") or 0.0
    if not rate:
        return ""
    return (f"avoided burden and CFF include the cell's end of life ({rate:.0%} collected, route "
            f"{result.get('route_of_study')}); cut-off does not")


def write_compare(result: dict, out_dir: Path, study_file: str | None = None, owner: dict | None = None) -> Path:
    """compare.json, materials.csv, curves.csv, recovery.csv (each route's recovery against the EU targets) and
    the curves plot (PNG, SVG)."""
    from .charts import plot_curves

    def write(tmp: Path) -> None:
        (tmp / "compare.json").write_text(to_json(result) + "\n", encoding="utf-8")
        _csv(tmp / "materials.csv", result["materials"],
             ["metal", "supply", "material", "name", "per_kg_of", "kg_co2e_per_kg", "metal_fraction", "kg_co2e_per_kg_metal",
              "vs_virgin", "note"])
        _csv(tmp / "curves.csv", result["curves"],
             ["metal", "accounting", "recycled_content", "kg_co2e_per_kwh", "end_of_life_burdens",
              "end_of_life_credits"])
        targets = result["eu_material_recovery_targets"]
        _csv(tmp / "recovery.csv", [{"route": r["route"], "process": r["process"], "metal": m, "recovery": v,
                                     **{f"eu_target_{y}": targets[y][m] for y in targets},
                                     **{f"meets_{y}": m not in r["below"][y] for y in targets},
                                     "basis": ("source's product masses over the feed (100 %: an upper bound)"
                                               if m in r.get("complete", ()) else
                                               "source's product masses over the feed")}
                                    for r in result["routes"] for m, v in r["recovery"].items()],
             ["route", "process", "metal", "recovery", *(f"eu_target_{y}" for y in targets),
              *(f"meets_{y}" for y in targets), "basis"])
        a = result["cff_parameters"]["A"]          # the metals of the cell: one value, or each metal's
        a_text = f"{next(iter(a.values())):g}" if len(set(a.values())) == 1 else ", ".join(
            f"{m} {v:g}" for m, v in a.items())
        plot_curves(result["curves"], str(tmp / "curves"),
                    f"{result['chemistry']} cell, {result['plant_country']}: recycled content vs footprint "
                    f"(cut-off, avoided burden, CFF A={a_text})"
                    + (f"\n{boundary_note(result)}" if boundary_note(result) else ""))
        _write_manifest(tmp, study_file, inventory_content_hash=result["inventory"]["content_hash"],
                        software=result["software"])
    return write_atomic(out_dir, write, owner)


def write_table(rows: list[dict], out_dir: Path, name: str, study_file: str | None = None,
                owner: dict | None = None, parquet: bool = False) -> Path:
    """<name>.csv and <name>.json plus a manifest (and <name>.parquet if asked and pyarrow is installed)."""
    def write(tmp: Path) -> None:
        fields = list(dict.fromkeys(k for r in rows for k in r)) if rows else []
        _csv(tmp / f"{name}.csv", rows, fields)
        if parquet:
            _parquet(tmp / f"{name}.parquet", rows, fields)
        (tmp / f"{name}.json").write_text(to_json(rows) + "\n", encoding="utf-8")
        _write_manifest(tmp, study_file)
    return write_atomic(out_dir, write, owner)


def write_uncertainty(result: dict, out_dir: Path, study_file: str | None = None,
                      owner: dict | None = None) -> Path:
    def write(tmp: Path) -> None:
        from .charts import histogram
        (tmp / "uncertainty.json").write_text(to_json(result) + "\n", encoding="utf-8")
        paired = result.get("paired")
        if paired:       # paired Monte Carlo: B and A - B beside A, sample by sample
            rows = [{"sample": i, "kg_co2e_per_kwh": v, "paired_kg_co2e_per_kwh": w, "difference": v - w}
                    for i, (v, w) in enumerate(zip(result["samples"], paired["samples"]))]
        else:
            rows = [{"sample": i, "kg_co2e_per_kwh": v} for i, v in enumerate(result["samples"])]
        scenarios = result.get("scenarios") or []
        for k, col in enumerate(result.get("scenario_samples") or []):     # paired scenarios: S<k> per sample
            for r, v in zip(rows, col):
                r[f"scenario_{k + 1}_kg_co2e_per_kwh"] = v
        _csv(tmp / "samples.csv", rows)
        if scenarios:    # one row a scenario: its values, its distribution and its difference to the study
            keys = list(dict.fromkeys(key for sc in scenarios for key in sc["values"]))
            _csv(tmp / "scenarios.csv", [
                {"scenario": f"scenario_{k + 1}", **{key: sc["values"].get(key) for key in keys},
                 **{f"kg_co2e_per_kwh_{q}": sc["kg_co2e_per_kwh"][q] for q in ("deterministic", "median", "p2_5",
                                                                                "p97_5")},
                 **{f"difference_{q}": sc["difference"][q] for q in ("deterministic", "median", "p2_5", "p97_5")},
                 "share_lower": sc["share_lower"]}
                for k, sc in enumerate(scenarios)])
        histogram(result, tmp / "histogram")
        _write_manifest(tmp, study_file, inventory_content_hash=result["inventory"]["content_hash"])
    return write_atomic(out_dir, write, owner)


def _parquet(path: Path, rows: list[dict], fields: list[str]) -> None:
    """A Parquet table (pyarrow); values of mixed types (mappings, numbers and words) as JSON text."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:          # optional: CSV and JSON carry the same numbers
        return
    cols = {}
    for f in fields:
        vals = [r.get(f) for r in rows]
        kinds = {type(v) for v in vals if v is not None}
        if kinds <= {float, int} and bool not in kinds:
            cols[f] = pa.array([None if v is None else float(v) for v in vals], pa.float64())
        elif kinds <= {str}:
            cols[f] = pa.array(vals, pa.string())
        else:
            cols[f] = pa.array([None if v is None else to_json(v) for v in vals], pa.string())
    pq.write_table(pa.table(cols), path)


REPORT_MARKER = "report.html"


def check_report_target(out_dir: Path) -> None:
    """A report folder may replace only an earlier report (manifest.json and report.html) or an empty folder."""
    from ..errors import LcaBatteryError
    out_dir = Path(out_dir)
    if out_dir.exists():
        if not out_dir.is_dir():
            raise LcaBatteryError(f"'{out_dir}' exists and is not a folder", field="--out")
        if any(out_dir.iterdir()) and not ((out_dir / "manifest.json").is_file() and (out_dir / REPORT_MARKER).is_file()):
            raise LcaBatteryError(f"'{out_dir}' exists and is not a report of lca-battery (no manifest.json and "
                                  f"report.html): choose another --out or remove it", field="--out")


def report_rerun_inputs(rep: dict, study_file: str | None, sets: list[str]) -> dict | None:
    """:func:`rerun_inputs` of a report: those of its footprint plus the Monte Carlo sample count, the Sobol'
    base sample (0: skipped) and the seed of both, as the report was computed with them."""
    inputs = rerun_inputs(study_file, sets, rep["result"]["inventory"]["root"])
    if inputs is None:
        return None
    sobol = rep["sensitivity"].get("sobol")
    return {**inputs, "subcommand": "report", "samples": int(rep["uncertainty"]["kg_co2e_per_kwh"]["n"]),
            "seed": int(rep["uncertainty"]["seed"]), "sobol_n": int(sobol["n"]) if sobol else 0}


def write_report(rep: dict, out_dir: Path, study_file: str | None = None, command: list[str] | None = None,
                 sets: list[str] | None = None) -> Path:
    """The ISO 14067 study report (report.html, report.json, report.xlsx, sensitivity and cut-off
    tables) beside every file of the footprint run, written all or nothing. The manifest records
    what ``lca-battery verify`` needs to re-run it (``sets``: the ``--set`` overrides it was run with).

    An existing ``out_dir`` is replaced only when it is a report of this tool (it has a manifest
    and a report.html) or empty."""
    from .charts import footprint_chart, histogram, sobol_chart, tornado
    from .study_report import render_html
    out_dir = Path(out_dir)
    check_report_target(out_dir)
    result = rep["result"]
    sens = rep["sensitivity"]

    def write(tmp: Path) -> None:
        _footprint_files(result, tmp)
        charts = {"footprint": footprint_chart(result, None),
                  "tornado": tornado(sens["one_at_a_time"]),
                  "sobol": sobol_chart(sens["sobol"]) if sens.get("sobol") else None,
                  "histogram": histogram({"study": result["study"], "seed": rep["uncertainty"]["seed"],
                                          "samples": rep["uncertainty_samples"],
                                          "kg_co2e_per_kwh": rep["uncertainty"]["kg_co2e_per_kwh"]}, None)}
        html = render_html({**rep, "charts": charts})
        (tmp / "report.html").write_text(html, encoding="utf-8")
        data = {k: v for k, v in rep.items() if k not in ("result", "uncertainty_samples")}
        (tmp / "report.json").write_text(to_json(data) + "\n", encoding="utf-8")
        oat = sens["one_at_a_time"]["rows"]
        _csv(tmp / "sensitivity.csv", [{**r, "low_set": " ".join(r["low_set"]), "high_set": " ".join(r["high_set"])}
                                       for r in oat],
             ["parameter", "low_label", "high_label", "base", "low", "high", "swing", "low_change", "high_change",
              "low_set", "high_set", "why"])
        if sens.get("sobol"):
            _csv(tmp / "sobol.csv", sens["sobol"]["rows"], ["parameter", "low", "high", "S1", "S1_conf", "ST", "ST_conf"])
        _csv(tmp / "cutoff.csv", rep["cutoff"]["rows"],
             ["process", "name", "flow", "share_of_process", "process_kg_co2e_per_kwh", "estimated_kg_co2e_per_kwh",
              "share_of_total", "reason", "basis", "file"])
        _csv(tmp / "limitations.csv", rep["limitations"],
             ["id", "name", "location", "scope", "proxied_inputs", "aggregated", "direct_kg_co2e_per_kwh",
              "direct_share", "resting_kg_co2e_per_kwh", "resting_share", "proxy"])
        write_report_workbook(rep, tmp / "report.xlsx")
        _write_manifest(tmp, study_file, command, inventory_content_hash=result["inventory"]["content_hash"],
                        method=result["method"], software=result["software"],
                        rerun_inputs=report_rerun_inputs(rep, study_file, list(sets or [])))
    return write_atomic(out_dir, write)


def write_report_workbook(rep: dict, path: Path) -> None:
    """The report's tables, one sheet each, numbers formatted, units in the column headers."""
    import math
    wb = xlsx_workbook(path)
    bold = wb.add_format({"bold": True})
    formats: dict[str, object] = {}
    total = rep["result"]["kg_co2e_per_kwh"]

    def sheet(name: str, header: list[tuple[str, str, str | None]], rows: list[dict]):
        ws = wb.add_worksheet(name[:31])
        ws.write_row(0, 0, [h for h, _, _ in header], bold)
        for col, (title, key, fmt) in enumerate(header):
            if fmt and fmt not in formats:
                formats[fmt] = wb.add_format({"num_format": fmt})
            ws.set_column(col, col, max(14, min(60, len(title) + 4)), formats.get(fmt) if fmt else None)
            for i, r in enumerate(rows, start=1):
                ws.write(i, col, _cell_value(r.get(key), math), formats.get(fmt) if fmt else None)

    sheet("summary", [("field", "field", None), ("value", "value", "0.000"), ("unit", "unit", None)], [
        {"field": "footprint", "value": total, "unit": "kg CO2e / kWh cell capacity"},
        {"field": "footprint per cell", "value": rep["result"]["kg_co2e_per_cell"], "unit": "kg CO2e / cell"},
        {"field": "footprint per kg", "value": rep["result"]["kg_co2e_per_kg"], "unit": "kg CO2e / kg cell"},
        {"field": "weighted DQR", "value": rep["dqr"]["DQR"], "unit": "1 (excellent) .. 5 (poor)"},
        {"field": "primary-data share", "value": rep["primary_data"]["share"], "unit": "fraction"},
        {"field": "cut-off total", "value": rep["cutoff"]["total_share"], "unit": "fraction of footprint"}])
    for name, rows in rep["breakdowns"].items():
        sheet(f"by {name}", [(name, "name", None), ("kg CO2e / kWh", "kg_co2e_per_kwh", "0.0000"),
                             ("share", "share", "0.0%")], rows)
    sheet("cut-off", [("process", "process", None), ("flow", "flow", None), ("share of process", "share_of_process",
                      "0.0%"), ("estimate, kg CO2e / kWh", "estimated_kg_co2e_per_kwh", "0.0000"),
                      ("share of total", "share_of_total", "0.00%"), ("reason", "reason", None),
                      ("computed from", "basis", None)], rep["cutoff"]["rows"])
    sheet("proxies and aggregated", [("dataset", "id", None), ("geo", "location", None),
                                     ("direct, kg CO2e / kWh", "direct_kg_co2e_per_kwh", "0.0000"),
                                     ("direct share", "direct_share", "0.00%"),
                                     ("resting on it, kg CO2e / kWh", "resting_kg_co2e_per_kwh", "0.0000"),
                                     ("resting share", "resting_share", "0.00%"), ("scope", "scope", None),
                                     ("proxied inputs", "proxied_inputs", None), ("aggregated", "aggregated", None),
                                     ("proxy", "proxy", None)], rep["limitations"])
    sheet("sensitivity", [("parameter", "parameter", None), ("low", "low_label", None), ("high", "high_label", None),
                          ("low, kg CO2e / kWh", "low", "0.00"), ("high, kg CO2e / kWh", "high", "0.00"),
                          ("swing, kg CO2e / kWh", "swing", "0.00")], rep["sensitivity"]["one_at_a_time"]["rows"])
    if rep["sensitivity"].get("sobol"):
        sheet("sobol", [("parameter", "parameter", None), ("S1", "S1", "0.000"), ("S1 95 % conf.", "S1_conf", "0.000"),
                        ("ST", "ST", "0.000"), ("ST 95 % conf.", "ST_conf", "0.000")], rep["sensitivity"]["sobol"]["rows"])
    wb.close()
