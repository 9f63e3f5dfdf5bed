"""Caches of the study build (a grid sweep builds hundreds of studies on one inventory): a cached value
must never outlive or differ from its inputs. Each test gives two inputs that differ in the cached field,
in one process, and checks that each gets its own value (no timing asserted)."""
from dataclasses import replace

import numpy as np
import pytest

from conftest import EXAMPLE
from lca_battery.api import footprint, prepare_mapping
from lca_battery.model import plant, recycling
from lca_battery.model.superstructure import all_processes


def _procs(engine):
    return all_processes(engine.inventory)


def test_profiles_cache_per_processes_dict(engine):
    procs = _procs(engine)
    a = plant.profiles(procs)
    assert a and plant.profiles(procs) is a                         # cached for the same dict
    steps = [pid for pid in procs if pid.startswith(plant.STEP_PREFIX)]
    assert steps
    # a second processes dict without one profile's steps (same keys otherwise)
    gone = steps[0][len(plant.STEP_PREFIX):].split("__", 1)[0]
    other = {pid: p for pid, p in procs.items()
             if not pid.startswith(plant.STEP_PREFIX + gone + "__")}
    b = plant.profiles(other)
    assert gone in a and gone not in b
    assert plant.profiles(procs) is a and gone in plant.profiles(procs)
    # a dict built again after the first is gone gets its own value (ids may be reused)
    for _ in range(3):
        d = dict(other)
        assert gone not in plant.profiles(d)
        del d


def test_eol_treatments_and_drawn_cache_per_processes_dict(engine):
    procs = _procs(engine)
    eol = recycling._eol_treatments(procs)
    assert eol and all(p.startswith("eol_treatment__") for p in eol)
    other = {pid: p for pid, p in procs.items() if pid != eol[0]}
    assert recycling._eol_treatments(other) == eol[1:]
    assert recycling._eol_treatments(procs) == eol
    cathode = "cathode_nmc811"
    assert cathode in procs
    d1 = recycling._drawn(cathode, procs)
    assert d1["Co"] > 0
    d1["Co"] = -1.0                                                 # a copy: the cache is not changed
    assert recycling._drawn(cathode, procs)["Co"] > 0
    # the same cathode id in a processes dict whose cathode draws twice as much
    p = procs[cathode]
    doubled = replace(p, exchanges=tuple(replace(x, amount=2 * x.amount) if x.kind == "technosphere" else x
                                         for x in p.exchanges))
    other = {**procs, cathode: doubled}
    d2 = recycling._drawn(cathode, other)
    d0 = recycling._drawn(cathode, procs)
    for m in d0:
        assert d2[m] == pytest.approx(2 * d0[m])
    assert recycling._drawn("cathode_nmc622", procs) != d0          # keyed by cathode too


def test_two_studies_differing_in_cached_fields(engine):
    """Studies built alternately in one process give the same mappings as built alone."""
    sets = [{"cell.chemistry": "NMC811"}, {"cell.chemistry": "NMC622"},
            {"cell.chemistry": "NMC622", "recycling.recycled_content.Co.post_consumer": 0.3},
            {"cell.chemistry": "NMC811", "recycling.recycled_content.Co.post_consumer": 0.3,
             "recycling.accounting": "cff", "recycling.eol_collection_rate": 0.9}]
    first = [prepare_mapping(EXAMPLE, s, engine)[1] for s in sets]
    again = [prepare_mapping(EXAMPLE, s, engine)[1] for s in reversed(sets)][::-1]
    for a, b in zip(first, again):
        assert [(e.matrix, e.input, e.output, e.amount) for e in a.entries] == \
            [(e.matrix, e.input, e.output, e.amount) for e in b.entries]
        assert a.recycling == b.recycling and a.bom_info == b.bom_info
    t = [footprint(EXAMPLE, s, engine=engine, details=False)["kg_co2e_per_kwh"] for s in sets]
    assert len(set(t)) == len(t)


def test_mapping_cells_follow_entries_and_default_switch_entries_shared(engine):
    """Mapping.cells (the layout key of compiled.delta) is the entries' cells, each once; switch entries at
    their defaults are shared between mappings, and a later entry of the same cell still wins."""
    a = prepare_mapping(EXAMPLE, {"plant.country": "SE"}, engine)[1]
    b = prepare_mapping(EXAMPLE, {"plant.country": "PL", "recycling.recycled_content.Co.post_consumer": 0.5},
                        engine)[1]
    for m in (a, b):
        assert m.cells == tuple((e.matrix, e.input, e.output) for e in m.entries)
        assert len(set(m.cells)) == len(m.cells)
    amounts = [{c: e.amount for c, e in zip(m.cells, m.entries)} for m in (a, b)]
    changed = {c for c in amounts[0] if amounts[0][c] != amounts[1].get(c)}
    assert any(c[2].startswith("supply_") for c in changed)      # recycling overrides the supply switch defaults
    from lca_battery.compiled import CompiledModel
    model = CompiledModel.from_engine(engine)
    for m in (a, b):
        fast, slow = model.delta(m.entries, m.cells), model.delta(m.entries)
        for x, y in zip(fast, slow):
            assert np.array_equal(x, y)
