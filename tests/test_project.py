"""Brightway project: temporary data folder, rebuild only on content change, AB-openable, consistency."""
import os
import shutil

import numpy as np
import pytest

from conftest import TINY


def test_tests_use_a_temporary_brightway_folder(bw_dir):
    import bw2data as bd
    assert os.environ["BRIGHTWAY2_DIR"] == str(bw_dir)
    assert str(bd.projects._base_data_dir).startswith(str(bw_dir))


def test_second_run_does_not_rebuild_and_content_change_does(tmp_path):
    from lca_battery.calc import Engine
    from lca_battery.inventory.loader import load_inventory
    root = tmp_path / "inv"
    shutil.copytree(TINY, root)
    first = Engine(load_inventory(root))
    assert first.build["rebuilt"] is True
    second = Engine(load_inventory(root))
    assert second.build["rebuilt"] is False
    p = root / "background" / "bg.yaml"
    p.write_text(p.read_text().replace("amount: 0.07", "amount: 0.08"))
    third = Engine(load_inventory(root))
    assert third.build["rebuilt"] is True
    assert third.inventory.content_hash != first.inventory.content_hash


def test_a_project_edited_after_its_build_is_rebuilt_and_the_edit_kept_aside(tmp_path, capsys):
    """An edit in the project (as Activity Browser saves one) would make bw2calc's result and the warm cache's
    differ without a word: the edit is detected from bw2data's modification state, the edited project is
    copied aside and the project rebuilt from the inventories (the same result as before the edit)."""
    import bw2data as bd
    from lca_battery.calc import Engine
    from lca_battery.inventory.loader import load_inventory
    root = tmp_path / "inv"
    shutil.copytree(TINY, root)
    first = Engine(load_inventory(root))
    name = first.build["project"]
    bd.projects.set_current(name)
    act = bd.get_node(database=next(db for db in first.databases if db.endswith("background")),
                      code="electricity_grid_cn")
    for ex in act.biosphere():
        ex["amount"] = ex["amount"] * 2
        ex.save()
    capsys.readouterr()
    second = Engine(load_inventory(root))
    err = capsys.readouterr().err
    assert second.build["rebuilt"] is True
    assert f"the Brightway project '{name}' was changed after it was built" in err and "background" in err
    kept = [p.name for p in bd.projects if p.name.startswith(f"{name}-edited-")]
    assert len(kept) == 1 and f"kept as '{kept[0]}'" in err
    bd.projects.set_current(second.build["project"])
    ex = next(iter(bd.get_node(database=act["database"], code="electricity_grid_cn").biosphere()))
    assert ex["amount"] == pytest.approx(0.6)                 # the inventory's value again
    third = Engine(load_inventory(root))
    assert third.build["rebuilt"] is False                    # the rebuilt project is recorded as built


def test_project_is_a_plain_brightway_project(engine):
    import bw2data as bd
    engine.activate()
    assert bd.projects.current == "lca_battery"
    assert "biosphere3" in bd.databases
    for name in engine.databases:
        assert name in bd.databases and len(bd.Database(name)) > 0
    act = bd.get_node(database="lcab-cells", code="cell_nmc811")
    assert act["unit"] == "kilogram" and act["lcab_stage"] == "main_production"
    assert ("IPCC 2021", "climate change", "global warming potential (GWP100)") in bd.methods


def test_engine_matrices_equal_brightway_datapackages(engine):
    """The engine packs the stored exchanges at float64; bw2data packs the same at float32."""
    import bw2calc as bc
    import bw2data as bd
    from lca_battery.model.superstructure import ROOT
    demand = {engine.ids[ROOT]: 1.0}
    engine.activate()
    ours = bc.LCA(demand, data_objs=engine.base_packages("ipcc2021"))
    ours.load_lci_data()
    dps = [bd.Database(n).datapackage() for n in ["biosphere3", *engine.databases]]
    theirs = bc.LCA(demand, data_objs=dps)
    theirs.load_lci_data()
    assert ours.dicts.activity == theirs.dicts.activity
    for m in ("technosphere_matrix", "biosphere_matrix"):
        a, b = getattr(ours, m).toarray(), getattr(theirs, m).toarray()
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)


def test_databases_store_the_default_study(engine, default_result):
    """Activity Browser (plain bw2data/bw2calc, float32) computes the default cell from the stored amounts."""
    import bw2calc as bc
    import bw2data as bd
    engine.activate()
    root = bd.get_node(database="lcab-model", code="product_system")
    lca = bc.LCA({root: 1}, method=("IPCC 2021", "climate change", "global warming potential (GWP100)"))
    lca.lci()
    lca.lcia()
    assert lca.score == pytest.approx(default_result["kg_co2e_per_kwh"], rel=1e-5)


def test_every_process_is_told_apart_by_name_location_unit_and_product(engine):
    """Activity Browser lists and bw2io's linking (a Brightway Excel export read back) tell processes apart by name,
    location, unit and reference product: no two written processes share all four (the causticisation copies of
    several recycled Li salts of one composition once did)."""
    from collections import Counter
    from lca_battery.model.superstructure import all_processes
    procs = all_processes(engine.inventory)
    seen = Counter((p.name, p.location, p.unit, p.reference_product) for p in procs.values())
    assert [k for k, n in seen.items() if n > 1] == []
