"""Recycling loops, recycled content and end-of-life accounting on one physical model.

Generated structure (written once with the databases; a study sets amounts):

``supply__<virgin product>`` (one per battery metal salt: CoSO4, NiSO4, MnSO4, LiOH, Li2CO3)
    What pCAM and CAM consume instead of the virgin salt: a switch over the virgin salt, the
    recycled salt of each route (post-consumer or external pre-consumer feed, entering
    burden-free under cut-off) and the salt recovered from the cell plant's own cathode scrap.
    Shares are metal shares (R1); amounts are scaled by metal content, so 1 kg of supply always
    carries the metal of 1 kg of the virgin salt.
``scrap_treatment__<route>__<chemistry>``
    Recycling of cathode production scrap: consumes the scrapped cathode itself (``cathode_X``) and
    the route's inputs. The metals it recovers go back to pCAM through the supply switches: a
    cycle cathode -> scrap -> recovered salt -> pCAM -> CAM -> cathode, solved by the one sparse
    solve.
``scrap_recovered__<metal>__<route>__<chemistry>``
    One product per recovered metal salt, sharing the scrap treatment by mass of product.
``eol_treatment__<route>__<chemistry>``
    End of life of 1 kg of collected cell: the route's inputs and, as substitutions, the virgin
    salts and metals its recovered products replace (stage end_of_life).

Accounting rules (study ``recycling.accounting``), on the same physical flows:

* ``cut_off``: recycled content carries the recycling burden only; no end-of-life credit.
* ``avoided_burden``: recycled content carries the virgin burden; the cell's end of life
  carries the recycling burden and the credit of the virgin material it replaces.
* ``cff``: circular footprint formula (Recommendation (EU) 2021/2279, Annex I), material part:
  ``(1-R1) Ev + R1 (A Erec + (1-A) Ev Qsin/Qp) + (1-A) R2 (ErecEoL - E*v Qsout/Qp)``.
  Cut-off is the CFF with ``A = 1`` and avoided burden with ``A = 0`` (and Q = 1).
"""
from __future__ import annotations

from ..inventory.records import COPRODUCT_GRADES, Exchange, Inventory, Process

#: battery metals whose salts get a supply switch: metal -> virgin salt ids (as consumed by pCAM/CAM)
METAL_SALTS = {
    "Co": ("cobalt_sulfate_virgin",),
    "Ni": ("nickel_sulfate",),
    "Mn": ("manganese_sulfate",),
    "Li": ("lithium_hydroxide", "lithium_carbonate"),
}
SUPPLY_PREFIX = "supply__"
ACCOUNTING = ("cut_off", "avoided_burden", "cff")
#: EU Battery Regulation (EU) 2023/1542, Art. 8: minimum recycled content (share of the metal)
EU_MINIMUM_RECYCLED_CONTENT = {
    2031: {"Co": 0.16, "Li": 0.06, "Ni": 0.06},
    2036: {"Co": 0.26, "Li": 0.12, "Ni": 0.15},
}


#: EU Battery Regulation (EU) 2023/1542, Annex XII Part C: targets for the recovery of materials from waste
#: batteries (share of each metal in the waste batteries that a recycler recovers), by the end of the year
EU_MATERIAL_RECOVERY_TARGETS = {
    2027: {"Co": 0.90, "Ni": 0.90, "Li": 0.50, "Cu": 0.90},
    2031: {"Co": 0.95, "Ni": 0.95, "Li": 0.80, "Cu": 0.95},
}


def recovery_against_targets(route: Process) -> dict:
    """A route's modelled recovery (metal in its products over metal in its feed, ``recovery``) of the metals that
    its feed holds and that the EU targets name, and per target year the metals below the target:
    ``{"recovery": {metal: share}, "below": {year: [metal, ...]}}``."""
    feed = route.extra.get("feed_composition") or {}
    recovery = route.extra["recovery"]
    named = dict.fromkeys(m for targets in EU_MATERIAL_RECOVERY_TARGETS.values() for m in targets)
    held = {m: float(recovery.get(m, 0.0)) for m in named if feed.get(m, 0.0) > 0}
    return {"recovery": held,
            "below": {str(year): [m for m, r in held.items() if r < targets[m] - 1e-12]
                      for year, targets in EU_MATERIAL_RECOVERY_TARGETS.items()},
            # a full recovery is what the source's product masses give over the feed, not a measured rate: an
            # upper bound (the route's allocation_note says how it was derived)
            "complete": [m for m, r in held.items() if r >= 1.0 - 1e-9]}


