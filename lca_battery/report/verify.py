"""``lca-battery verify DIR``: re-run a results folder of ``footprint`` or ``report`` from its manifest and compare.

Checks, in this order, each naming the file at fault:

1. the results folder: every file listed in ``manifest.json`` is there with its SHA-256;
2. the inputs: the study file, every inventory file and every supplier inventory file have the
   SHA-256 the manifest recorded (a changed input is reported before anything is re-run);
3. the numbers: the run is repeated into a temporary folder and every output file compared,
   byte for byte, else number by number (JSON and CSV: same structure, numbers within 1e-9
   relative), else as differing;
4. the code: the version, git commit and code SHA-256 the manifest records against the code re-running
   it (:func:`code_check`): other code passes when every number matches and is named; when numbers
   differ while the inputs are unchanged, the difference is laid to the code, with how to reproduce it.

A footprint folder is re-run whole. A report folder (``lca-battery report``) is re-run with the
``--set`` overrides, Monte Carlo sample count, Sobol' base sample and seed its manifest records:
the footprint files, ``sensitivity.csv`` and ``cutoff.csv`` (exact runs, no sampling) always;
the Monte Carlo and the Sobol' indices (seeded, so reproducible) when their cost is within
:data:`MAX_RECOMPUTE_SAMPLES` / :data:`MAX_RECOMPUTE_SOBOL_RUNS` (or ``full``). A file that
depends on a part not re-run (``sobol.csv``; ``report.html``, ``report.json`` and
``report.xlsx``, which hold both) is then checked by its SHA-256 only, and says so.
"""
from __future__ import annotations

import csv
import io
import json
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LcaBatteryError
from .outputs import inventory_hashes, sha256, supplier_files

REL_TOL = 1e-9
from .limits import MAX_RECOMPUTE_SAMPLES, MAX_RECOMPUTE_SOBOL_RUNS  # noqa: F401 (the limits; the CLI's help reads them)
#: report files that hold the Sobol' indices / the Monte Carlo results
_SOBOL_FILES = ("sobol.csv", "report.html", "report.json", "report.xlsx")
_MONTE_CARLO_FILES = ("report.html", "report.json", "report.xlsx")


@dataclass
class Check:
    file: str
    ok: bool
    detail: str
    recomputed: bool = True     # False: the file was checked by its SHA-256 only


@dataclass
class Verification:
    folder: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def hash_only(self) -> list[str]:
        """Files checked by their SHA-256 only (a report part too costly to re-run)."""
        return [c.file for c in self.checks if not c.recomputed]

    def add(self, file: str, ok: bool, detail: str, recomputed: bool = True) -> None:
        self.checks.append(Check(file, ok, detail, recomputed))


def _is_hashes(x, nullable: bool = False) -> bool:
    return isinstance(x, dict) and all(isinstance(k, str) and (isinstance(v, str) or (nullable and v is None))
                                       for k, v in x.items())


def _check_shape(m: dict, path: Path) -> None:
    """The fields verify reads have the types ``lca-battery footprint``/``report`` write: one clear error
    naming the first that does not (a hand-edited or truncated manifest), not a crash."""
    inputs = m["rerun_inputs"]
    files = m.get("files")
    inside = _is_hashes(files) and all(not Path(k).is_absolute() and ".." not in Path(k).parts for k in files)

    def optional(key: str, kind: type, allowed: str):      # absent (older manifests) or of the written type
        return key, m.get(key), m.get(key) is None or isinstance(m.get(key), kind), allowed
    shapes = [("files", files, inside, "a mapping of the folder's file names to SHA-256"),
              ("study_sha256", m.get("study_sha256"), isinstance(m.get("study_sha256"), str), "a SHA-256 (text)"),
              optional("study_file", str, "the study's path relative to the folder (text)"),
              optional("code_sha256", str, "a SHA-256 (text)"),
              optional("git", dict, "a mapping of the commit and whether it had uncommitted changes"),
              optional("lca_battery", str, "the package version (text)"),
              ("rerun_inputs", inputs, isinstance(inputs, dict), "a mapping (what the re-run needs)")]
    if isinstance(inputs, dict):
        shapes += [("rerun_inputs.set", inputs.get("set"),
                    isinstance(inputs.get("set"), list) and all(isinstance(s, str) for s in inputs["set"]),
                    "a list of KEY=VALUE overrides"),
                   ("rerun_inputs.inventory_files", inputs.get("inventory_files"),
                    _is_hashes(inputs.get("inventory_files")), "a mapping of inventory file to SHA-256"),
                   ("rerun_inputs.supplier_files", inputs.get("supplier_files"),
                    _is_hashes(inputs.get("supplier_files"), nullable=True), "a mapping of supplier file to SHA-256")]
    for name, value, ok, allowed in shapes:
        if not ok:
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise LcaBatteryError(f"'{path}': {name} is {shown} (allowed: {allowed}, as lca-battery writes it): "
                                  f"not a manifest this version can verify", field="DIR")


