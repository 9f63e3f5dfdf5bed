"""A licensed background (ecoinvent, or a premise-transformed ecoinvent) under lca_battery's foreground.

``background: {database: "ecoinvent-3.10-cutoff", project: "ei310"}`` in a study names a database
the user imported into one of their Brightway projects (bw2io's ``import_ecoinvent_release`` or
ecoinvent_interface; lca_battery never downloads or ships ecoinvent). A mapping file in
randonneur's datapackage format (default ``inventories/mappings/ecoinvent.json``, verb
``replace``, source ``code`` = open process id, target ``name`` / ``reference product`` /
``location`` plus ``location fallback``) says which ecoinvent activity stands for each open
background process; randonneur applies it to the foreground's edges.

How it is linked. Each mapped open background node is written, in a Brightway project of its
own (``<project>-bg-<hash>``; the default project and the user's project are not touched), as
the cumulative inventory (LCI) of its ecoinvent activity, computed with bw2calc on the user's
database, per unit of the open node (units converted; a waste-treatment activity, whose
reference flow is negative in ecoinvent, is run for one unit treated). The foreground - cells,
cathode chain, recycling, loops, switches - and every contribution, stage and mass-balance
analysis stay lca_battery's; the background's score enters through those nodes exactly.

Errors, each one message, before anything is computed: the project or database does not exist;
mapped activities are absent (every one listed); the database's elementary flows are not those
of the biosphere lca_battery characterizes (bw2io's bundled ecoinvent 3.9 biosphere, matched by
flow UUID): e.g. an ecoinvent 3.10 database with its 3.10 biosphere.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LcaBatteryError

DEFAULT_MAPPING = "mappings/ecoinvent.json"     # relative to the inventory folder


class BackgroundError(LcaBatteryError):
    """The licensed background cannot be used as asked."""


@dataclass(frozen=True)
class Link:
    """One open background node linked to an activity of the user's database."""
    pid: str
    key: tuple[str, str]            # (database, code) in the user's project
    name: str
    reference_product: str
    location: str
    unit: str                       # the activity's unit (Brightway name)
    factor: float                   # activity units per unit of the open node
    preferred_location: str


@dataclass
class Background:
    project: str
    database: str
    mapping_file: str
    links: dict[str, Link] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)     # open background nodes that stay open
    fingerprint: str = ""
    #: the user's project folder and the database's modification state as bw2data records it there
    #: (``databases.json``: modified, number), read when resolved; the warm cache checks them
    project_dir: str = ""
    state: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return {"type": "licensed database", "project": self.project, "database": self.database,
                "mapping": mapping_label(self.mapping_file),
                "linked": {pid: {"database": l.key[0], "code": l.key[1], "name": l.name,
                                 "reference_product": l.reference_product, "location": l.location,
                                 "unit": l.unit, "factor": l.factor}
                           for pid, l in sorted(self.links.items())},
                "open_nodes_kept": sorted(self.unmapped)}


def mapping_label(path: str) -> str:
    """The mapping file without an absolute path (results must not depend on the machine): ``shipped:
    mappings/ecoinvent.json`` for one in the package's inventories, else ``custom: <file name> (sha256 <12>)``."""
    p = Path(path).resolve()
    pkg = Path(__file__).resolve().parent
    for root in (pkg.parent / "inventories", pkg / "_inventories"):
        try:
            return f"shipped: {p.relative_to(root.resolve()).as_posix()}"
        except ValueError:
            continue
    try:
        digest = hashlib.sha256(p.read_bytes()).hexdigest()[:12]
    except OSError:
        digest = "unreadable"
    return f"custom: {p.name} (sha256 {digest})"


OPEN = {"type": "open", "description": "lca_battery's open, cited inventories (inventories/background)"}


def mapping_path(inventory, mapping: str | None) -> Path:
    path = Path(mapping) if mapping else Path(inventory.root) / DEFAULT_MAPPING
    if not path.is_file():
        raise BackgroundError(f"mapping file not found: {path}", field="background.mapping")
    return path


def _quiet_randonneur() -> None:
    from loguru import logger
    logger.disable("randonneur")


def read_mapping(path: Path, background_ids) -> dict[str, dict]:
    """Open background id -> wanted activity (name, reference product, location, fallback): the
    randonneur datapackage applied with randonneur to the edges of the open background."""
    from randonneur import Datapackage, MigrationConfig, migrate_edges
    _quiet_randonneur()
    try:
        dp = Datapackage.from_json(path)
    except Exception as exc:
        raise BackgroundError(f"not a randonneur datapackage: {exc}", file=str(path)) from None
    graph = [{"edges": [{"code": pid} for pid in sorted(background_ids)]}]
    migrate_edges(graph, {"replace": dp.data.get("replace", [])},
                  config=MigrationConfig(fields=["code"], add_extra_attributes=True))
    out = {}
    for edge in graph[0]["edges"]:
        if "name" in edge:
            out[edge["code"]] = edge
    unknown = sorted({r["source"].get("code") for r in dp.data.get("replace", [])} - set(background_ids))
    if unknown:
        raise BackgroundError(f"the mapping names processes that are not open background processes: "
                              f"{', '.join(unknown)}", file=str(path))
    return out