def supply_id(salt: str) -> str:
    return SUPPLY_PREFIX + salt


def routes(inventory: Inventory) -> dict[str, Process]:
    """Route name (``hydro_nmc``...) -> its multi-output process, for routes with recovery rates."""
    return {p.id[len("recycling_"):]: p for p in inventory.processes.values()
            if p.id.startswith("recycling_") and p.coproducts and "recovery" in p.extra}


def route_applies(route: str, cell, procs: dict) -> bool:
    """LFP routes treat LFP cells; NMC routes treat cells that hold Co or Ni (their inputs' composition)."""
    from .cell import element_content
    if route.endswith("_lfp"):
        return cell.id.endswith("_lfp")
    return not cell.id.endswith("_lfp") and any(element_content(cell.id, procs).get(m, 0.0) > 0 for m in ("Co", "Ni"))


def route_product(route: Process, metal: str):
    """The co-product of ``route`` that carries ``metal`` (largest mass fraction), or None."""
    best = None
    for c in route.coproducts:
        f = c.composition.get(metal, 0.0)
        if f > 0 and (best is None or f > best.composition.get(metal, 0.0)):
            best = c
    return best


def _route_inputs(route: Process, scale: float, note: str, feed_carbon: bool = True) -> list[Exchange]:
    """The route's exchanges x ``scale``; without ``feed_carbon``, less the CO2 of its feed's own carbon."""
    return [Exchange(x.kind, x.target, x.amount * scale, x.unit, x.source, x.compartment, x.aggregated,
                     x.substitution, x.proxy or note, x.comment, x.feed_carbon)
            for x in route.exchanges if feed_carbon or not x.feed_carbon]


#: kg CO2 per kg of carbon burned (44.009 / 12.011)
CO2_PER_C = 44.009 / 12.011
#: The metals a route's reagents are taken to follow when it treats cathode scrap in place of spent cells
SCRAP_METALS = ("Co", "Ni", "Mn", "Li")


def scrap_scale(route: Process, scrap: dict[str, float]) -> float:
    """kg of spent cells whose reagents and energy treat 1 kg of cathode scrap: the route's inputs per kg of its
    feed, taken per kg of the battery metals (Co, Ni, Mn, Li) the feed holds, for the metals of the scrap. The
    reagents that make the recovered salts (acid for sulfates, soda ash for carbonate) follow the metal, so the
    scrap's salts hold no sulfur or carbon their reagents did not bring (per kg of scrap, which holds 1.6-2.5 times
    the metal of a spent cell, they did)."""
    feed = sum(route.extra.get("feed_composition", {}).get(m, 0.0) for m in SCRAP_METALS)
    metal = sum(scrap.get(m, 0.0) for m in SCRAP_METALS)
    return metal / feed if feed > 0 else 1.0


def credit_kg(content: dict[str, float], recovery: dict[str, float], metal: str, f_sub: float) -> float:
    """The end-of-life credit per kg of cell: its ``metal``, recovered, as kg of the avoided product (negative)."""
    return -content.get(metal, 0.0) * recovery.get(metal, 0.0) / f_sub


#: (form of a recycled product, salt of the supply mix) -> the inventory's conversion of one into the other: a
#: route's Li2CO3 in the LiOH·H2O supply mix is causticised first, as a CAM maker would have to
CONVERSIONS = {("lithium_carbonate", "lithium_hydroxide"): "lithium_hydroxide_from_carbonate"}


