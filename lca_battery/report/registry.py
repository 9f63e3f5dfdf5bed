"""The dataset register of a footprint and the supplier credits of its tables: which dataset (process) the
study used, with its sources, licence, geography, year, DQR and whether it is company-specific or a default;
supplier figures and PACT files credited in the process and dataset rows (ISO 14067 and the EU declaration's
dataset registry)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.superstructure import all_processes

if TYPE_CHECKING:
    from ..calc import Engine


def credit_suppliers(rows: list[dict], suppliers: list[dict], engine: Engine, solved) -> None:
    """Supplier figures in the process table carry the supplier's source, year, location, DQR and
    verification, not the default dataset's; every supplier row says whether it is used at all."""
    by_id = {s["process"]: s for s in suppliers}
    from ..model.superstructure import supplier_node
    for s in suppliers:
        pid = supplier_node(s["process"], engine.ids)
        s["used"] = bool(pid is not None and solved.supply[engine.column(solved, pid)])
    for r in rows:
        s = by_id.get(r["id"])
        if s is None or s["pcf_kg_co2e_per_kg"] is None:
            r.setdefault("data", "")
            continue
        r.update({"source": f"{s['source']}" + (f" ({s['year']})" if s["year"] else ""), "dqr": s.get("dqr"),
                  # the supplier's own site, or none: the default dataset's would say where the figure is not from
                  "location": s["location"] or "supplier's site not given",
                  "data": f"supplier PCF, {s['verification']}"})


def dataset_registry(engine: Engine, solved, mapping) -> list[dict]:
    """Every dataset (process) the study used, with its sources, licence, geography, year, DQR (and its four
    criteria), version (its inventory file's SHA-256) and whether it is company-specific or a default (secondary)
    dataset."""
    import hashlib
    from pathlib import Path
    from ..inventory.records import DQR_KEYS
    procs = all_processes(engine.inventory)
    root, digests = Path(engine.inventory.root), {}

    def _version(file: str) -> str:
        if file not in digests:
            f = root / file
            digests[file] = (f"{file} sha256:{hashlib.sha256(f.read_bytes()).hexdigest()[:12]}" if f.is_file()
                             else file)
        return digests[file]
    sources = engine.inventory.sources
    supplier_pcf = {s["process"]: s for s in mapping.suppliers if s["pcf_kg_co2e_per_kg"] is not None}
    company_bom = any(b.data == "company-specific" for b in mapping.bom)
    out = []
    for node_id, col in solved.lca.dicts.activity.items():
        if not solved.used(col):
            continue
        p = procs[engine.codes[node_id]]
        keys = sorted({k for k in [p.source, *(x.source for x in p.exchanges)] if k})
        supplier_file = p.file.startswith("supplier/")
        if p.id in supplier_pcf:
            sup = supplier_pcf[p.id]
            out.append({"id": p.id, "name": p.name, "location": sup["location"] or "supplier's site not given",
                        "reference_year": sup["year"],
                        "data": f"company-specific (supplier PCF, {sup['verification']})",
                        "sources": [sup["source"]], "source_keys": [], "licence": "supplier data",
                        "dqr": sup.get("dqr"), "proxy": None,
                        "file": "study: suppliers"})
            continue
        link = engine.links.get(p.id)
        if link is not None:
            out.append({"id": p.id, "name": f"{link.name} | {link.reference_product}", "location": link.location,
                        "reference_year": None, "data": f"secondary (licensed background '{link.key[0]}')",
                        "sources": [f"{link.key[0]}, activity {link.key[1]}: {link.name} | {link.reference_product} | "
                                    f"{link.location} (cumulative inventory, bw2calc)"],
                        "source_keys": [], "licence": f"licence of '{link.key[0]}' (held by the user)",
                        "dqr": None, "proxy": None, "file": f"background: {link.key[0]}"})
            continue
        data = "model structure" if p.file == "model" else \
            "company-specific (supplier inventory)" if supplier_file else "secondary (default)"
        if p.id == mapping.cell_id and company_bom:
            data = "company-specific (bill of materials) with default processes"
        out.append({"id": p.id, "name": p.name, "location": p.location, "reference_year": p.reference_year,
                    "data": data, **{k: p.dqr[k] for k in DQR_KEYS}, "version": _version(p.file),
                    "sources": [f"{sources[k].author} ({sources[k].year}), {sources[k].title}; {sources[k].table}"
                                for k in keys if k in sources],
                    "source_keys": keys,
                    "licence": "; ".join(sorted({sources[k].licence for k in keys if k in sources})),
                    "dqr": p.dqr_value, "proxy": p.proxy, "file": p.file})
    out.sort(key=lambda d: (d["file"], d["id"]))
    return out


def credit_pact_files(study, result: dict) -> None:
    """Supplier figures read from a PACT file: the file's id, version, DQI and verification in the
    datasets table and the supplier rows."""
    if not any(s.pact for s in study.suppliers.values()):
        return
    from ..supplier_pact import supplier_details
    details = supplier_details(study)
    for row in result["datasets"]:
        if row["id"] in details:
            d = details[row["id"]]
            row["pact"] = d
            row["data"] = row["data"].replace("supplier PCF", f"supplier PCF, PACT {d['specVersion']}")
    for s in result["suppliers"]:
        if s["process"] in details:
            s["pact"] = details[s["process"]]
