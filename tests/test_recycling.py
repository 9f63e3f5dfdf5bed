"""Recycling loops, recycled content, accounting rules and recycled-versus-virgin comparison (issue 4)."""
import json

import pytest

from conftest import EXAMPLE, assert_user_error
from lca_battery.api import footprint, prepare_mapping
from lca_battery.cli import main


def solve(engine, overrides):
    study, mapping, eng = prepare_mapping(EXAMPLE, overrides, engine)
    return study, mapping, eng.solve(mapping.entries)


def cell_content(engine, mapping):
    from lca_battery.model.cell import element_content
    from lca_battery.model.superstructure import all_processes
    return element_content(mapping.cell_id, all_processes(engine.inventory),
                           {b.input: b.kg_per_kg_cell for b in mapping.bom})


@pytest.mark.parametrize("overrides", [
    {},
    {"recycling.scrap_rate": 0.08},
    {"recycling.scrap_rate": 0.08, "recycling.scrap_route": "pyro_nmc"},
    {"recycling.recycled_content": {"Co": {"pre_consumer": 0.1, "post_consumer": 0.2}, "Ni": {"total": 0.15},
                                    "Li": {"post_consumer": 0.1}}},
    {"recycling.recycled_content": {"Co": {"post_consumer": 0.3}}, "recycling.route": "pyro_nmc",
     "recycling.scrap_rate": 0.05},
    {"cell.chemistry": "LFP", "cell.nominal_voltage_v": None, "recycling.scrap_rate": 0.06, "recycling.scrap_route": "hydro_lfp",
     "recycling.route": "hydro_lfp", "recycling.recycled_content": {"Li": {"post_consumer": 0.12}}},
    {"cell.chemistry": "NMC622", "cell.nominal_voltage_v": None, "recycling.scrap_rate": 0.1, "recycling.accounting": "cff",
     "recycling.recycled_content": {"Ni": {"total": 0.15}}, "recycling.eol_collection_rate": 0.5},
])
def test_metal_mass_balance_closes_through_the_loops(engine, overrides):
    from lca_battery.analysis.massbalance import balances
    _, mapping, solved = solve(engine, overrides)
    content = cell_content(engine, mapping)
    checked = 0
    for metal, b in balances(engine, solved, content).items():
        if not content.get(metal):
            continue                      # e.g. Co in an LFP cell
        checked += 1
        assert not b["created"], (metal, b["created"])
        assert b["entering_total"] > 0
        assert abs(b["relative_residual"]) < 1e-9, (metal, b)
        assert b["in_product"] == pytest.approx(b["entering_total"] - b["losses_total"], rel=1e-9)
    assert checked >= 1


def test_scrap_loop_is_a_cycle_solved_exactly(engine):
    """Scrap treated = scrap rate x cathode made; losses = scrap Co x (1 - recovery)."""
    from lca_battery.analysis.massbalance import metal_balance
    s = 0.08
    _, mapping, solved = solve(engine, {"recycling.scrap_rate": s})
    eng = engine
    sup = lambda pid: solved.supply[eng.column(solved, pid)]
    cathode_made = sup("cathode_nmc811")
    in_cell = mapping.kg_cell_per_kwh * next(b.kg_per_kg_cell for b in mapping.bom if b.input == "cathode_nmc811")
    # cell assembly draws the cathode of the rejected cells too (plant.yield, BatPaC 95 % by default)
    good = in_cell * mapping.plant_energy.yield_.factor
    assert mapping.plant_energy.yield_.factor == pytest.approx(1 / 0.95, rel=1e-12)
    scrap = sup("scrap_treatment__hydro_nmc__nmc811")
    assert scrap > 0
    assert cathode_made == pytest.approx(good + scrap, rel=1e-9)        # the loop in the matrix
    assert scrap == pytest.approx(s * cathode_made, rel=1e-6)          # the R1 set by the model matches
    b = metal_balance(eng, solved, "Co", cell_content(eng, mapping))
    from lca_battery.model.cell import element_content
    from lca_battery.model.superstructure import all_processes
    w = element_content("cathode_nmc811", all_processes(eng.inventory))["Co"]
    rho = eng.inventory["recycling_hydro_nmc"].extra["recovery"]["Co"]
    assert b["losses"]["scrap_treatment__hydro_nmc__nmc811"] == pytest.approx(scrap * w * (1 - rho), rel=1e-9)


def test_recycled_hydro_cobalt_sulfate_is_below_virgin(engine):
    _, mapping, solved = solve(engine, {})
    _, virgin = engine.resolve(solved, {"cobalt_sulfate_virgin": 1.0})
    _, hydro = engine.resolve(solved, {"cobalt_sulfate_recycled_hydro": 1.0})
    assert 0 < hydro < virgin


