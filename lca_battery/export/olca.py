"""openLCA JSON-LD zip (olca-schema) of one study: foreground, open background, product system.

What is written:

* one openLCA process per lca_battery process (all databases: background, materials, cells,
  recycling, model), each with its reference product flow (1 unit, quantitative reference);
* amounts: the matrices lca_battery solves (the databases' values read at full precision, with
  the study's entries applied: switch shares, bill of materials, plant energy, recycling,
  supplier figures). A technosphere input with a negative net amount (an avoided product of
  system expansion) is written as an avoided-product output. Entries the study sets to 0 are
  kept as 0 exchanges, so that a consultant can switch alternatives in openLCA as in the study file;
* a product system with the root process (1 kWh of cell capacity) as reference and one process
  link per technosphere input (the provider is the lca_battery process, also set as the
  exchange's default provider);
* elementary flows: lca_battery uses ecoinvent 3.9 elementary flows (bw2io's bundled
  biosphere3). Each is mapped to its EF 3.1 reference flow (the ILCD/EF elementary-flow UUIDs
  that openLCA's EF reference data and LCIA methods use) with randonneur_data's
  ``ecoinvent-3.9.1-biosphere-EF-3.1-biosphere`` mapping (Mutel / UNEP GLAD mapping task force,
  CC-BY-4.0), including its unit scaling. A flow without a mapping keeps its ecoinvent UUID (the
  id openLCA's ecoinvent databases give it) and the export lists it in its notes and in the
  product system's description. No LCIA method is exported: use openLCA's own.

Ids are stable (UUID5 of the database and code), so a re-export overwrites the same datasets.
"""
from __future__ import annotations

import uuid
from pathlib import Path

NS = uuid.UUID("6f1c9e2a-1d0b-4c8e-9a53-1b2c3d4e5f60")      # lca_battery's namespace for openLCA ids
EF_MAPPING = "ecoinvent-3.9.1-biosphere-EF-3.1-biosphere"
OLCA_UNITS = {"kg": "kg", "kWh": "kWh", "MJ": "MJ", "tkm": "t*km", "m3": "m3"}


def uid(*parts) -> str:
    return str(uuid.uuid5(NS, "::".join(parts)))


def ef_mapping() -> dict[str, dict]:
    """ecoinvent 3.9.1 elementary-flow UUID -> EF 3.1 target (uuid, name, context, unit_scaling)."""
    from randonneur_data import Registry
    data = Registry().get_file(EF_MAPPING)
    return {row["source"]["uuid"]: row["target"] for row in data.get("replace", []) if row["source"].get("uuid")}


def study_matrices(scenario, engine):
    """The technosphere and biosphere matrices of the study (databases + the study's entries), as
    dicts: {(input id, output id): amount} with Brightway's signs (inputs positive)."""
    from .ab import _base_matrices
    lca = _base_matrices(engine)
    A, B = lca.technosphere_matrix.tocoo(), lca.biosphere_matrix.tocoo()
    prod = {v: k for k, v in lca.dicts.product.items()}
    act = {v: k for k, v in lca.dicts.activity.items()}
    bio = {v: k for k, v in lca.dicts.biosphere.items()}
    tech: dict[tuple[int, int], float] = {}
    production: dict[int, float] = {}
    for r, c, v in zip(A.row, A.col, A.data):
        i, o = prod[r], act[c]
        if i == o:
            production[o] = float(v)
        else:
            tech[(i, o)] = -float(v)
    biosph = {(bio[r], act[c]): float(v) for r, c, v in zip(B.row, B.col, B.data)}
    for e in scenario.mapping.entries:
        o = engine.ids[e.output]
        if e.matrix == "technosphere":
            tech[(engine.ids[e.input], o)] = e.amount
        else:
            biosph[(engine.bio_id(e.input), o)] = e.amount
    return tech, biosph, production


