"""The sweep's study builds: switch index, parts of the mapping kept between builds (BuildMemo), validated
sections reused between studies, --set paths worked out once per key. Each must give what a build from
scratch gives (entries, order, errors), and a changed field a fresh result."""
import inspect
import re

import numpy as np
import pytest

from conftest import EXAMPLE, assert_row_equals_footprint
from lca_battery import study as study_mod
from lca_battery.api import footprint, prepare_mapping, sweep_frame
from lca_battery.errors import StudyError
from lca_battery.model import cell as cell_mod
from lca_battery.model import entries as ent
from lca_battery.model import plant as plant_mod
from lca_battery.model import recycling as rec_mod
from lca_battery.model.entries import BuildMemo, frozen
from lca_battery.study import load_study, read_study_file

#: studies that set switches (supply, allocation, heat, a supplier's site), recycling and the cell design
CASES = [
    {},
    {"plant.country": "SE", "plant.heat": {"coal": 0.5, "natural_gas": 0.5}},
    {"supply.nickel": {"class1": 1.0}, "allocation.cobalt": "mass"},
    {"allocation.recycling": "system_expansion", "recycling.recycled_content.Co.post_consumer": 0.3},
    {"allocation.recycling": "economic"},          # a basis the used routes lack, no route in use: default
    {"suppliers.sodium_hydroxide.location": "SE", "suppliers.chlorine.location": "PL"},
    {"plant.electricity.onsite.pv_rooftop": 0.3, "recycling.accounting": "cff",
     "recycling.eol_collection_rate": 0.9},
    {"cell.chemistry": "NMC622", "cell.design.cathode_thickness_um": 80},
    {"cell.chemistry": "LFP", "cell.nominal_voltage_v": 3.2},
]


def _mapping(engine, ov, memo=None):
    return prepare_mapping(EXAMPLE, ov, engine, parsed=read_study_file(EXAMPLE), memo=memo)


def _same_mapping(a, b):
    assert a.cells == b.cells                   # same cells in the same order
    assert a.entries == b.entries               # same amounts and parameters
    assert a.bom_info == b.bom_info and a.bom == b.bom and a.recycling == b.recycling
    assert a.plant_energy == b.plant_energy


@pytest.mark.parametrize("ov", CASES)
def test_switch_index_gives_the_switch_loop_entries(engine, monkeypatch, ov):
    _, fast, _ = _mapping(engine, ov)
    with monkeypatch.context() as mp:
        mp.setattr(ent, "_switch_index", lambda procs, file: None)     # switch by switch (the reference)
        _, ref, _ = _mapping(engine, ov)
    _same_mapping(fast, ref)


@pytest.mark.parametrize("ov", [
    {"supply.nickel": "laterite"},
    {"suppliers.sodium_hydroxide.location": "XX"},
    {"supply.nickel": "laterite", "suppliers.sodium_hydroxide.location": "XX"},   # the first in switch order
    {"suppliers.sodium_hydroxide.location": "XX", "supply.graphite": "martian"},
    {"plant.heat": "plasma"},
])
def test_switch_index_raises_the_switch_loop_error(engine, monkeypatch, ov):
    with pytest.raises(StudyError) as fast:
        _mapping(engine, ov)
    with monkeypatch.context() as mp:
        mp.setattr(ent, "_switch_index", lambda procs, file: None)
        with pytest.raises(StudyError) as ref:
            _mapping(engine, ov)
    assert str(fast.value) == str(ref.value) and fast.value.field == ref.value.field
    assert fast.value.allowed == ref.value.allowed