def _project_holding(database: str) -> str:
    """The one Brightway project (not lca_battery's own) that holds ``database``."""
    from .bw.project import PROJECT_NAME, bd
    b = bd()
    before, found = b.projects.current, []
    try:
        for p in sorted(p.name for p in b.projects):
            if p.startswith(PROJECT_NAME):
                continue
            _switch_project(p)
            if database in b.databases:
                found.append(p)
    finally:
        _switch_project(before)
    if len(found) != 1:
        raise BackgroundError(f"database '{database}' is in {len(found) or 'no'} Brightway project"
                              f"{'s' if len(found) != 1 else ''}{': ' + ', '.join(found) if found else ''}; "
                              f"name the project", field="background.project")
    return found[0]


def _switch_project(name: str) -> None:
    from .bw.project import bd
    b = bd()
    if b.projects.current != name:
        b.projects.set_current(name)


def resolve(spec, inventory, processes) -> Background:
    """Check the user's project and database and find every mapped activity (all missing ones are
    reported together). Leaves the current project as it found it."""
    from .bw.project import bd
    from .units import BRIGHTWAY_UNIT_NAMES, factor
    b = bd()
    before = b.projects.current
    path = mapping_path(inventory, spec.mapping)
    bg_ids = [pid for pid, p in processes.items() if p.file.startswith("background/") and not p.switch]
    wanted = read_mapping(path, bg_ids)
    project = spec.project or _project_holding(spec.database)
    if project not in b.projects:
        raise BackgroundError(f"Brightway project '{project}' does not exist (data folder {b.projects._base_data_dir})",
                              field="background.project", allowed=", ".join(sorted(p.name for p in b.projects)))
    try:
        _switch_project(project)
        if spec.database not in b.databases:
            raise BackgroundError(f"database '{spec.database}' does not exist in the Brightway project '{project}'",
                                  field="background.database", allowed=", ".join(sorted(b.databases)) or "none")
        import bw2data.backends as backends
        A = backends.ActivityDataset
        index: dict[tuple, tuple] = {}
        for row in A.select(A.code, A.name, A.product, A.location, A.data, A.type).where(
                A.database == spec.database):
            if row.type not in (None, "process", "processwithreferenceproduct"):
                continue
            product = row.product or row.data.get("reference product")
            index[(row.name, product, row.location)] = (row.code, row.data.get("unit", ""))
        meta = dict(b.databases[spec.database])
        project_dir = str(Path(b.projects.dir).resolve())
    finally:
        _switch_project(before)
    links, missing = {}, []
    to_short = {v: k for k, v in BRIGHTWAY_UNIT_NAMES.items()}
    for pid, w in sorted(wanted.items()):
        locs = [w["location"], *w.get("location fallback", [])]
        hit = next(((loc, index[(w["name"], w["reference product"], loc)]) for loc in locs
                    if (w["name"], w["reference product"], loc) in index), None)
        if hit is None:
            missing.append(f"{pid} -> '{w['name']}' | '{w['reference product']}' | {' -> '.join(locs)}")
            continue
        loc, (code, unit) = hit
        try:
            f = factor(processes[pid].unit, to_short.get(unit, unit))
        except LcaBatteryError:
            missing.append(f"{pid} -> '{w['name']}' ({loc}): unit '{unit}' cannot stand for "
                           f"'{processes[pid].unit}'")
            continue
        links[pid] = Link(pid, (spec.database, code), w["name"], w["reference product"], loc, unit, f, w["location"])
    if missing:
        raise BackgroundError(f"{len(missing)} mapped activit{'y is' if len(missing) == 1 else 'ies are'} "
                              f"missing from database '{spec.database}' (project '{project}'), "
                              f"mapping {path}:\n  " + "\n  ".join(missing), field="background")
    h = hashlib.sha256(json.dumps([project, spec.database, str(meta.get("modified")), meta.get("number"),
                                   path.read_bytes().decode(), sorted((k, v.key) for k, v in links.items())],
                                  default=str).encode())
    return Background(project, spec.database, str(path), links, sorted(set(bg_ids) - set(links)), h.hexdigest(),
                      project_dir, database_state(meta))


def database_state(meta: dict) -> dict:
    """:func:`lca_battery.bw.project.database_state`: the fields the linked project's fingerprint holds, so the
    warm cache is stale exactly when the link is rebuilt."""
    from .bw.project import database_state as state
    return state(meta)


def read_database_state(project_dir: str, database: str) -> dict | None:
    """:func:`database_state` read from the project folder's ``databases.json`` without bw2data (the warm
    path); None when the folder, the file or the database is gone."""
    from .bw.project import databases_state
    return databases_state(project_dir, [database])[database]