def write_olca(scenario, engine, out: Path) -> tuple[Path, list[str]]:
    import olca_schema as o
    import olca_schema.units as ou
    import olca_schema.zipio as zipio
    from ..bw.project import biosphere_index
    from ..bw.writer import database_of
    from ..errors import LcaBatteryError
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise LcaBatteryError(f"--out must end in .zip for olca (got '{out.name}')", field="--out")
    engine.activate()
    procs = engine.processes
    tech, biosph, production = study_matrices(scenario, engine)
    flows_by_id = {nid: (flow, code, unit) for flow, (code, unit, nid) in biosphere_index(True).items()}
    mapping = ef_mapping()
    unmapped: set[str] = set()

    def unit_refs(symbol: str):
        s = OLCA_UNITS.get(symbol, symbol)
        u, fp = ou.unit_ref(s), ou.property_ref(s)
        if u is None:
            raise LcaBatteryError(f"unit '{symbol}' has no openLCA reference unit")
        return u, fp

    entities: list = []
    locations: dict[str, o.Ref] = {}

    def location(code: str):
        if code not in locations:
            loc = o.Location(id=uid("location", code), name=code, code=code)
            entities.append(loc)
            locations[code] = o.Ref(ref_type=o.RefType.Location, id=loc.id, name=code)
        return locations[code]

    product: dict[str, tuple] = {}       # code -> (flow ref, unit ref, property ref, process ref)
    for code, p in procs.items():
        u, fp = unit_refs(p.unit)
        db = database_of(p)
        flow = o.Flow(id=uid("flow", db, code), name=f"{p.reference_product} ({code})",
                      flow_type=o.FlowType.PRODUCT_FLOW, category=f"lca_battery/{db}",
                      flow_properties=[o.FlowPropertyFactor(flow_property=fp, conversion_factor=1.0,
                                                            is_ref_flow_property=True)])
        entities.append(flow)
        pref = o.Ref(ref_type=o.RefType.Process, id=uid("process", db, code), name=p.name)
        product[code] = (o.Ref(ref_type=o.RefType.Flow, id=flow.id, name=flow.name), u, fp, pref)

    elem: dict[int, tuple] = {}
    seen: set[str] = set()

    def elementary(nid: int):
        if nid not in elem:
            (name, cats), code, unit = flows_by_id[nid]
            t = mapping.get(code)
            if t is not None:
                fid, fname, ctx, scale = t["uuid"], t["name"], "/".join(t.get("context") or []), \
                    float(t.get("unit_scaling") or 1.0)
            else:
                unmapped.add(f"{name} ({'::'.join(cats)}, ecoinvent {code})")
                fid, fname, ctx, scale = code, name, "/".join(("Elementary flows", *cats)), 1.0
            bw_unit = {"kilogram": "kg", "cubic meter": "m3", "megajoule": "MJ", "kilowatt hour": "kWh",
                       "square meter-year": "m2*a", "square meter": "m2"}.get(unit, unit)
            u, fp = ou.unit_ref(bw_unit), ou.property_ref(bw_unit)
            flow = o.Flow(id=fid, name=fname, flow_type=o.FlowType.ELEMENTARY_FLOW, category=ctx,
                          description=f"ecoinvent 3.9 elementary flow {code}: {name} ({'::'.join(cats)})",
                          flow_properties=[o.FlowPropertyFactor(flow_property=fp, conversion_factor=1.0,
                                                                is_ref_flow_property=True)])
            if fid not in seen:
                seen.add(fid)
                entities.append(flow)
            elem[nid] = (o.Ref(ref_type=o.RefType.Flow, id=fid, name=fname), u, fp, scale)
        return elem[nid]

    inputs: dict[int, list] = {}
    for (i, oid), v in tech.items():
        inputs.setdefault(oid, []).append((i, v))
    emissions: dict[int, list] = {}
    for (f, oid), v in biosph.items():
        emissions.setdefault(oid, []).append((f, v))

    links = []
    for code, p in procs.items():
        nid = engine.ids[code]
        fref, u, fp, pref = product[code]
        proc = o.Process(id=pref.id, name=p.name, process_type=o.ProcessType.UNIT_PROCESS,
                         category=f"lca_battery/{database_of(p)}", location=location(p.location or "GLO"),
                         description=" ".join(s for s in (p.comment, f"lca_battery process '{code}' "
                                                          f"({p.file}); source: {p.source}") if s))
        ref = o.new_output(proc, fref, production.get(nid, 1.0), u)
        ref.flow_property, ref.is_quantitative_reference = fp, True
        for i, v in sorted(inputs.get(nid, []), key=lambda t: engine.codes[t[0]]):
            icode = engine.codes[i]
            ifref, iu, ifp, ipref = product[icode]
            if v < 0:
                x = o.new_output(proc, ifref, -v, iu)
                x.is_avoided_product = True
            else:
                x = o.new_input(proc, ifref, v, iu)
            x.flow_property, x.default_provider = ifp, ipref
            links.append(o.ProcessLink(provider=ipref, flow=ifref, process=pref,
                                       exchange=o.ExchangeRef(internal_id=x.internal_id)))
        for f, v in sorted(emissions.get(nid, []), key=lambda t: t[0]):
            eref, eu, efp, scale = elementary(f)
            x = o.new_output(proc, eref, v * scale, eu)
            x.flow_property = efp
        entities.append(proc)

    from ..model.superstructure import ROOT
    root = product[ROOT]
    notes = []
    if unmapped:
        notes.append(f"{len(unmapped)} elementary flow(s) without an EF 3.1 mapping keep their ecoinvent 3.9 id: "
                     + "; ".join(sorted(unmapped)))
    ps = o.ProductSystem(id=uid("product-system", scenario.name), name=f"lca_battery: {scenario.name}",
                         ref_process=root[3], ref_exchange=o.ExchangeRef(internal_id=1),
                         target_amount=1.0, target_unit=root[1], target_flow_property=root[2],
                         processes=[v[3] for v in product.values()], process_links=links,
                         description=f"Study {scenario.name} ({Path(scenario.file).name}), 1 kWh of cell capacity, "
                                     f"exported by lca-battery. " + " ".join(notes))
    entities.append(ps)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with zipio.ZipWriter(str(tmp)) as w:
        for e in entities:
            w.write(e)
    tmp.replace(out)
    return out, notes