def test_recycled_cobalt_lowers_the_cell_under_cut_off(engine, default_result):
    prev = default_result["kg_co2e_per_kwh"]
    for r1 in (0.16, 0.26, 0.5):
        r = footprint(EXAMPLE, {"recycling.recycled_content": {"Co": {"post_consumer": r1}}}, engine=engine,
                      details=False)
        assert r["kg_co2e_per_kwh"] < prev
        prev = r["kg_co2e_per_kwh"]


@pytest.mark.parametrize("metal", ["Co", "Ni", "Li"])
def test_cff_recycled_content_credit_is_A_times_cut_off_credit(engine, default_result, metal):
    base = default_result["kg_co2e_per_kwh"]
    res = {}
    for acc in ("cut_off", "cff", "avoided_burden"):
        res[acc] = footprint(EXAMPLE, {"recycling.accounting": acc,
                                       "recycling.recycled_content": {metal: {"post_consumer": 0.4}}},
                             engine=engine, details=False)["kg_co2e_per_kwh"]
    cut_credit = base - res["cut_off"]
    assert cut_credit > 0
    assert base - res["cff"] == pytest.approx(0.2 * cut_credit, rel=1e-9)
    assert res["avoided_burden"] == pytest.approx(base, rel=1e-12)     # A = 0: recycled content earns nothing


def test_cff_with_other_A_and_reason(engine, default_result):
    base = default_result["kg_co2e_per_kwh"]
    cut = footprint(EXAMPLE, {"recycling.recycled_content": {"Co": {"post_consumer": 0.4}}}, engine=engine,
                    details=False)["kg_co2e_per_kwh"]
    cff = footprint(EXAMPLE, {"recycling.accounting": "cff", "recycling.cff.A": {"Co": 0.5},
                              "recycling.cff.reason": "test", "recycling.recycled_content": {"Co": {"post_consumer": 0.4}}},
                    engine=engine, details=False)["kg_co2e_per_kwh"]
    assert base - cff == pytest.approx(0.5 * (base - cut), rel=1e-9)


def test_end_of_life_credits_reported_apart(engine, default_result):
    ab = footprint(EXAMPLE, {"recycling.accounting": "avoided_burden", "recycling.eol_collection_rate": 0.9},
                   engine=engine, details=False)
    rec = ab["recycling"]
    assert rec["end_of_life_credits"] < 0 < rec["end_of_life_burdens"]
    assert ab["stages"]["end_of_life"] == pytest.approx(rec["end_of_life_burdens"] + rec["end_of_life_credits"],
                                                        rel=1e-9)
    assert sum(ab["stages"].values()) == pytest.approx(ab["kg_co2e_per_kwh"], rel=1e-9)
    assert ab["kg_co2e_per_kwh"] == pytest.approx(default_result["kg_co2e_per_kwh"] + ab["stages"]["end_of_life"],
                                                  rel=1e-9)
    cff = footprint(EXAMPLE, {"recycling.accounting": "cff", "recycling.eol_collection_rate": 0.9},
                    engine=engine, details=False)
    # (1 - A) of both the burden and the credit, A = 0.2 for every metal by default
    assert cff["stages"]["end_of_life"] == pytest.approx(0.8 * ab["stages"]["end_of_life"], rel=1e-9)
    cut = footprint(EXAMPLE, {"recycling.eol_collection_rate": 0.9}, engine=engine, details=False)
    assert cut["stages"]["end_of_life"] == 0.0 and cut["recycling"]["eol"]["R2"]["Co"] > 0