def _manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise LcaBatteryError(f"'{folder}' is not a folder", field="DIR")
    if not path.is_file():
        raise LcaBatteryError(f"'{folder}' has no manifest.json: not a results folder of lca-battery footprint "
                              f"or report", field="DIR")
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LcaBatteryError(f"'{path}' is not valid JSON ({exc})", field="DIR") from None
    if not isinstance(m, dict) or "files" not in m:
        raise LcaBatteryError(f"'{path}' lists no files: not a manifest of lca-battery footprint or report",
                              field="DIR")
    if not m.get("rerun_inputs"):
        if (folder / "report.html").is_file():
            raise LcaBatteryError(f"'{path}' records no re-run inputs: this report was written by an earlier version "
                                  f"of lca-battery; write it again with `lca-battery report` to verify it",
                                  field="DIR")
        kind = next((k for k in ("compare", "sweep", "uncertainty") if folder.name.endswith(f"-{k}")
                     or f"-{k}-" in folder.name), None)
        raise LcaBatteryError(f"'{path}' records no re-run inputs: "
                              + (f"it is a `{kind}` folder, and " if kind else "")
                              + "only folders of `lca-battery footprint` and `lca-battery report` can be verified",
                              field="DIR")
    _check_shape(m, path)
    inputs = m["rerun_inputs"]
    sub = inputs.get("subcommand", "footprint")
    if sub not in ("footprint", "report"):
        raise LcaBatteryError(f"'{path}': rerun_inputs.subcommand is '{sub}' (allowed: footprint, report)",
                              field="DIR")
    if sub == "report":
        # what `lca-battery report` accepts: samples >= 2, a seed >= 0, sobol_n 0 or a power of 2
        for key, low in (("samples", 2), ("seed", 0), ("sobol_n", 0)):
            v = inputs.get(key)
            if not isinstance(v, int) or isinstance(v, bool) or v < low or (key == "sobol_n" and v & (v - 1)):
                what = "0 or a power of 2" if key == "sobol_n" else f"a whole number >= {low}"
                raise LcaBatteryError(f"'{path}': rerun_inputs.{key} is {v!r} (allowed: {what}, as `lca-battery "
                                      f"report` records it)", field="DIR")
    return m