def _in_salt_form(salt: str, product: str, form: str | None, procs: dict, out: list,
                  like: str | None = None) -> str:
    """The process that supplies ``salt`` from ``product`` (a recycled or own-scrap salt in the form of the virgin
    ``form`` it replaces): ``product`` itself, or a copy of the inventory's conversion (:data:`CONVERSIONS`) that
    takes ``product`` in place of its virgin input, made once and appended to ``out``. ``like``: a process of
    ``procs`` with ``product``'s composition and name (``product`` itself when it is one)."""
    conv = CONVERSIONS.get((form, salt))
    if form is None or form == salt or conv not in procs:
        return product
    pid = f"{conv}__{product}"
    if not any(p.id == pid for p in out):
        base = procs[conv]
        f_in = procs[form].composition
        f_product = procs[like or product].composition
        metal = next(m for m in f_in if m in f_product)
        exs = tuple(Exchange(x.kind, product, x.amount * f_in[metal] / f_product[metal], x.unit, x.source,
                             x.compartment, x.aggregated, x.substitution, x.proxy,
                             f"{product} in place of {form}, the same {metal} ({x.comment or ''})".rstrip(" ()"))
                    if x.kind == "technosphere" and x.target == form else x for x in base.exchanges)
        # named after ``product`` itself (a scrap loop's own salt, made in ``out``), not ``like``: copies for several
        # products of one composition keep names of their own (Activity Browser lists, bw2io links by name)
        src = procs.get(product) or next((p for p in out if p.id == product), None) or procs[like or product]
        out.append(Process(**{**base.__dict__, "id": pid, "exchanges": exs,
                              "name": f"{base.name}, from {src.name}",
                              "comment": f"{base.comment} This copy converts {product}."}))
    return pid


#: the end-of-life treatments' own emissions, apart from their inputs (one process per route), and the fossil carbon
#: of a spent cell burned (per kg C): a study scales them with technosphere entries (the accounting rule's 1 - A,
#: the study cell's carbon), so that no study changes a cell of the biosphere matrix (the sweep engine's fast paths
#: update the technosphere only)
EOL_DIRECT_PREFIX = "eol_direct__"
FOSSIL_CARBON_BURNED = "fossil_carbon_burned"


def _emission_links(route: Process, out: list) -> list[Exchange]:
    """The end-of-life treatment's links to its route's direct emissions and to the feed's carbon burned (processes
    made once and appended to ``out``): per kg of spent battery, as the route gives them."""
    from .base import CO2_FOSSIL, _model_process
    direct = [x for x in route.exchanges if x.kind == "biosphere" and not x.feed_carbon]
    carbon = sum(x.amount for x in route.exchanges if x.kind == "biosphere" and x.feed_carbon) / CO2_PER_C
    links, made = [], {p.id for p in out}
    if direct:
        pid = EOL_DIRECT_PREFIX + route.id[len("recycling_"):]
        if pid not in made:
            out.append(_model_process(pid, f"direct emissions of {route.name}", "spent battery treated (emissions)",
                                      "kg", route.location, stage="end_of_life", exchanges=direct,
                                      comment=f"The biosphere exchanges of {route.id}, per kg of spent battery.",
                                      dqr=dict(route.dqr), reference_year=route.reference_year, source=route.source))
        links.append(Exchange("technosphere", pid, 1.0, "kg", route.source or "lcab_model",
                              comment="the route's own emissions, per kg of spent battery"))
    if carbon:
        if FOSSIL_CARBON_BURNED not in made:
            out.append(_model_process(
                FOSSIL_CARBON_BURNED, "fossil carbon of spent cells burned in recycling", "carbon burned", "kg",
                "GLO", stage="end_of_life", source="stoichiometry",
                exchanges=[Exchange("biosphere", CO2_FOSSIL[0], CO2_PER_C, "kg", "stoichiometry", CO2_FOSSIL[1],
                                    comment="C + O2 -> CO2, 44.009 / 12.011 kg CO2 per kg C")]))
        links.append(Exchange("technosphere", FOSSIL_CARBON_BURNED, carbon, "kg", "stoichiometry",
                              comment="the feed's fossil carbon (graphite, electrolyte, separator, binders) the route "
                                      "burns, kg C per kg of spent battery as the route gives it; a study's own cell's "
                                      "carbon in its place"))
    return links


def _through_conversion(pid: str, procs: dict, metal: str) -> tuple[str, float]:
    """``pid`` of a supply alternative, or, when it is a conversion copy (:func:`_in_salt_form`), the product it
    converts; and the share of that product's ``metal`` the conversion puts into its own product (1 without one)."""
    if not any(pid.startswith(conv + "__") for conv in CONVERSIONS.values()):
        return pid, 1.0
    p, product = procs[pid], pid.split("__", 1)[1]          # named by _in_salt_form: <conversion>__<product>
    x = next(x for x in p.exchanges if x.target == product)
    return product, p.composition[metal] / (x.amount * procs[product].composition[metal])