def test_memo_equals_fresh_builds_and_changed_fields_give_fresh_parts(engine):
    """One memo through studies that change the kept parts' fields (cell design, plant energy, recycling)
    and back: each mapping equals its build without memo, and the parts are computed again when a field
    they read changes."""
    memo = BuildMemo()
    seq = [{}, {"cell.design.cathode_thickness_um": 80}, {"plant.energy_data": "degen_schutte_2022"},
           {"recycling.recycled_content.Co.post_consumer": 0.5, "recycling.accounting": "avoided_burden"},
           {"plant.country": "SE"}, {},
           {"recycling.recycled_content.Co.post_consumer": 0.5, "recycling.accounting": "avoided_burden",
            "recycling.eol_collection_rate": 0.9},
           {"recycling.recycled_content.Co.post_consumer": 0.5, "recycling.accounting": "avoided_burden",
            "recycling.eol_collection_rate": 0.5}]
    got = []
    for ov in seq:
        _, m, _ = _mapping(engine, ov, memo)
        _, ref, _ = _mapping(engine, ov)
        _same_mapping(m, ref)
        assert np.array_equal(m.amounts, ref.amounts) and m.layout_key == ref.layout_key
        assert np.array_equal(m.amounts, np.array([e.amount for e in m.entries], dtype=float))
        got.append(m)
    # a changed field: a fresh part (different result), an unchanged one: the kept object itself
    assert got[1].bom != got[0].bom and got[1].bom_info is not got[0].bom_info
    assert got[2].plant_energy != got[0].plant_energy and got[2].bom_info is got[0].bom_info
    assert got[3].recycling != got[0].recycling and got[3].plant_energy is got[0].plant_energy
    assert got[4].plant_energy is got[0].plant_energy           # the country is not read by plant_energy
    assert got[5].bom_info is got[0].bom_info and got[5].recycling["metals"] is got[0].recycling["metals"]
    assert got[7].recycling != got[6].recycling                 # another collection rate: a fresh end of life
    assert got[7].recycling["metals"] is got[6].recycling["metals"]    # the supply side kept
    assert memo.hits > 0
    bom = memo.parts["bom"]
    assert len(bom) == 2                                          # the default design and the thicker cathode


def test_memo_is_dropped_for_another_processes_dict():
    memo = BuildMemo()
    memo.use(a := {})
    memo.get("bom", ("x",), lambda: 1)
    memo.use(a)
    assert memo.get("bom", ("x",), lambda: 2) == 1
    memo.use({})
    assert memo.get("bom", ("x",), lambda: 2) == 2


def test_a_part_that_raises_is_not_kept(engine):
    memo = BuildMemo()
    bad = {"plant.heat": "heat_pump"}                            # no COP: plant_energy raises
    for _ in range(2):
        with pytest.raises(StudyError, match="heat_pump_cop"):
            _mapping(engine, bad, memo)
    _, m, _ = _mapping(engine, {**bad, "plant.heat_pump_cop": 3.0, "plant.heat_pump_cop_source": "test"}, memo)
    _, ref, _ = _mapping(engine, {**bad, "plant.heat_pump_cop": 3.0, "plant.heat_pump_cop_source": "test"})
    _same_mapping(m, ref)


def _reads(fn_or_module, name):
    src = inspect.getsource(fn_or_module)
    return set(re.findall(rf"\b{name}\.(\w+)", src))


def test_memo_keys_cover_what_the_parts_read():
    """The keys name every field the kept functions read: plant_energy reads only PLANT_ENERGY_FIELDS of the
    plant (the yield is keyed apart), recycling_entries only study.recycling, the BOM only study.cell."""
    assert _reads(plant_mod.plant_energy, "pl") <= set(plant_mod.PLANT_ENERGY_FIELDS)
    assert _reads(plant_mod.plant_energy, "study") == {"plant"}
    getattrs = re.findall(r"getattr\(pl, (\w+)\)", inspect.getsource(plant_mod.plant_energy))
    assert getattrs == ["fld"]                                     # the biomass fields, listed in the loop
    assert _reads(rec_mod.recycling_entries, "study") == {"recycling"}
    assert not _reads(rec_mod.eol_entries, "rc") and not _reads(rec_mod.eol_entries, "study")
    assert _reads(rec_mod.supply_entries, "study") == set()
    src = inspect.getsource(rec_mod.supply_entries)       # the collection rate: only whether it is zero
    assert all(re.search(r"\brc\.eol_collection_rate\)?\s*(or|:|\))", src[m.start():m.start() + 40])
               for m in re.finditer(r"rc\.eol_collection_rate", src))
    assert _reads(cell_mod, "study") <= {"cell", "model_copy"}


def test_frozen_tells_values_and_types_apart():
    assert frozen({"a": 1.0}) != frozen({"a": 1}) != frozen({"a": True})
    assert frozen(0.0) != frozen(-0.0)
    assert frozen({"a": 1, "b": 2}) != frozen({"b": 2, "a": 1})   # order kept (it orders entries)
    s = load_study(EXAMPLE)
    assert frozen(s.cell) == frozen(load_study(EXAMPLE).cell)
    assert frozen(s.cell) != frozen(load_study(EXAMPLE, {"cell.capacity_ah": 61}).cell)


