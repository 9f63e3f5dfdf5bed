"""Write validated inventory records (and the generated superstructure) as Brightway databases.

One Brightway database per inventory folder (``lcab-background``, ``lcab-materials``,
``lcab-cells``, ``lcab-recycling``) plus ``lcab-model`` for what the engine generates (plant
switches, allocation variants, the product-system root). Databases reference each other, so
every node is written first and the matrices are processed once all nodes exist.
"""
from __future__ import annotations

from ..errors import InventoryError
from .. import units
from ..units import BRIGHTWAY_UNIT_NAMES
from .project import BIOSPHERE, bd, biosphere_index

DB_PREFIX = "lcab-"


def database_of(process) -> str:
    folder = process.file.split("/")[0] if "/" in process.file else "model"
    return DB_PREFIX + folder


def _bw_unit(unit: str) -> str:
    return BRIGHTWAY_UNIT_NAMES.get(unit, unit)


def node_data(p, db_of: dict[str, str], bio: dict) -> tuple[dict, list[str]]:
    """The Brightway dataset of one process; biosphere flows resolved by (name, categories)."""
    problems = []
    exchanges = [{"input": (db_of[p.id], p.id), "amount": 1.0, "type": "production"}]
    for x in p.exchanges:
        if x.kind == "technosphere":
            # an avoided product is written the Brightway way: type substitution, positive amount
            exchanges.append({
                "input": (db_of[x.target], x.target), "amount": -x.amount if x.substitution else x.amount,
                "type": "substitution" if x.substitution else "technosphere",
                "source": x.source, "comment": x.comment or ""})
        else:
            hit = bio.get((x.target, x.compartment))
            if hit is None:
                problems.append(f"{p.file}: process '{p.id}': biosphere flow '{x.target}' in "
                                f"'{'::'.join(x.compartment)}' is not a biosphere3 flow")
                continue
            code, flow_unit = hit
            target_unit = {v: k for k, v in BRIGHTWAY_UNIT_NAMES.items()}.get(flow_unit, flow_unit)
            try:
                amount = x.amount * units.factor(x.unit, target_unit)
            except Exception as exc:  # UnitError
                problems.append(f"{p.file}: process '{p.id}': flow '{x.target}': {exc}")
                continue
            exchanges.append({"input": (BIOSPHERE, code), "amount": amount, "type": "biosphere",
                              "source": x.source, "aggregated": x.aggregated,
                              "comment": x.comment or ""})
    for name, target in p.alternatives.items():
        exchanges.append({"input": (db_of[target], target), "amount": p.default.get(name, 0.0),
                          "type": "technosphere", "alternative": name,
                          "comment": f"alternative '{name}' of switch {p.switch}; share set by the study"})
    data = {
        "name": p.name, "reference product": p.reference_product, "unit": _bw_unit(p.unit),
        "location": p.location, "type": "process", "exchanges": exchanges,
        "lcab_stage": p.stage, "lcab_source": p.source, "lcab_dqr": p.dqr, "lcab_file": p.file,
        "lcab_reference_year": p.reference_year, "lcab_switch": p.switch,
        "comment": " ".join(s for s in (p.comment, f"Proxy: {p.proxy}" if p.proxy else None) if s),
    }
    return data, problems


def with_default_study(inventory, procs: dict) -> dict:
    """The processes with the default study's amounts (``study.DEFAULT_STUDY``), so that the
    product system opened in Activity Browser is the default cell; unchanged if the inventory
    cannot run the default study (e.g. a test inventory without NMC811)."""
    from ..errors import LcaBatteryError
    from ..model.entries import apply_entries, study_mapping
    from ..study import DEFAULT_STUDY, load_study
    try:
        study = load_study(DEFAULT_STUDY)
        return apply_entries(procs, study_mapping(study, inventory).entries)
    except LcaBatteryError:
        return procs


def linked_node(data: dict, pid: str, db: str, lci: list[tuple[str, float]], link) -> dict:
    """The dataset of an open background node linked to a licensed database (see
    :mod:`lca_battery.background`): its exchanges are the linked activity's cumulative inventory."""
    exchanges = [x for x in data["exchanges"] if x["type"] == "production"]
    exchanges += [{"input": (BIOSPHERE, code), "amount": amount, "type": "biosphere",
                   "comment": f"cumulative inventory of {link.key[0]}: {link.name} | {link.reference_product} | "
                              f"{link.location}"} for code, amount in lci]
    return data | {"exchanges": exchanges, "location": link.location,
                   "lcab_background": {"database": link.key[0], "code": link.key[1], "name": link.name,
                                       "reference product": link.reference_product, "location": link.location,
                                       "factor": link.factor},
                   "comment": f"Linked to the licensed background: {link.name} | {link.reference_product} | "
                              f"{link.location} ({link.key[0]}), as its cumulative inventory (LCI) per {data['unit']}."}


def write_databases(inventory, progress=None, background=None, lcis=None) -> list[str]:
    """Write all processes (inventory + generated) to Brightway. Returns the database names.

    ``background`` (a :class:`lca_battery.background.Background`) and ``lcis`` (open id -> LCI):
    the linked open background nodes are written as their licensed activity's inventory."""
    from ..model.superstructure import all_processes
    b = bd()
    procs = with_default_study(inventory, all_processes(inventory))
    db_of = {p.id: database_of(p) for p in procs.values()}
    bio = biosphere_index()
    grouped: dict[str, dict] = {}
    problems: list[str] = []
    for p in procs.values():
        data, probs = node_data(p, db_of, bio)
        if background is not None and p.id in background.links:
            data, probs = linked_node(data, p.id, db_of[p.id], lcis[p.id], background.links[p.id]), []
        problems += probs
        grouped.setdefault(db_of[p.id], {})[(db_of[p.id], p.id)] = data
    if problems:
        raise InventoryError(problems)
    for name in list(b.databases):
        if name.startswith(DB_PREFIX) and name not in grouped:
            del b.databases[name]
    items = sorted(grouped.items())
    try:
        from tqdm import tqdm
        iterator = tqdm(items, desc="writing Brightway databases", disable=progress is None, leave=False)
    except ImportError:  # pragma: no cover
        iterator = items
    for name, data in iterator:
        db = b.Database(name)
        db.register(description=f"lca_battery open inventories ({name[len(DB_PREFIX):]}), "
                                f"content hash {inventory.content_hash[:12]}" + (
                                    f"; background linked to '{background.database}' (project "
                                    f"'{background.project}')" if background is not None else ""))
        db.write(data, process=False, check_typos=False, searchable=True)
    for name, _ in items:
        b.Database(name).process()
    return [name for name, _ in items]


def node_ids(databases) -> dict[str, int]:
    """Process id (our code) -> Brightway node id, over the lca_battery databases."""
    import bw2data.backends as backends
    A = backends.ActivityDataset
    return {row.code: row.id for row in A.select(A.code, A.id).where(A.database.in_(list(databases)))}