def generated(inventory: Inventory, procs: dict, cells: dict[str, Process],
              rewired: dict[str, Process] | None = None) -> list[Process]:
    """Supply switches, scrap loops and end-of-life treatments (see module docstring). ``rewired``: the routes with
    their electricity through their site switch (so that moving a route moves its scrap and end-of-life treatments)."""
    from .cell import element_content
    from .base import CO2_FOSSIL, _model_process
    out: list[Process] = []
    rts = {name: (rewired or {}).get(p.id, p) for name, p in routes(inventory).items()}
    salts = {salt: metal for metal, ss in METAL_SALTS.items() for salt in ss if salt in procs}
    alternatives: dict[str, dict[str, str]] = {s: {"virgin": s} for s in salts}
    # post-consumer / external recycled salts: the allocation switches of the route co-products (converted into
    # the salt of the supply mix where the route makes another form: Li2CO3 for the LiOH·H2O mix)
    for rname, route in rts.items():
        if rname.startswith("pretreatment"):      # black mass is not a battery-grade salt
            continue
        for salt, metal in salts.items():
            c = route_product(route, metal)
            if c is not None and c.id in procs:
                alternatives[salt][f"recycled_{rname}"] = _in_salt_form(salt, c.id, c.substitutes, procs, out)
    # own cathode scrap: a cycle through the matrix
    proxy = ("route inputs per kg of spent battery applied per kg of the battery metals (Co, Ni, Mn, Li) of the "
             "cathode scrap (proxy: the route's reagents follow the metal it recovers)")
    for cell in cells.values():
        chem = cell.id[len("cell_"):]
        cathode = next((x.target for x in cell.exchanges if x.target.startswith("cathode_")), None)
        if cathode is None:
            continue
        w = element_content(cathode, procs)
        for rname, route in rts.items():
            if not route_applies(rname, cell, procs) or rname.startswith("pretreatment"):
                continue
            rec = route.extra["recovery"]
            products = {}
            for salt, metal in salts.items():
                c = route_product(route, metal)
                if c is None or w.get(metal, 0) <= 0 or rec.get(metal, 0) <= 0:
                    continue
                products[(metal, c.id)] = w[metal] * rec[metal] / c.composition[metal]
            if not products:
                continue
            treat = f"scrap_treatment__{rname}__{chem}"
            scale = scrap_scale(route, w)
            burned = []
            if any(x.feed_carbon for x in route.exchanges):     # a route that burns its feed burns the scrap's carbon
                burned = [Exchange("biosphere", CO2_FOSSIL[0], w.get("C", 0.0) * CO2_PER_C, "kg",
                                   "stoichiometry", CO2_FOSSIL[1],
                                   comment="the scrap's own conductive carbon and binder burned, in place of the "
                                           "spent cells' graphite, electrolyte and separator the route burns")]
            out.append(_model_process(
                treat, f"recycling of {chem.upper()} cathode production scrap, {rname}", "cathode scrap, treated",
                "kg", route.location, stage="main_production",
                exchanges=[Exchange("technosphere", cathode, 1.0, "kg", "lcab_model",
                                    comment="the scrapped cathode itself (closes the loop)"),
                           *_route_inputs(route, scale, proxy, feed_carbon=False), *burned],
                comment=f"Production scrap of {cathode} treated by {route.id}, {scale:.4g} x its inputs per kg of "
                        f"spent cells (metal basis); recovered salts return to pCAM.",
                proxy=proxy, extra={"recovery": dict(rec), "route": route.id}, dqr=dict(route.dqr),
                reference_year=route.reference_year, source=route.source))
            total = sum(products.values())
            for (metal, cid), amount in products.items():
                pid = f"scrap_recovered__{metal}__{rname}__{chem}"
                share = amount / total          # mass allocation among the recovered salts
                out.append(_model_process(
                    pid, f"{metal} salt recovered from {chem.upper()} cathode scrap, {rname}", cid, "kg",
                    route.location, stage="main_production",
                    exchanges=[Exchange("technosphere", treat, share / amount, "kg", "lcab_model",
                                        comment=f"mass allocation {share:.4f}; {amount:.5g} kg per kg scrap "
                                                f"= Co/Ni/Mn/Li in scrap x recovery / metal in salt")],
                    composition=dict(procs[cid].composition) if cid in procs else {}))
                form = next((c.substitutes for c in route.coproducts if c.id == cid), None)
                for salt, m in salts.items():
                    if m == metal:
                        alternatives[salt][f"scrap_{rname}_{chem}"] = _in_salt_form(salt, pid, form, procs, out,
                                                                                    like=cid)
        # end of life of the cell itself
        wc = element_content(cell.id, procs)
        for rname, route in rts.items():
            if not route_applies(rname, cell, procs) or rname.startswith("pretreatment"):
                continue
            rec = route.extra["recovery"]
            credits, credit_basis = [], {}
            for c in route.coproducts:
                if not c.substitutes or c.substitutes not in procs:
                    continue
                metal = max(c.composition, key=c.composition.get) if c.composition else None
                if metal is None or metal not in wc or rec.get(metal, 0) <= 0:
                    continue
                f_sub = element_content(c.substitutes, procs).get(metal, 0.0) or c.composition[metal]
                credit_basis[c.substitutes] = (metal, f_sub)
                credits.append(Exchange("technosphere", c.substitutes, credit_kg(wc, rec, metal, f_sub), "kg",
                                        route.source or "lcab_model", substitution=True,
                                        comment=f"avoided {c.substitutes}: {metal} in cell x recovery"))
            inputs = _route_inputs(route, 1.0, "route inputs per kg of spent battery (as the source)")
            out.append(_model_process(
                f"eol_treatment__{rname}__{chem}", f"end of life of {chem.upper()} cells, {rname}",
                "spent cell, treated", "kg", route.location, stage="end_of_life",
                exchanges=[*(x for x in inputs if x.kind != "biosphere"), *_emission_links(route, out), *credits],
                comment="Recycling of 1 kg of collected cell; the avoided virgin materials are credits. Its "
                        f"emissions are those of {EOL_DIRECT_PREFIX}{rname} (and the feed's carbon burned, "
                        f"{FOSSIL_CARBON_BURNED}), linked on the technosphere so that a study scales them there.",
                extra={"recovery": dict(rec), "route": route.id, "credits": credit_basis,
                       "credit_products": {c.substitutes: c.name or c.id for c in route.coproducts
                                           if c.substitutes in credit_basis},
                       "credit_grades": {c.substitutes: c.grade for c in route.coproducts
                                         if c.substitutes in credit_basis},
                       "burns_feed_carbon": any(x.feed_carbon for x in route.exchanges)}, dqr=dict(route.dqr),
                reference_year=route.reference_year, source=route.source))
    for salt, alts in alternatives.items():
        out.append(_model_process(
            supply_id(salt), f"{procs[salt].reference_product}, supply mix (virgin / recycled)",
            procs[salt].reference_product, procs[salt].unit, procs[salt].location,
            switch=f"recycling.{salts[salt]}.{salt}", alternatives=alts, default={"virgin": 1.0},
            composition=dict(procs[salt].composition),
            comment="Shares are metal shares (R1); amounts carry the metal of 1 kg of the virgin salt."))
    return out