def test_compare_tables_plot_and_notice(engine, tmp_path, capsys):
    code = main(["compare", str(EXAMPLE), "--steps", "3", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    folder = tmp_path / "nmc811-cn-compare"
    for name in ("compare.json", "materials.csv", "curves.csv", "recovery.csv", "curves.png", "curves.svg",
                 "manifest.json"):
        assert (folder / name).stat().st_size > 0
    data = json.loads((folder / "compare.json").read_text())
    assert {r["accounting"] for r in data["curves"]} == {"cut_off", "avoided_burden", "cff"}
    assert {r["metal"] for r in data["curves"]} == {"Co", "Ni", "Li"}
    assert data["eu_minimum_recycled_content"]["2031"]["Co"] == 0.16
    assert "ISO 14044" in out and "critical review" in out
    assert "Annex XII Part C" in out and "hydro_nmc" in out
    rec = (folder / "recovery.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rec[0] == "route,process,metal,recovery,eu_target_2027,eu_target_2031,meets_2027,meets_2031,basis"
    assert any(line.startswith("hydro_nmc,") and ",Li," in line and "upper bound" in line for line in rec)
    assert "upper bound" in out and "hydro_nmc Li" in out
    assert len(rec) == 1 + sum(len(r["recovery"]) for r in data["routes"])
    co = [m for m in data["materials"] if m["metal"] == "Co"]
    assert any(m["supply"] == "virgin" for m in co) and any("hydro" in m["supply"] for m in co)


@pytest.mark.parametrize("override, field, words", [
    ({"recycling.recycled_content": {"Co": {"post_consumer": 1.2}}}, "recycling.recycled_content.Co.post_consumer",
     ["less than or equal to 1"]),
    ({"recycling.recycled_content": {"Co": {"post_consumer": -0.1}}}, "recycling.recycled_content.Co.post_consumer",
     ["greater than or equal to 0"]),
    ({"recycling.recycled_content": {"Co": {"total": 0.2, "pre_consumer": 0.15, "post_consumer": 0.1}}},
     "recycling.recycled_content.Co", ["above total"]),
    ({"recycling.cff.A": {"Co": 1.5}, "recycling.cff.reason": "x"}, "recycling.cff", ["A.Co must be in [0, 1]"]),
    ({"recycling.cff.A": {"Co": 0.5}}, "recycling.cff", ["needs a 'reason'"]),
    ({"recycling.route": "alchemy", "recycling.eol_collection_rate": 0.5}, "recycling.route",
     ["unknown recycling route 'alchemy'", "hydro_nmc"]),
    ({"recycling.recycled_content": {"Pb": {"total": 0.1}}}, "recycling.recycled_content", ["unknown metal 'Pb'"]),
])
def test_bad_recycling_input(engine, tmp_path, capsys, override, field, words):
    assert_user_error(tmp_path, capsys, override, field, words)


def test_compare_checks_each_route_against_the_eu_recovery_targets(engine):
    """`compare` gives each route that treats the cell its modelled recovery (products over feed) of the metals
    that Annex XII Part C of Reg. 2023/1542 names and its feed holds, and the metals below each year's target."""
    from lca_battery.api import compare
    from lca_battery.model.recycling import EU_MATERIAL_RECOVERY_TARGETS
    assert EU_MATERIAL_RECOVERY_TARGETS[2027] == {"Co": 0.90, "Ni": 0.90, "Li": 0.50, "Cu": 0.90}
    assert EU_MATERIAL_RECOVERY_TARGETS[2031] == {"Co": 0.95, "Ni": 0.95, "Li": 0.80, "Cu": 0.95}
    c = compare(EXAMPLE, engine=engine, steps=2)
    routes = {r["route"]: r for r in c["routes"]}
    assert set(routes) == {"hydro_nmc", "pyro_nmc"}
    hydro = routes["hydro_nmc"]
    assert hydro["recovery"] == pytest.approx(
        {m: engine.inventory["recycling_hydro_nmc"].extra["recovery"][m] for m in ("Co", "Ni", "Li", "Cu")})
    for year, targets in EU_MATERIAL_RECOVERY_TARGETS.items():
        assert hydro["below"][str(year)] == [m for m in ("Co", "Ni", "Li", "Cu") if hydro["recovery"][m] < targets[m]]
    assert "Ni" in hydro["below"]["2031"] and hydro["below"]["2027"] == []
    # a full recovery is the source's product masses over the feed: flagged as an upper bound
    assert hydro["complete"] == [m for m, r in hydro["recovery"].items() if r == 1.0] == ["Li"]
    assert routes["pyro_nmc"]["complete"] == ["Co"]
    lfp = compare(EXAMPLE, {"cell.chemistry": "LFP", "cell.nominal_voltage_v": None, "recycling.route": "hydro_lfp"},
                  engine=engine, steps=2)
    for r in lfp["routes"]:                   # an LFP feed holds no Co or Ni: nothing said about them
        assert set(r["recovery"]) == {"Li", "Cu"}
    # on the default (NMC) route an LFP cell is refused with the reason (the route treats other cells; it does
    # recover lithium) and the route that recycles it
    from lca_battery.errors import StudyError
    with pytest.raises(StudyError) as exc:
        compare(EXAMPLE, {"cell.chemistry": "LFP", "cell.nominal_voltage_v": None}, engine=engine, steps=2)
    assert "treats other cells" in str(exc.value) and exc.value.allowed == "hydro_lfp"


@pytest.mark.parametrize("design", [{}, {"cell.design.cathode_areal_capacity_mah_per_cm2": 3.0}])
def test_end_of_life_credit_recovers_the_metal_of_the_studys_cell(engine, design):
    """The avoided cobalt salt per kg of collected cell is that cell's own cobalt (its bill of materials: design model
    or company BOM) x the route's recovery / Co per kg of salt; not the inventory's reference cell. A thinner cathode
    coating changes the cell's cobalt share, and the credit follows it."""
    from lca_battery.model.superstructure import all_processes
    overrides = {"recycling.accounting": "avoided_burden", "recycling.eol_collection_rate": 0.9, **design}
    study, mapping, solved = solve(engine, overrides)
    procs = all_processes(engine.inventory)
    eol = procs[f"eol_treatment__{study.recycling.route}__nmc811"]
    co = cell_content(engine, mapping)["Co"]
    f_sub = procs["cobalt_sulfate_virgin"].composition["Co"]
    credit = [e for e in mapping.entries if e.output == eol.id and e.input == "cobalt_sulfate_virgin"]
    assert len(credit) == 1
    assert credit[0].amount == pytest.approx(-co * eol.extra["recovery"]["Co"] / f_sub, rel=1e-12)
    # the inventory's own treatment process holds the reference cell's figure, which a designed cell does not have
    ref = next(x.amount for x in eol.exchanges if x.target == "cobalt_sulfate_virgin")
    assert credit[0].amount != pytest.approx(ref, rel=1e-6)


def test_cathode_scrap_treatment_creates_no_sulfur_or_carbon(engine):
    """The scrap loop treats cathode scrap with a route inventoried per kg of spent cells. Its reagents follow the
    battery metals (the scrap holds 1.6-2.5 times a spent cell's), so the sulfur and carbon of the salts it recovers
    come from its acid and carbonate; and a route that burns its feed burns the scrap's own conductive carbon and binder,
    not a spent cell's graphite and electrolyte (per kg of scrap the former proxy created 0.1-0.2 kg of sulfur and
    burned 0.29 kg of carbon that was not there)."""
    from lca_battery.model.recycling import routes, route_product
    from lca_battery.model.superstructure import all_processes
    procs = all_processes(engine.inventory)
    rts = routes(engine.inventory)
    s_of = {"sulfuric_acid": 32.06 / 98.072, "sulfur_dioxide": 32.06 / 64.058}          # stoichiometry
    c_of = {"soda_ash": 12.011 / 105.988, "limestone": 12.011 / 100.087}
    treatments = [p for p in procs if p.startswith("scrap_treatment__")]
    assert len(treatments) >= 10
    for pid in treatments:
        _, rname, chem = pid.split("__")
        p, route = procs[pid], rts[rname]
        cathode = p.exchanges[0].target
        w = procs[cathode].composition
        salts = [route_product(route, m) for m in ("Co", "Ni", "Mn", "Li")]
        out = {el: sum(w.get(m, 0.0) * route.extra["recovery"].get(m, 0.0) / c.composition[m] * c.composition.get(el, 0)
                       for m, c in zip(("Co", "Ni", "Mn", "Li"), salts) if c is not None and w.get(m, 0) > 0)
               for el in ("S", "C")}
        inputs = {x.target: x.amount for x in p.exchanges if x.kind == "technosphere"}
        s_in = sum(inputs.get(k, 0.0) * f for k, f in s_of.items())
        c_in = sum(inputs.get(k, 0.0) * f for k, f in c_of.items())
        # to the rounding of the route's own figures (0.0984 kg Li2CO3 at 0.1879 kg Li/kg for the LFP route)
        assert out["S"] <= s_in * (1 + 1e-3), (pid, out["S"], s_in)
        assert out["C"] <= c_in * (1 + 1e-3), (pid, out["C"], c_in)
        burned = sum(x.amount for x in p.exchanges if x.kind == "biosphere" and x.target == "Carbon dioxide, fossil")
        if rname.startswith("pyro"):
            # limestone flux and coal, scaled, plus the scrap's own carbon: well under the spent cells' 1.08 kg
            assert 0.0 < burned < 0.5, (pid, burned)


def test_end_of_life_burns_the_carbon_of_the_studys_cell(engine):
    """A pyrometallurgical route burns its feed's carbon: for the study's own cell (graphite, conductive carbon,
    binder, electrolyte solvents and separator, by their compositions) in place of the route's reference-cell lines
    (``feed_carbon``); its other CO2 (flux, coal) stays. The designed NMC811 cell holds more carbon per kg than the
    NMC111 cell of the route's lines (0.190 kg graphite, 0.146 kg electrolyte). Both are technosphere links of the
    treatment (its route's direct emissions; kg of fossil carbon burned), so that no study changes a cell of the
    biosphere matrix."""
    from lca_battery.model.recycling import CO2_PER_C, FOSSIL_CARBON_BURNED
    from lca_battery.model.superstructure import all_processes
    procs = all_processes(engine.inventory)
    study, mapping, solved = solve(engine, {"recycling.accounting": "avoided_burden", "recycling.eol_collection_rate": 0.9,
                                            "recycling.route": "pyro_nmc"})
    eol = procs["eol_treatment__pyro_nmc__nmc811"]
    assert not [e for e in mapping.entries if e.matrix == "biosphere" and e.output.startswith("eol_")]
    burned = [e for e in mapping.entries if e.output == eol.id and e.input == FOSSIL_CARBON_BURNED]
    assert len(burned) == 1
    route = engine.inventory["recycling_pyro_nmc"]
    other = sum(x.amount for x in route.exchanges
                if x.kind == "biosphere" and x.target == "Carbon dioxide, fossil" and not x.feed_carbon)
    direct = procs["eol_direct__pyro_nmc"]
    assert sum(x.amount for x in direct.exchanges if x.target == "Carbon dioxide, fossil") == pytest.approx(other)
    reference = sum(x.amount for x in route.exchanges if x.feed_carbon)
    (ref_link,) = [x for x in eol.exchanges if x.target == FOSSIL_CARBON_BURNED]
    assert ref_link.amount * CO2_PER_C == pytest.approx(reference, rel=1e-12)
    carbon = cell_content(engine, mapping)["C"]
    assert 0.25 < carbon < 0.4
    assert burned[0].amount == pytest.approx(carbon, rel=1e-12)
    assert carbon * 44.009 / 12.011 > reference


# --- a recycler's review (2026-12): system expansion, the compare table's bases, the hydro route's organics ---

TWO_METALS = {"Co": {"post_consumer": 0.5}, "Ni": {"post_consumer": 0.5}}


def test_system_expansion_with_two_recycled_metals_of_one_route_is_refused(engine, tmp_path, capsys):
    """Under system expansion each recycled salt carries the whole route and is credited with the virgin supply of
    the route's other products; a cell that takes two of them would carry the route twice and credit products it
    uses itself (the cell's result fell below zero at 100 % recycled Co, Ni, Li)."""
    assert_user_error(tmp_path, capsys, {"allocation.recycling": "system_expansion",
                                         "recycling.recycled_content": TWO_METALS},
                      "allocation.recycling", ["credits counted twice", "recycled Co, Ni", "hydro_nmc"])
    # one metal under system expansion, or two under mass allocation, or avoided burden (the route is not drawn)
    one = footprint(EXAMPLE, {"allocation.recycling": "system_expansion",
                              "recycling.recycled_content": {"Co": {"post_consumer": 0.5}}}, engine=engine,
                    details=False)
    mass = footprint(EXAMPLE, {"allocation.recycling": "mass",
                               "recycling.recycled_content": {"Co": {"post_consumer": 0.5}}}, engine=engine,
                     details=False)
    assert one["kg_co2e_per_kwh"] < mass["kg_co2e_per_kwh"]    # the route's other products displace virgin salts
    footprint(EXAMPLE, {"allocation.recycling": "mass", "recycling.recycled_content": TWO_METALS}, engine=engine,
              details=False)
    footprint(EXAMPLE, {"allocation.recycling": "system_expansion", "recycling.accounting": "avoided_burden",
                        "recycling.recycled_content": TWO_METALS}, engine=engine, details=False)
    # a share of system expansion counts as well
    with pytest.raises(Exception, match="credits counted twice"):
        footprint(EXAMPLE, {"allocation.recycling": {"mass": 0.5, "system_expansion": 0.5},
                            "recycling.recycled_content": TWO_METALS}, engine=engine, details=False)


def test_compare_puts_each_recycled_salt_beside_a_virgin_salt_of_its_form(engine):
    """The recycled NiSO4 is on an anhydrous basis, the virgin NiSO4 the cathode chain uses a hexahydrate: the
    table lists the virgin twin the recycled salt replaces, so kg CO2e per kg compare like with like; each row
    names what its kg is of; only the routes that treat the cell (no LFP route's Li2CO3 for an NMC cell)."""
    from lca_battery.api import compare
    res = compare(EXAMPLE, {}, engine=engine, steps=2)
    ni = {r["material"]: r for r in res["materials"] if r["metal"] == "Ni"}
    twin, rec, hexa = ni["nickel_sulfate_anhydrous_eq"], ni["nickel_sulfate_recycled_hydro"], ni["nickel_sulfate"]
    assert twin["supply"] == "virgin" and rec["supply"] == "recycled (hydro_nmc)"
    assert twin["metal_fraction"] == pytest.approx(rec["metal_fraction"], rel=1e-3)        # same form
    # the converter's 1.6985 kg hexahydrate per kg (rounded molar masses): the same salt within 1e-4
    assert twin["kg_co2e_per_kg_metal"] == pytest.approx(hexa["kg_co2e_per_kg_metal"], rel=1e-4)
    assert twin["kg_co2e_per_kg"] == pytest.approx(hexa["kg_co2e_per_kg"] * twin["metal_fraction"]
                                                   / hexa["metal_fraction"], rel=1e-4)
    assert "anhydrous" in rec["per_kg_of"] and "6H2O" in hexa["per_kg_of"]
    assert {r["route"] for r in res["materials"]} == {None, "hydro_nmc", "pyro_nmc"}


def test_compare_curves_state_their_boundary_and_burdens(engine, tmp_path, capsys):
    """Avoided burden and the CFF take in the cell's end of life when it is collected, cut-off does not: the
    compare output says so and curves.csv carries the end-of-life burdens beside the credits."""
    code = main(["compare", str(EXAMPLE), "--steps", "2", "--out", str(tmp_path),
                 "--set", "recycling.eol_collection_rate=0.9"])
    out = capsys.readouterr().out
    assert code == 0
    assert "avoided burden and CFF include the cell's end of life (90% collected, route hydro_nmc); cut-off does not" \
        in out
    rows = (tmp_path / "nmc811-cn-compare" / "curves.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "metal,accounting,recycled_content,kg_co2e_per_kwh,end_of_life_burdens,end_of_life_credits"
    ab = [r.split(",") for r in rows[1:] if ",avoided_burden," in r]
    assert ab and all(float(r[4]) > 0 > float(r[5]) for r in ab)
    cut = [r.split(",") for r in rows[1:] if ",cut_off," in r]
    assert all(float(r[4]) == 0 == float(r[5]) for r in cut)


def test_hydro_route_accounts_for_its_organics(engine):
    """The electrolyte solvents the hydro route's front end releases are taken as oxidised (as the mechanical
    pre-treatment's RTO does, 1.29693 kg CO2 per kg electrolyte); the lost extraction diluent and NMP, whose fate
    the source does not give, are an excluded flow marked as a data gap of the route's salts, listed once (the
    allocation switch carries no exclusions of its own)."""
    from lca_battery.report.study_report import cutoff_log
    route = engine.inventory["recycling_hydro_nmc"]
    co2 = [x for x in route.exchanges if x.kind == "biosphere" and x.proxy and "electrolyte" in x.proxy]
    assert len(co2) == 1 and co2[0].amount == pytest.approx(0.146 * 1.29693, rel=1e-4)
    study, mapping, solved = solve(engine, {"recycling.recycled_content": {"Co": {"post_consumer": 0.5}}})
    res = footprint(EXAMPLE, {"recycling.recycled_content": {"Co": {"post_consumer": 0.5}}}, engine=engine,
                    details=False)
    log = cutoff_log(engine, solved, res["kg_co2e_per_kwh"])
    rows = [r for r in log["rows"] if "recycled_hydro" in r["process"]]
    assert rows and {r["process"] for r in rows} == {"cobalt_sulfate_recycled_hydro__mass"}
    gap = [r for r in rows if "diluent" in r["flow"]]
    assert len(gap) == 1 and gap[0]["data_gap"] and gap[0]["share_of_process"] == pytest.approx(0.87)


def test_end_of_life_and_recycled_content_are_traceable_in_the_tables(engine):
    """Where the end of life is inside the system, end_of_life.csv has the treatment's burden and one credit per
    virgin material replaced, summing to the end-of-life stage; the mass balance carries each metal's recycled
    content (R1, pre/post-consumer) and own-scrap share; the workbook's summary names the rule, R1, collection,
    burdens and credits. Under cut-off there is no end_of_life table."""
    from lca_battery.report.outputs import end_of_life_rows, footprint_tables, write_workbook
    ov = {"recycling.accounting": "cff", "recycling.eol_collection_rate": 0.9,
          "recycling.recycled_content": {"Co": {"pre_consumer": 0.05, "post_consumer": 0.15}}}
    res = footprint(EXAMPLE, ov, engine=engine)
    rows = end_of_life_rows(res)
    assert rows[0]["part"].startswith("burden") and all(r["kg_co2e_per_kwh"] < 0 for r in rows[1:])
    assert sum(r["kg_co2e_per_kwh"] for r in rows) == pytest.approx(res["stages"]["end_of_life"], rel=1e-9)
    # the route's crude Li2CO3 at Q = 1 and its 100 % recoveries are said to be upper bounds, the others not
    notes = {r["material"]: r.get("note", "") for r in rows[1:]}
    assert "crude lithium carbonate" in notes["lithium_carbonate"] and "upper bound" in notes["lithium_carbonate"]
    # the grade is the co-product's stated one, not read from its name: the copper (part of it as CuS) is crude too
    assert "grade crude" in notes["lithium_carbonate"] and "grade crude" in notes["copper_cathode"]
    assert "Mn recovery 100 %" in notes["manganese_sulfate_anhydrous_eq"] and notes["cobalt_sulfate_virgin"] == ""
    tables = footprint_tables(res)
    mb = {r["metal"]: r for r in tables["mass_balance"][0]}
    assert mb["Co"]["recycled_content_R1"] == pytest.approx(0.2) and mb["Co"]["recycled_pre_consumer"] == 0.05
    assert mb["Ni"]["recycled_content_R1"] == 0.0
    cut = footprint(EXAMPLE, {"recycling.eol_collection_rate": 0.9}, engine=engine)
    assert "end_of_life" not in footprint_tables(cut) and end_of_life_rows(cut) == []
    import tempfile
    from pathlib import Path
    import openpyxl
    with tempfile.TemporaryDirectory() as d:
        write_workbook(res, Path(d) / "f.xlsx")
        ws = openpyxl.load_workbook(Path(d) / "f.xlsx")["summary"]
        fields = {r[0].value: r[1].value for r in ws.iter_rows(min_row=2)}
    assert fields["recycling accounting rule"] == "cff" and fields["recycled content Co (R1)"] == pytest.approx(0.2)
    assert fields["end-of-life credits, kg CO2e/kWh"] == pytest.approx(res["recycling"]["end_of_life_credits"])


def test_recycled_lithium_carbonate_is_causticised_for_a_hydroxide_cathode(engine):
    """A route's Li2CO3 in the LiOH·H2O supply mix of a high-nickel cathode goes through the inventory's
    causticisation (lime, energy, the source's 83.8 % lithium yield), not straight into the cathode as the hydroxide;
    in an LFP cell's Li2CO3 mix it goes in as it is. The cell's change is the recycled share times the hydroxide
    drawn times (converted recycled hydroxide - virgin hydroxide), and lithium still balances through the loop."""
    from lca_battery.model.superstructure import all_processes
    procs = all_processes(engine.inventory)
    sw = procs["supply__lithium_hydroxide"]
    conv = procs[sw.alternatives["recycled_hydro_nmc"]]
    assert conv.id == "lithium_hydroxide_from_carbonate__lithium_carbonate_recycled_hydro"
    (li2co3,) = [x for x in conv.exchanges if x.target == "lithium_carbonate_recycled_hydro"]
    assert li2co3.amount == pytest.approx(1.05 * 0.1879 / 0.1879)
    # its electricity at its own site (CN by default; suppliers.lithium_hydroxide_from_carbonate.location moves it)
    assert {x.target for x in conv.exchanges} >= {"quicklime", "electricity_site__lithium_hydroxide_from_carbonate",
                                                  "heat_natural_gas_industrial"}
    assert procs["supply__lithium_carbonate"].alternatives["recycled_hydro_nmc"] == \
        "lithium_carbonate_recycled_hydro"
    assert procs["supply__lithium_hydroxide"].alternatives["scrap_hydro_nmc_nmc811"].startswith(
        "lithium_hydroxide_from_carbonate__scrap_recovered__Li__hydro_nmc__nmc811")
    # hand check on the solved system: only the supply mix's hydroxide changes
    r1 = 0.4
    study, mapping, solved = solve(engine, {"recycling.recycled_content": {"Li": {"post_consumer": r1}}})
    base_study, base_mapping, base = solve(engine, {})
    col = solved.lca.dicts.activity[engine.ids["supply__lithium_hydroxide"]]
    drawn = float(solved.supply[col])
    assert drawn == pytest.approx(float(base.supply[base.lca.dicts.activity[engine.ids["supply__lithium_hydroxide"]]]),
                                  rel=1e-12)
    _, f_conv = engine.resolve(base, {conv.id: 1.0})
    _, f_virgin = engine.resolve(base, {"lithium_hydroxide": 1.0})
    with_rec = footprint(EXAMPLE, {"recycling.recycled_content": {"Li": {"post_consumer": r1}}}, engine=engine,
                         details=False)
    plain = footprint(EXAMPLE, {}, engine=engine, details=False)
    assert with_rec["kg_co2e_per_kwh"] - plain["kg_co2e_per_kwh"] == pytest.approx(
        r1 * drawn * (f_conv - f_virgin), rel=1e-6)
    loop = footprint(EXAMPLE, {"recycling.recycled_content": {"Li": {"post_consumer": r1}},
                               "recycling.scrap_rate": 0.05}, engine=engine)
    assert abs(loop["mass_balance"]["Li"]["relative_residual"]) < 1e-9


def test_a_recyclers_own_figure_for_its_recycled_salt(engine, tmp_path, capsys):
    """A recycler's own PCF of its recycled salt (``suppliers.cobalt_sulfate_recycled_hydro``) replaces the modelled
    salt whatever the allocation basis: at the modelled value the cell is unchanged, above it the cell rises by the
    recycled share's salt times the difference; its site is the route's, not a setting of the product."""
    ov = {"recycling.recycled_content": {"Co": {"post_consumer": 0.3}}}
    study, mapping, solved = solve(engine, ov)
    _, modelled = engine.resolve(solved, {"cobalt_sulfate_recycled_hydro": 1.0})
    base = footprint(EXAMPLE, ov, engine=engine, details=False)
    for basis in ("mass", "system_expansion"):
        same = footprint(EXAMPLE, {**ov, "allocation.recycling": basis,
                                   "suppliers.cobalt_sulfate_recycled_hydro": {"pcf_kg_co2e_per_kg": modelled,
                                                                               "source": "recycler EPD"}},
                         engine=engine, details=False)
        assert same["kg_co2e_per_kwh"] == pytest.approx(base["kg_co2e_per_kwh"], rel=1e-9), basis
    col = solved.lca.dicts.activity[engine.ids["cobalt_sulfate_recycled_hydro"]]
    drawn = float(solved.supply[col])
    higher = footprint(EXAMPLE, {**ov, "suppliers.cobalt_sulfate_recycled_hydro": {
        "pcf_kg_co2e_per_kg": modelled + 2.0, "source": "recycler EPD"}}, engine=engine, details=False)
    assert higher["kg_co2e_per_kwh"] - base["kg_co2e_per_kwh"] == pytest.approx(2.0 * drawn, rel=1e-6)
    assert_user_error(tmp_path, capsys, {**ov, "suppliers.cobalt_sulfate_recycled_hydro":
                                         {"location": "SE", "pcf_kg_co2e_per_kg": 2.0, "source": "x"}},
                      "suppliers.cobalt_sulfate_recycled_hydro.location", ["the route's"])


def test_a_recycler_moves_its_route(engine, tmp_path, capsys):
    """A recycling route's site is a study setting like a material's (suppliers.<route>.location): its electricity
    (through its site switch, in every allocation variant, the scrap loop and the end of life) moves to that grid, and
    the cell changes by the route's kWh times the grid difference; a figure of its own belongs to each salt."""
    from conftest import ef
    ov = {"recycling.recycled_content": {"Co": {"post_consumer": 0.5}, "Ni": {"post_consumer": 0.2}},
          "recycling.scrap_rate": 0.05, "recycling.accounting": "cff", "recycling.eol_collection_rate": 0.9}
    study, mapping, solved = solve(engine, ov)
    kwh = float(solved.supply[engine.column(solved, "electricity_site__recycling_hydro_nmc")])
    assert kwh > 0
    base = footprint(EXAMPLE, ov, engine=engine, details=False)
    cn = footprint(EXAMPLE, {**ov, "suppliers.recycling_hydro_nmc.location": "CN"}, engine=engine, details=False)
    assert cn["kg_co2e_per_kwh"] - base["kg_co2e_per_kwh"] == pytest.approx(
        kwh * (ef(engine, "electricity_grid_cn") - ef(engine, "electricity_grid_eu27")), rel=1e-9)
    full = footprint(EXAMPLE, {**ov, "suppliers.recycling_hydro_nmc.location": "CN"}, engine=engine)
    assert any(r["switch"] == "electricity_site__recycling_hydro_nmc" for r in full["electricity_sites"])
    (sup,) = full["suppliers"]
    assert sup["used"] and not any("unused" in n for n in full["notes"])
    assert_user_error(tmp_path, capsys, {"suppliers.recycling_hydro_nmc": {"pcf_kg_co2e_per_kg": 1.0, "source": "x"}},
                      "suppliers.recycling_hydro_nmc", ["several products", "cobalt_sulfate_recycled_hydro"])


def test_compare_says_why_curves_are_flat_and_shows_each_point_once(engine, capsys):
    """With the cathode active material from a supplier's figure the salts the curves vary are not drawn: compare
    says so (the curves are flat); and a point left out for every rule is no column (the table repeated 50 %)."""
    from lca_battery.api import compare
    res = compare(EXAMPLE, {"suppliers.cam_nmc811.pcf_kg_co2e_per_kg": 18.0,
                            "suppliers.cam_nmc811.source": "Supplier Y"}, engine=engine, steps=2)
    assert res["supplier_note"].startswith("supplier data replace cam_nmc811")
    cut = [r["kg_co2e_per_kwh"] for r in res["curves"] if r["metal"] == "Co" and r["accounting"] == "cut_off"]
    assert max(cut) - min(cut) < 1e-9
    assert compare(EXAMPLE, {}, engine=engine, steps=2)["supplier_note"] == ""
    code = main(["compare", str(EXAMPLE), "--steps", "3", "--no-write", "--set", "recycling.scrap_rate=0.08"])
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.strip().startswith("Co ") and "%" in line)
    cols = [c for c in header.split() if c.endswith("%")]
    assert code == 0 and len(cols) == len(set(cols)) and "100%" not in cols