def _numbers_equal(a, b) -> str | None:
    """None when ``a`` and ``b`` hold the same structure and numbers (1e-9 relative), else where not."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"keys differ: {sorted(set(a) ^ set(b))[:5]}"
        for k in a:
            d = _numbers_equal(a[k], b[k])
            if d:
                return f"{k}.{d}" if not d.startswith("keys") else f"{k}: {d}"
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = _numbers_equal(x, y)
            if d:
                return f"[{i}].{d}"
        return None
    na, nb = _as_number(a), _as_number(b)
    if na is not None and nb is not None:
        if na == nb or math.isclose(na, nb, rel_tol=REL_TOL, abs_tol=1e-12):
            return None
        return f"{a!r} != {b!r}"
    return None if a == b else f"{str(a)[:60]!r} != {str(b)[:60]!r}"


def _as_number(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _load(path: Path):
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".json":
        return json.loads(text)
    return list(csv.reader(io.StringIO(text)))


# the software versions and the Brightway project depend on the machine, not on the numbers
_MACHINE_KEYS = ("software",)


def _compare_file(old: Path, new: Path) -> tuple[bool, str]:
    if sha256(old) == sha256(new):
        return True, "identical"
    if old.suffix in (".json", ".csv"):
        a, b = _load(old), _load(new)
        if isinstance(a, dict) and isinstance(b, dict):
            for k in _MACHINE_KEYS:
                a.pop(k, None), b.pop(k, None)
            if a == b:          # e.g. written by the warm path, re-run through bw2calc: only the solver's name differs
                return True, "identical but for the software record (solver, versions)"
        d = _numbers_equal(a, b)
        if d is None:
            return True, f"every number matches (within {REL_TOL:g} relative; text differs)"
        return False, f"numbers differ: {d}"
    return False, "differs (binary file; its numbers are in the CSV/JSON files)"


def report_plan(inputs: dict, full: bool = False) -> dict:
    """Which parts of a report ``verify`` re-runs: ``samples`` and ``sobol_n`` to re-run with (a part not
    re-run: the cheapest valid value, its files then checked by hash) and why a part is not re-run."""
    samples, sobol_n = int(inputs["samples"]), int(inputs["sobol_n"])
    mc = full or samples <= MAX_RECOMPUTE_SAMPLES
    from .limits import SOBOL_RUNS_PER_N
    runs = SOBOL_RUNS_PER_N * sobol_n
    sob = full or runs <= MAX_RECOMPUTE_SOBOL_RUNS
    why = []
    if not mc:
        why.append(f"Monte Carlo of {samples:,} samples above the re-run limit of {MAX_RECOMPUTE_SAMPLES:,}")
    if not sob:
        why.append(f"Sobol' indices of up to {runs:,} runs above the re-run limit of {MAX_RECOMPUTE_SOBOL_RUNS:,}")
    return {"samples": samples if mc else 2, "sobol_n": sobol_n if sob else 0, "monte_carlo": mc, "sobol": sob,
            "why": "; ".join(why)}


def verify(folder: str | Path, engine_factory=None, full: bool = False, progress=None,
           study_file: str | Path | None = None) -> Verification:
    """``engine_factory()``: the engine for the re-run (built only when the inputs are unchanged); ``full``:
    re-run a report's Monte Carlo and Sobol' indices whatever their size; ``progress(done, total)``: called
    during a report's Sobol' runs; ``study_file``: the study, where not at the place the manifest records
    (its SHA-256 is checked all the same)."""
    from .outputs import write_footprint, write_report
    from ..api import footprint, report
    from ..inventory.loader import default_root
    folder = Path(folder)
    m = _manifest(folder)
    v = Verification(str(folder))
    for name, digest in m["files"].items():
        f = folder / name
        if not f.is_file():
            v.add(name, False, "missing from the results folder")
        elif sha256(f) != digest:
            v.add(name, False, "changed since it was written (SHA-256 differs from the manifest)")
    inputs = m["rerun_inputs"]
    if study_file is not None:      # given by the verifier (a folder received without the study beside it)
        label = str(study_file)
        study = Path(study_file).resolve()
        if not study.is_file():                  # the verifier's input, not the folder's state: a usage error
            raise LcaBatteryError(f"study file not found: {label}", field="--study",
                                  allowed="the study file the results were written from")
    else:
        label = m.get("study_file") or "study"
        study = (folder / m["study_file"]).resolve() if m.get("study_file") else None
        if study is None or not study.is_file():
            v.add(label, False, "study file not found (looked for it relative to the results folder, where it "
                                "was when the results were written; give it with --study FILE)")
            return v
    if sha256(study) != m["study_sha256"]:
        v.add(label, False, "study changed since the results were written (SHA-256 differs)")
    root = default_root()
    now = inventory_hashes(root)
    then = inputs["inventory_files"]
    for rel in sorted(set(now) | set(then)):
        if rel not in now:
            v.add(f"inventories/{rel}", False, "inventory file removed since the results were written")
        elif rel not in then:
            v.add(f"inventories/{rel}", False, "inventory file added since the results were written")
        elif now[rel] != then[rel]:
            v.add(f"inventories/{rel}", False, "inventory changed since the results were written (SHA-256 differs)")
    try:
        sup_now = supplier_files(str(study), inputs["set"])
    except LcaBatteryError as exc:
        v.add(label, False, f"study no longer loads: {exc}")
        return v
    for rel in sorted(set(sup_now) | set(inputs["supplier_files"])):
        a, b = inputs["supplier_files"].get(rel), sup_now.get(rel)
        if a != b:
            v.add(f"supplier file {rel}", False, "supplier file changed since the results were written"
                  if a and b else "supplier file missing or not listed when the results were written")
    if any(not c.ok for c in v.checks):
        # inputs or outputs changed: a re-run would not tell whether the numbers hold. The shipped inventories
        # come with the code: changed ones beside other code mean another version, and how to get the one used
        if inputs.get("inventory_root") == "shipped" and any(c.file.startswith("inventories/") and not c.ok
                                                              for c in v.checks):
            code = code_check(m, numbers_match=False, shipped_inventories=True)
            if code is not None:
                v.add("code", *code)
        return v
    v.add("inputs", True, f"study, {len(now)} inventory files and {len(sup_now)} supplier files unchanged")
    engine = engine_factory() if engine_factory else None
    is_report = inputs.get("subcommand", "footprint") == "report"
    plan = report_plan(inputs, full) if is_report else None
    tmp = Path(tempfile.mkdtemp(prefix="lca-battery-verify-"))
    try:
        # written at the same depth under a folder of the same name, so relative paths come out the same
        if is_report:
            rep = report(str(study), inputs["set"], engine=engine, samples=plan["samples"], seed=inputs["seed"],
                         sobol_n=plan["sobol_n"], progress=progress)
            fresh = write_report(rep, tmp / folder.name, str(study), sets=inputs["set"])
            skipped = set(_SOBOL_FILES if not plan["sobol"] else ()) | \
                set(_MONTE_CARLO_FILES if not plan["monte_carlo"] else ())
        else:
            result = footprint(str(study), inputs["set"], engine=engine)
            fresh = write_footprint(result, tmp / folder.name, str(study), sets=inputs["set"])
            skipped = set()
        for name in m["files"]:
            if name in skipped:       # its SHA-256 matched above (else the re-run would not have started)
                v.add(name, True, f"checked by hash only, not recomputed ({plan['why']})", recomputed=False)
                continue
            new = fresh / name
            if not new.is_file():
                v.add(name, False, "not written by the re-run")
                continue
            ok, detail = _compare_file(folder / name, new)
            v.add(name, ok, detail)
        for extra in sorted(set(p.name for p in fresh.iterdir()) - set(m["files"]) - {"manifest.json"} - skipped):
            v.add(extra, False, "written by the re-run but not in the manifest")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    code = code_check(m, numbers_match=v.ok, hash_only=bool(v.hash_only))
    if code is not None:
        v.add("code", *code)
    return v


def _code_label(version, git: dict | None, digest: str | None) -> str:
    label = f"lca_battery {version or '(version not recorded)'}"
    if git and git.get("commit"):
        label += f", commit {git['commit'][:10]}" + (" with uncommitted changes" if git.get("uncommitted_changes")
                                                     else "")
    if digest:
        label += f", code {digest[:12]}"
    return label


def code_check(m: dict, numbers_match: bool, hash_only: bool = False,
               shipped_inventories: bool = False) -> tuple[bool, str] | None:
    """Which code wrote the folder (the manifest's version, git commit and code SHA-256) against the code
    re-running it; None when they are the same code. Numbers that match across different code pass
    (and say so); numbers that differ are laid to the code change, with the way to reproduce them;
    ``shipped_inventories``: the shipped inventory files differ too, so the folder is of another version."""
    from .. import __version__
    from .outputs import code_sha256, git_commit
    then_git, now_git = m.get("git") or None, git_commit()
    then_code, now_code = m.get("code_sha256"), code_sha256()
    if then_code is not None:
        same = then_code == now_code
    elif then_git and now_git and then_git.get("commit") and not then_git.get("uncommitted_changes") \
            and not now_git.get("uncommitted_changes"):
        same = then_git["commit"] == now_git["commit"]
    else:
        same = None           # not known: an older manifest without the code's SHA-256 or a commit to compare
    if same:
        return None
    then = _code_label(m.get("lca_battery"), then_git, then_code)
    now = _code_label(__version__, now_git, now_code)
    what = "other code" if same is False else "code not comparable (the manifest records no code SHA-256)"
    if numbers_match:
        return True, (f"written by {then}; re-run by {now}, {what}: every "
                      f"{'recomputed ' if hash_only else ''}number still matches")
    how = (f"git checkout {then_git['commit'][:10]}" if then_git and then_git.get("commit")
           else f"install lca_battery {m.get('lca_battery')}")
    if shipped_inventories:
        return False, (f"written by {then}; re-run by {now}, {what}: the shipped inventories named above "
                       f"come with the code, so this is another version of both; to verify the folder, re-run "
                       f"with the version that wrote it ({how}) and run verify there")
    return False, (f"written by {then}; re-run by {now}, {what}: the differences above may come from "
                   f"the code, not the inputs (which are unchanged); to reproduce the numbers, re-run with the "
                   f"code that wrote them ({how}) and run verify there")