def test_reused_sections_give_the_same_study_and_errors():
    parsed = read_study_file(EXAMPLE)
    sections: dict = {}
    for ov in [{}, {"plant.country": "SE"}, {"cell.capacity_ah": 50}, {"plant.country": "SE"}, {}]:
        a = load_study(EXAMPLE, ov, parsed=parsed, sections=sections)
        b = load_study(EXAMPLE, ov, parsed=parsed)
        assert a == b
    assert len(sections["plant"]) == 2 and len(sections["cell"]) == 2
    # a bad value in a changed section (the others reused) gives the error of a study loaded alone
    for ov in [{"plant.heat_pump_cop": 0.5}, {"cell.capacity_ah": -1}, {"recycling.eol_collection_rate": 2},
               {"cell.capacity_ah": -1, "recycling.eol_collection_rate": 2}]:
        with pytest.raises(StudyError) as got:
            load_study(EXAMPLE, ov, parsed=parsed, sections=sections)
        with pytest.raises(StudyError) as ref:
            load_study(EXAMPLE, ov, parsed=parsed)
        assert str(got.value) == str(ref.value) and got.value.field == ref.value.field
    assert all(len(v) <= 3 for v in sections.values())            # a failing study's sections are not kept


def test_set_paths_worked_out_once_still_check_keys():
    parsed = read_study_file(EXAMPLE)
    for _ in range(2):                                           # the second time from the kept path
        with pytest.raises(StudyError, match="unknown key 'plant.countri'"):
            load_study(EXAMPLE, {"plant.countri": "SE"}, parsed=parsed)
    s = load_study(EXAMPLE, {"supply.nickel": "class1"}, {"supply.nickel", "allocation.cobalt"}, parsed=parsed)
    assert s.supply["nickel"] == "class1"
    with pytest.raises(StudyError, match="unknown key 'supply.nickel'"):   # other switch parameters: checked again
        load_study(EXAMPLE, {"supply.nickel": "class1"}, {"supply.graphite", "allocation.cobalt"}, parsed=parsed)
    d = {"plant": {"electricity": "grid"}}
    study_mod.apply_override(d, "plant.electricity.onsite.pv_rooftop", 0.2, "f")
    study_mod.apply_override(d, "plant.electricity.onsite.wind", 0.1, "f")
    assert d == {"plant": {"electricity": {"onsite": {"pv_rooftop": 0.2, "wind": 0.1}}}}


def test_grid_changing_kept_fields_equals_footprint(engine):
    """A grid whose axes change the kept parts' fields (cell design, plant energy data, heat pump COP,
    CFF parameters): every row equals footprint --set alone."""
    grid = {"cell.design.cathode_thickness_um": [60, 80],
            "plant.energy_data": ["default", "degen_schutte_2022"],
            "plant.heat_pump_cop": [2.5, 4.0],
            "recycling.accounting": ["cut_off", "cff"],
            "recycling.recycled_content.Co.post_consumer": [0.0, 0.4]}
    base = {"plant.heat": {"heat_pump": 0.5, "natural_gas": 0.5}, "plant.heat_pump_cop_source": "test"}
    stats = {}
    frame = sweep_frame(EXAMPLE, grid, base, engine=engine, stats=stats)
    assert "fallback" not in stats and frame.n == 32
    rows = frame.rows()
    for i in range(0, 32, 3):
        ov = {k: rows[i][k] for k in grid}
        assert_row_equals_footprint(rows[i], footprint(EXAMPLE, {**base, **ov}, engine=engine, details=False))


@pytest.mark.parametrize("ov", CASES)
def test_amounts_and_layout_key_give_the_plain_delta(engine, ov):
    """The mapping's amounts (the index's default amounts, patched) and layout key (the index's token and the
    cells after its defaults) give the delta of the entries themselves."""
    import numpy as np
    from lca_battery.compiled import CompiledModel
    model = CompiledModel.from_engine(engine)
    _, m, _ = _mapping(engine, ov)
    assert m.amounts is not None and m.layout_key is not None
    assert np.array_equal(m.amounts, np.array([e.amount for e in m.entries], dtype=float))
    assert m.cells == tuple((e.matrix, e.input, e.output) for e in m.entries)
    fresh = CompiledModel.from_engine(engine)
    fresh._layouts = {}
    plain = fresh.delta(m.entries)
    for _ in range(2):                                        # the second from the cached layout
        got = model.delta(m.entries, m.cells, m.amounts, m.layout_key)
        for a, b in zip(got, plain):
            assert np.array_equal(a, b)