def rewire_consumers(procs: dict) -> dict:
    """pCAM and CAM consume the supply switches instead of the virgin salts."""
    salts = {s for ss in METAL_SALTS.values() for s in ss if s in procs}
    out = {}
    for pid, p in procs.items():
        if p.stage and (pid.startswith(("pcam_", "cam_"))) and any(
                x.kind == "technosphere" and x.target in salts for x in p.exchanges):
            exs = tuple(Exchange(x.kind, supply_id(x.target), x.amount, x.unit, x.source, x.compartment,
                                 x.aggregated, x.substitution, x.proxy, x.comment)
                        if x.kind == "technosphere" and x.target in salts else x for x in p.exchanges)
            p = Process(**{**p.__dict__, "exchanges": exs})
        out[pid] = p
    return out


# ---------------------------------------------------------------- study -> entries

def _chain_demand(pid: str, metal: str, procs: dict, depth: int = 0) -> float:
    """kg of ``metal`` drawn from the supply switches per unit of ``pid`` (through CAM and pCAM)."""
    if depth > 6:
        return 0.0
    total = 0.0
    for x in procs[pid].exchanges:
        if x.kind != "technosphere":
            continue
        t = x.target
        if t.startswith(SUPPLY_PREFIX) and metal in procs[t].composition:
            total += x.amount * procs[t].composition[metal]
        elif t.startswith(("cam_", "pcam_")):
            total += x.amount * _chain_demand(t, metal, procs, depth + 1)
    return total


_PER_PROCS: dict = {}


def _per_procs(procs: dict, name: str, make):
    """``make()`` cached per processes dict (:func:`all_processes` caches its dict per inventory; a sweep
    builds hundreds of studies on it): the dict is held, so a cached value never outlives its dict."""
    from .base import per_dict
    return per_dict(_PER_PROCS, procs, make, key=name, size=64)


