"""A licensed background (issue 10, points 1-2), tested on a made-up database in ecoinvent naming
(tests/bg_fixture.py): the link, the location fallback, the missing-node, missing-database and
biosphere-mismatch errors, and a foreground result that changes exactly as the fixture implies."""
from pathlib import Path

import numpy as np
import pytest

import bg_fixture as fx
from conftest import EXAMPLE
from lca_battery.api import footprint, get_engine, material_footprint
from lca_battery.background import BackgroundError

PROJECT = "user-ecoinvent-fixture"


def _co2_code():
    from lca_battery.bw.project import biosphere_index
    get_engine().activate()
    return biosphere_index()[("Carbon dioxide, fossil", ("air",))][0]


@pytest.fixture(scope="module")
def fixture_project(engine):
    import bw2data as bd
    code = _co2_code()
    linked = fx.build(PROJECT, code)
    fx.build(PROJECT + "-partial", code, leave_out=("electricity_grid_kr", "copper_cathode_electrorefining"))
    fx.build(PROJECT + "-biosphere310", code, extra_flow="00000000-test-0000-0000-biosphere310")
    engine.activate()
    assert bd.projects.current == engine.project
    return linked


def bg(project=PROJECT, database=fx.DATABASE):
    return [f"background.database={database}", f"background.project={project}"]


@pytest.fixture(scope="module")
def bg_result(fixture_project):
    return footprint(EXAMPLE, bg())


def test_open_background_is_the_default(default_result):
    assert default_result["background"]["type"] == "open"


def test_links_every_mapped_node_with_location_fallback(fixture_project, bg_result):
    info = bg_result["background"]
    assert info["database"] == fx.DATABASE and info["project"] == PROJECT
    assert set(info["linked"]) == set(fixture_project)
    for pid, (name, product, loc) in fixture_project.items():
        assert (info["linked"][pid]["name"], info["linked"][pid]["reference_product"],
                info["linked"][pid]["location"]) == (name, product, loc)
    assert info["linked"]["sulfuric_acid"]["location"] == "GLO"          # RoW absent: fell back to GLO
    assert "heat_heat_pump_plant" in info["open_nodes_kept"]               # plant technology stays open
    registry = {d["id"]: d for d in bg_result["datasets"]}
    assert registry["electricity_grid_cn"]["data"].startswith("secondary (licensed background")


def test_linked_nodes_carry_the_fixture_numbers(fixture_project):
    # hand-computed from the made-up fixture: 1.1 kWh of coal power at 1.0 kg CO2/kWh, CF of CO2 = 1
    cn = material_footprint("electricity_grid_cn", EXAMPLE, bg())
    assert cn["kg_co2e"] == pytest.approx(fx.CN_MARKET_KWH * fx.CN_COAL_CO2, rel=1e-12)
    eng = get_engine(background=_spec())
    assert eng.background is not None
    # a waste treatment (reference flow -1 m3 in ecoinvent): 0.5 kg CO2 per m3 treated, positive
    lci = dict(_lci(eng, "wastewater_treatment"))
    assert sum(lci.values()) == pytest.approx(fx.WASTEWATER_CO2, rel=1e-12)
    assert _lci(eng, "sulfuric_acid") == []


def _spec():
    from lca_battery.study import LicensedBackground
    return LicensedBackground(database=fx.DATABASE, project=PROJECT)


def _lci(eng, pid):
    import bw2data as bd
    eng.activate()
    node = bd.get_node(database="lcab-background", code=pid)
    return [(x.input["code"], x["amount"]) for x in node.biosphere()]


def test_foreground_changes_exactly_as_the_fixture_implies(fixture_project, bg_result, default_result):
    eng = get_engine(background=_spec())
    from lca_battery.api import prepare_mapping
    st, mapping, eng2 = prepare_mapping(EXAMPLE, bg(), eng)
    solved = eng2.solve(mapping.entries)
    assert solved.total == pytest.approx(bg_result["kg_co2e_per_kwh"], rel=1e-12)
    open_eng = get_engine()
    _, m_open, _ = prepare_mapping(EXAMPLE, None, open_eng)
    open_solved = open_eng.solve(m_open.entries)
    # per unit direct scores of the open system, by process id
    per_unit_open = np.asarray(open_solved.cf["total"] @ open_solved.lca.biosphere_matrix).ravel()
    direct_open = {open_eng.codes[n]: per_unit_open[c] for n, c in open_solved.lca.dicts.activity.items()}
    expected = 0.0
    for node, col in solved.lca.dicts.activity.items():
        pid = eng2.codes[node]
        s = solved.supply[col]
        if pid == "electricity_grid_cn":
            expected += s * fx.CN_MARKET_KWH * fx.CN_COAL_CO2          # the fixture's 1.1 kg CO2e/kWh
        elif pid == "wastewater_treatment":
            expected += s * fx.WASTEWATER_CO2
        elif pid in eng2.links:
            expected += 0.0                                               # every other fixture activity: 0
        else:
            expected += s * direct_open[pid]                              # lca_battery's own, unchanged
    assert solved.total == pytest.approx(expected, rel=1e-9)
    assert bg_result["kg_co2e_per_kwh"] != pytest.approx(default_result["kg_co2e_per_kwh"], rel=1e-3)
    # the plant's CN electricity: supply x 1.1
    col = eng2.column(solved, "electricity_grid_cn")
    assert solved.scores[col] == pytest.approx(solved.supply[col] * 1.1, rel=1e-12)


def test_missing_nodes_are_all_listed_before_anything_is_computed(fixture_project):
    with pytest.raises(BackgroundError) as err:
        footprint(EXAMPLE, bg(PROJECT + "-partial"))
    msg = str(err.value)
    assert "2 mapped activities are missing" in msg
    assert "electricity_grid_kr -> 'market for electricity, medium voltage'" in msg and "copper_cathode_electrorefining" in msg


def test_missing_database_and_project(fixture_project):
    with pytest.raises(BackgroundError, match="database 'ecoinvent-3.10-cutoff' does not exist"):
        footprint(EXAMPLE, bg(database="ecoinvent-3.10-cutoff"))
    with pytest.raises(BackgroundError, match="project 'no-such-project' does not exist"):
        footprint(EXAMPLE, bg(project="no-such-project"))


def test_biosphere_mismatch_is_one_clear_error(fixture_project):
    with pytest.raises(BackgroundError, match="biosphere mismatch: database 'ecoinvent-fixture-cutoff' uses 1 "
                                              "elementary flows"):
        footprint(EXAMPLE, bg(PROJECT + "-biosphere310"))


def test_open_engine_untouched_afterwards(fixture_project, bg_result, default_result):
    again = footprint(EXAMPLE)
    assert again["kg_co2e_per_kwh"] == default_result["kg_co2e_per_kwh"]
    assert again["background"]["type"] == "open"


def test_the_mapping_file_is_named_without_an_absolute_path(tmp_path):
    """Result files name the mapping file as shipped or custom (with its hash), not by the machine's path."""
    from lca_battery.background import mapping_label
    shipped = Path(__file__).resolve().parent.parent / "inventories" / "mappings" / "ecoinvent.json"
    assert mapping_label(str(shipped)) == "shipped: mappings/ecoinvent.json"
    own = tmp_path / "my-mapping.json"
    own.write_text("{}")
    label = mapping_label(str(own))
    assert label.startswith("custom: my-mapping.json (sha256 ") and str(tmp_path) not in label