def link_inventories(bg: Background, bio_codes: dict[str, int] | set) -> dict[str, list[tuple[str, float]]]:
    """Open id -> [(biosphere3 code, amount)] per unit of the open node: the cumulative LCI of each
    linked activity, computed with bw2calc in the user's project. Raises on a biosphere mismatch."""
    import numpy as np
    import bw2calc as bc
    from .bw.project import bd
    b = bd()
    before = b.projects.current
    try:
        _switch_project(bg.project)
        ids = {pid: b.get_node(database=l.key[0], code=l.key[1]) for pid, l in bg.links.items()}
        first = next(iter(ids.values()))
        lca = bc.LCA({first.id: 1.0}, data_objs=_datapackages(b, bg.database))
        lca.load_lci_data()                       # the matrices; solved below with one factorisation
        from .linalg import factorise
        lu = factorise(lca.technosphere_matrix)   # of an ecoinvent-size matrix: KLU when kvxopt imports
        import bw2data.backends as backends
        A = backends.ActivityDataset
        rev = {}
        bio_ids = list(lca.dicts.biosphere)
        for row in A.select(A.id, A.code, A.database, A.name).where(A.id.in_(bio_ids)):
            rev[row.id] = (row.code, row.database, row.name)
        foreign = sorted({(d, n, c) for i, (c, d, n) in rev.items() if c not in bio_codes})
        if foreign:
            dbs = sorted({d for d, _, _ in foreign})
            ex = "; ".join(f"'{n}' ({c})" for _, n, c in foreign[:3])
            raise BackgroundError(
                f"biosphere mismatch: database '{bg.database}' uses {len(foreign)} elementary flows of "
                f"{', '.join(repr(d) for d in dbs)} that are not in the biosphere lca_battery characterizes "
                f"(bw2io's bundled ecoinvent 3.9 biosphere, matched by flow UUID), e.g. {ex}. Use a database "
                f"linked to the ecoinvent 3.9 biosphere (ecoinvent 3.9.x, or premise on 3.9)", field="background")
        codes = [rev[i][0] for i in bio_ids]
        out = {}
        pids = list(ids)
        demand = np.zeros((len(lca.dicts.product), len(pids)))
        production = {}
        for k, pid in enumerate(pids):
            node = ids[pid]
            production[pid] = sum(float(x["amount"]) for x in node.production()) or 1.0
            demand[lca.dicts.product[node.id], k] = production[pid]
        supply = lu.solve(demand) if pids else demand          # every linked activity in one solve
        for k, pid in enumerate(pids):
            # one run of the activity; per unit of its reference flow (a waste treatment's is negative in
            # ecoinvent: one unit treated), then per unit of the open node
            inv = (np.asarray(lca.biosphere_matrix @ supply[:, k]).ravel() / abs(production[pid])
                   * bg.links[pid].factor)
            out[pid] = [(codes[r], float(inv[r])) for r in np.flatnonzero(inv)]
        return out
    finally:
        _switch_project(before)


def _datapackages(b, database: str) -> list:
    """Technosphere and biosphere matrices of ``database`` and the databases it depends on, read at
    float64 from the stored exchanges (bw2data's processed arrays are float32)."""
    import numpy as np
    import bw_processing as bwp
    import bw2data.backends as backends
    seen, todo = [], [database]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.append(name)
            todo.extend(b.databases[name].get("depends", []))
    A, E = backends.ActivityDataset, backends.ExchangeDataset
    ids = {(r.database, r.code): r.id for r in A.select(A.database, A.code, A.id).where(A.database.in_(seen))}
    tech, bio = [], []
    for row in E.select(E.data, E.type).where(E.output_database.in_(seen)):
        d = row.data
        inp, out, amount = ids[tuple(d["input"])], ids[tuple(d["output"])], float(d["amount"])
        if row.type == "biosphere":
            bio.append((inp, out, amount, False))
        elif row.type in ("production", "substitution", "generic production"):
            tech.append((inp, out, amount, False))
        elif row.type in ("technosphere", "generic consumption"):
            tech.append((inp, out, amount, True))
    produced = {r[1] for r in tech if not r[3] and r[0] == r[1]}
    for r in A.select(A.id, A.type).where(A.database.in_(seen)):   # as bw2data: a process without a
        if r.type in (None, "process", "processwithreferenceproduct") and r.id not in produced:  # production
            tech.append((r.id, r.id, 1.0, False))                   # exchange makes one unit
    dp = bwp.create_datapackage(sequential=True, sum_intra_duplicates=True, sum_inter_duplicates=False)
    for matrix, rows in (("technosphere_matrix", tech), ("biosphere_matrix", bio)):
        dp.add_persistent_vector(
            matrix=matrix, name=f"background-{matrix}",
            indices_array=np.array([(r[0], r[1]) for r in rows], dtype=bwp.INDICES_DTYPE),
            data_array=np.array([r[2] for r in rows], dtype=np.float64),
            flip_array=np.array([r[3] for r in rows], dtype=bool))
    return [dp]