def _eol_treatments(procs: dict) -> tuple:
    """The end-of-life treatment processes, in the order of ``procs``."""
    return _per_procs(procs, "eol", lambda: tuple(p for p in procs if p.startswith("eol_treatment__")))


def _drawn(cathode, procs: dict) -> dict:
    """kg of each metal the cathode draws from the supply switches (a copy: callers may change it)."""
    return dict(_per_procs(procs, ("drawn", cathode), lambda: {
        m: (_chain_demand(cathode, m, procs) if cathode else 0.0) for m in METAL_SALTS}))


def recycling_entries(study, procs: dict, cell, kg_cell_per_kwh: float, file: str,
                      cell_content: dict[str, float] | None = None):
    """Entries of the supply switches, the scrap loop and the end of life; and a report."""
    rc = study.recycling
    entries, report = supply_entries(rc, procs, cell, file)
    eol, eol_report = eol_entries(procs, cell, kg_cell_per_kwh, rc.route, rc.eol_collection_rate, rc.accounting, rc.cff,
                                  cell_content)
    return entries + eol, {**report, "eol": eol_report}


def system_expansion_share(allocation) -> float:
    """The share of system expansion in a study's ``allocation.recycling`` (a basis name or a mapping of shares)."""
    if isinstance(allocation, dict):
        return float(allocation.get("system_expansion", 0.0))
    return 1.0 if allocation == "system_expansion" else 0.0


def check_system_expansion(allocation, report: dict, file: str) -> None:
    """Refuse system expansion where the study draws recycled salts of more than one metal from its route.

    Under system expansion each recycled salt carries the whole route and is credited with the virgin supply its
    route's other products displace. A study that also uses those other products as recycled content cannot let
    them displace virgin supply, and would carry the route's burden once per metal: the credits would be counted
    twice (and the cell's result can turn negative). ``report``: :func:`supply_entries`' report."""
    if system_expansion_share(allocation) <= 0.0:
        return
    used = sorted(m for m, d in report["metals"].items() if d.get("R1") and d.get("A", 0.0) > 0.0)
    if len(used) > 1:
        from ..errors import StudyError
        raise StudyError(
            f"system expansion credits each recycled salt of route '{report['route']}' with the virgin supply that "
            f"the route's other products displace; this study uses recycled {', '.join(used)} from that route, so "
            f"those products cannot displace virgin supply and the route's burden would be counted once per metal "
            f"(credits counted twice)", file=file, field="allocation.recycling",
            allowed="mass or economic with recycled content of several metals; system_expansion with recycled "
                    "content of one metal (under cut_off or cff)")


def supply_entries(rc, procs: dict, cell, file: str):
    """The recycling section's checks, the entries of the supply switches and the scrap loop, and the report but
    for its end of life (``rc``: the study's ``recycling``; of ``eol_collection_rate`` only whether it is zero)."""
    from ..errors import StudyError
    from .cell import element_content
    from .base import Entry
    chem = cell.id[len("cell_"):]
    eol_ids = _eol_treatments(procs)
    rts = {p.split("__")[1] for p in eol_ids}
    applicable = sorted({p.split("__")[1] for p in eol_ids if p.endswith("__" + chem)})
    for fld, route in (("route", rc.route), ("scrap_route", rc.scrap_route)):
        if (rts or rc.recycled_content or rc.eol_collection_rate or rc.scrap_rate) and route not in rts:
            raise StudyError(f"unknown recycling route '{route}'", file=file, field=f"recycling.{fld}",
                             allowed=", ".join(sorted(rts)))
    route = rc.route if rc.route in applicable else None
    if route is None and (rc.recycled_content or rc.eol_collection_rate):
        raise StudyError(f"route '{rc.route}' does not treat {chem.upper()} cells", file=file,
                         field="recycling.route", allowed=", ".join(applicable))
    if rc.scrap_rate and rc.scrap_route not in applicable:
        raise StudyError(f"route '{rc.scrap_route}' does not treat {chem.upper()} scrap", file=file,
                         field="recycling.scrap_route", allowed=", ".join(applicable))
    cathode = next((x.target for x in cell.exchanges if x.target.startswith("cathode_")), None)
    w = element_content(cathode, procs) if cathode else {}
    acc = rc.accounting
    entries, report = [], {"accounting": acc, "route": rc.route, "chain_of_custody": rc.chain_of_custody,
                           "metals": {}, "routes_for_cell": applicable, "recyclable_metals": []}
    drawn = _drawn(cathode, procs)
    for metal, content in rc.recycled_content.items():
        if content.r1 and drawn.get(metal, 0.0) <= 0:
            raise StudyError(f"this {chem.upper()} cell's cathode draws no {metal} from the metal supply, so recycled "
                             f"{metal} cannot be credited to it", file=file,
                             field=f"recycling.recycled_content.{metal}",
                             allowed=", ".join(m for m, d in drawn.items() if d > 0) or "none")
    if route:
        report["recyclable_metals"] = [
            m for m in ("Co", "Ni", "Li") if drawn.get(m, 0) > 0 and any(
                f"recycled_{route}" in procs[supply_id(s)].alternatives
                for s in METAL_SALTS[m] if supply_id(s) in procs)]
    for metal, salts in METAL_SALTS.items():
        content = rc.recycled_content.get(metal)
        r1_ext = content.r1 if content else 0.0
        a = 1.0 if acc == "cut_off" else 0.0 if acc == "avoided_burden" else rc.cff.a(metal)
        q = rc.cff.qsin_qp if acc != "cut_off" else 1.0
        scrap_route_obj = None
        for salt in salts:
            sid = supply_id(salt)
            if sid not in procs:
                continue
            sw = procs[sid]
            f_v = sw.composition.get(metal, 0.0)
            # own scrap: R1 from the loop, so that the scrap recycled equals the scrap made
            r1_scrap = 0.0
            key_scrap = f"scrap_{rc.scrap_route}_{chem}"
            if rc.scrap_rate and key_scrap in sw.alternatives and cathode:
                d = drawn[metal]
                scrap_pid, conversion_yield = _through_conversion(sw.alternatives[key_scrap], procs, metal)
                treat = procs[scrap_pid].exchanges[0].target
                rho = procs[treat].extra["recovery"].get(metal, 0.0)
                if d > 0:   # the metal the scrap returns to this salt (after its conversion's losses, if any)
                    r1_scrap = rc.scrap_rate * w.get(metal, 0.0) * rho * conversion_yield / d
                scrap_route_obj = scrap_pid
            key_rec = f"recycled_{rc.route}"
            if r1_ext and key_rec not in sw.alternatives:
                raise StudyError(f"route '{rc.route}' recovers no {metal}", file=file,
                                 field=f"recycling.recycled_content.{metal}",
                                 allowed=", ".join(sorted(k[9:] for k in sw.alternatives if k.startswith("recycled_"))))
            if r1_ext + r1_scrap > 1 + 1e-12:
                raise StudyError(f"recycled content {r1_ext:g} plus the scrap loop's {r1_scrap:.3g} exceed 1 for "
                                 f"{metal}", file=file, field=f"recycling.recycled_content.{metal}")
            amounts = {k: 0.0 for k in sw.alternatives}
            amounts["virgin"] = (1.0 - r1_ext - r1_scrap) + r1_ext * (1.0 - a) * q
            if r1_ext:
                pid = sw.alternatives[key_rec]
                amounts[key_rec] = r1_ext * a * f_v / procs[pid].composition[metal]
            if r1_scrap:
                amounts[key_scrap] = r1_scrap * f_v / procs[sw.alternatives[key_scrap]].composition[metal]
            for k, v in amounts.items():
                entries.append(Entry(sw.alternatives[k], sid, v, f"recycling.recycled_content.{metal}"))
            report["metals"].setdefault(metal, {
                "R1": r1_ext,
                "R1_pre_consumer": None if content and content.split_unstated else (content.pre_consumer if content
                                                                                   else 0.0),
                "R1_post_consumer": None if content and content.split_unstated else (content.post_consumer if content
                                                                                    else 0.0),
                "scrap_loop_share": r1_scrap, "A": a, "qsin_qp": q})
        if scrap_route_obj:
            report["metals"][metal]["scrap_process"] = scrap_route_obj
    return entries, report


def credit_notes(eol: Process, qout: float) -> dict[str, str]:
    """Why an end-of-life credit is an upper bound: a product that is not the substituted material itself (its
    co-product ``grade``: crude, scrap, not stated) credited as that material at Qsout/Qp = ``qout`` >= 1, or a
    recovery of 100 % (the source's product masses over its feed, not a measured rate)."""
    notes = {}
    grades = eol.extra.get("credit_grades") or {}
    for sub, (metal, _) in (eol.extra.get("credits") or {}).items():
        why = []
        name = (eol.extra.get("credit_products") or {}).get(sub, "")
        grade = grades.get(sub)
        if grade and grade != "substitute_grade" and qout >= 1.0:
            why.append(f"{name} (grade {grade}: {COPRODUCT_GRADES[grade]}) credited as {sub} at Qsout/Qp = {qout:g}")
        if eol.extra["recovery"].get(metal, 0.0) >= 1.0 - 1e-9:
            why.append(f"{metal} recovery 100 %, the source's product masses over its feed")
        if why:
            notes[sub] = "; ".join(why) + ": an upper bound"
    return notes


def eol_entries(procs: dict, cell, kg_cell_per_kwh: float, route_name: str, rate: float, acc: str, cff,
                cell_content: dict[str, float] | None = None):
    """Entries of the cell's end of life (R2) and its report: only inside the system under avoided burden and
    CFF (the recycling section checked by :func:`supply_entries` first; reads only its arguments).

    ``cell_content``: kg of each element per kg of the study's cell (its bill of materials); the credits are the
    recovered metal of that cell, and a route that burns its feed (``feed_carbon`` emissions) burns that cell's carbon
    (default: the inventory's reference cell, as the treatment process holds)."""
    from .cell import element_content
    from .base import ROOT, Entry
    chem = cell.id[len("cell_"):]
    eol_ids = _eol_treatments(procs)
    applicable = sorted({p.split("__")[1] for p in eol_ids if p.endswith("__" + chem)})
    route = route_name if route_name in applicable else None
    entries = []
    for pid in eol_ids:
        entries.append(Entry(pid, ROOT, 0.0, "recycling.eol_collection_rate"))
    report = {"collection_rate": rate, "route": route}
    if route and rate:
        eol = procs[f"eol_treatment__{route}__{chem}"]
        recovery = eol.extra["recovery"]
        report["R2"] = {m: rate * recovery.get(m, 0.0) for m in recovery}
        if acc != "cut_off":
            cathode = next((x.target for x in cell.exchanges if x.target.startswith("cathode_")), None)
            w = element_content(cathode, procs) if cathode else {}
            main = "Co" if "Co" in w else "Li"
            a_burden = 0.0 if acc == "avoided_burden" else cff.a(main)
            qout = cff.qsout_qp if acc == "cff" else 1.0
            entries.append(Entry(eol.id, ROOT, rate * kg_cell_per_kwh,
                                 "recycling.eol_collection_rate"))
            summed: dict[tuple, float] = {}
            burns = cell_content is not None and eol.extra.get("burns_feed_carbon")
            for x in eol.exchanges:   # the same input may appear twice: the matrix holds their sum
                if burns and x.target == FOSSIL_CARBON_BURNED:
                    continue          # the reference cell's carbon: the study's own cell burns instead (below)
                key = (x.kind, x.target, x.compartment, x.substitution)
                summed[key] = summed.get(key, 0.0) + x.amount
            if burns:
                key = ("technosphere", FOSSIL_CARBON_BURNED, (), False)
                # fossil carbon only: the cell's biogenic carbon (C_biogenic, a CMC binder's cellulose) burns to
                # CO2 of biogenic origin, 0 in GWP100, whose uptake the inventories do not count either
                summed[key] = summed.get(key, 0.0) + cell_content.get("C", 0.0)
            for (kind, target, comp, subst), amount in summed.items():   # all technosphere (_emission_links)
                if subst:
                    metal = next((m for m, ss in METAL_SALTS.items() if target in ss), None)
                    a_m = a_burden if metal is None else (0.0 if acc == "avoided_burden" else cff.a(metal))
                    basis = eol.extra.get("credits", {}).get(target)
                    if cell_content is not None and basis is not None:
                        amount = credit_kg(cell_content, recovery, *basis)     # the metal of this cell
                    entries.append(Entry(target, eol.id, amount * (1 - a_m) * qout,
                                         "recycling.cff (end-of-life credit)"))
                else:
                    entries.append(Entry(target, eol.id, amount * (1 - a_burden), "recycling.cff.A (end of life)"))
            report["A_burden"] = a_burden
            report["credit_notes"] = credit_notes(eol, qout)
    return entries, report
