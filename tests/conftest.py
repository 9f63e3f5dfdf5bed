"""Test set-up: a temporary Brightway data folder for the whole session, never the user's.

``BRIGHTWAY2_DIR`` must be set before bw2data is imported, hence at module import here.
"""
import os
import shutil
import tempfile
from pathlib import Path

_BW_DIR = tempfile.mkdtemp(prefix="lcab-bw-")
os.environ["BRIGHTWAY2_DIR"] = _BW_DIR
os.environ.pop("LCA_BATTERY_PROJECT", None)
os.environ.pop("LCA_BATTERY_INVENTORIES", None)

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY = Path(__file__).resolve().parent / "data" / "tiny"
EXAMPLE = ROOT / "examples" / "nmc811-cn.yaml"
#: BatPaC 5.2, kg element per kWh (pack), as in the data brief
BATPAC = {
    "NMC811": {"Li": 0.092, "Ni": 0.608, "Co": 0.076},
    "NMC622": {"Li": 0.103, "Ni": 0.512, "Co": 0.171},
    "NMC111": {"Li": 0.115, "Ni": 0.318, "Co": 0.319},
    "NCA": {"Li": 0.099, "Ni": 0.656, "Co": 0.123},
    "LFP": {"Li": 0.089},
}


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_BW_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def bw_dir():
    return Path(_BW_DIR)


@pytest.fixture(scope="session")
def tiny_engine():
    from lca_battery.api import get_engine
    return get_engine(TINY)


@pytest.fixture(scope="session")
def engine():
    from lca_battery.api import get_engine
    return get_engine()


@pytest.fixture(scope="session")
def default_result(engine):
    from lca_battery.api import footprint
    return footprint(EXAMPLE, engine=engine)


def tiny_variant(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of the tiny inventory under ``tmp_path`` with text replaced: {file relative to it: (old, new)}, each
    old text found exactly once (a fixture edit that misses fails here, not silently)."""
    root = tmp_path / "inv"
    shutil.copytree(TINY, root)
    for rel, (old, new) in edits.items():
        f = root / rel
        text = f.read_text()
        assert text.count(old) == 1, (rel, old)
        f.write_text(text.replace(old, new))
    return root


def tiny_study(**plant):
    return {"name": "tiny", "cell": {"chemistry": "tiny", "capacity_ah": 50, "nominal_voltage_v": 4},
            "plant": {"country": "CN", **plant}}


def assert_user_error(tmp_path, capsys, overrides: dict, field: str, words, study=None):
    """``footprint`` with ``overrides`` fails as a user error: exit 2, one message naming the field
    and containing ``words``, no traceback, nothing written."""
    import json
    from lca_battery.cli import main
    args = ["footprint", str(study or EXAMPLE), "--out", str(tmp_path / "r")]
    for k, v in overrides.items():
        args += ["--set", f"{k}={json.dumps(v) if isinstance(v, (dict, list)) else v}"]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and f"'{field}'" in err, err
    for w in words:
        assert w in err, err
    assert not (tmp_path / "r").exists()


def ef(engine, pid):
    """The one biosphere amount of an aggregated-factor process ``pid`` (kg CO2e per unit)."""
    (x,) = [x for x in engine.inventory[pid].exchanges if x.kind == "biosphere"]
    return x.amount


def grid_kwh(engine, pid, grid="electricity_grid_cn"):
    """kWh of ``grid`` per unit of ``pid``, read from the inventory (not hard-coded)."""
    return sum(x.amount for x in engine.inventory[pid].exchanges if x.kind != "biosphere" and x.target == grid)


def site_power(engine, pid) -> dict[str, float]:
    """kWh per unit of ``pid`` by its site power source (national grids and captive-plant technologies), read from
    the inventory (not hard-coded)."""
    from lca_battery.model.base import SITE_POWER_PREFIXES
    out: dict[str, float] = {}
    for x in engine.inventory[pid].exchanges:
        if x.kind != "biosphere" and x.target.startswith(SITE_POWER_PREFIXES):
            out[x.target] = out.get(x.target, 0.0) + x.amount
    return out


def assert_site_move(engine, default_result, solved, pid, cc):
    """Move ``pid``'s site (``suppliers.<pid>.location``) from its power sources (its grid, or a grid and a captive
    plant) to country ``cc``: its site switch carries exactly its own site kWh (read from the inventory) and the
    default cell changes by exactly that kWh x (the new grid's factor - the kWh-weighted factor of its sources).
    Returns the change (moved - default)."""
    from lca_battery.api import footprint
    eng, s = solved
    site_kwh = s.supply[eng.column(s, f"electricity_site__{pid}")]
    power = site_power(engine, pid)
    per_unit = sum(power.values())
    home = sum(kwh * ef(engine, src) for src, kwh in power.items()) / per_unit
    kwh = s.supply[eng.column(s, pid)] * per_unit
    assert kwh > 0 and site_kwh == pytest.approx(kwh, rel=1e-9)
    moved = footprint(EXAMPLE, {f"suppliers.{pid}.location": cc}, engine=engine)
    delta = site_kwh * (ef(engine, f"electricity_grid_{cc.lower()}") - home)
    assert delta != 0
    assert moved["kg_co2e_per_kwh"] - default_result["kg_co2e_per_kwh"] == pytest.approx(delta, rel=1e-9)
    return delta


@pytest.fixture(scope="module")
def solved(engine):
    """The default study (examples/nmc811-cn.yaml) solved: (engine, Solved)."""
    from lca_battery.api import prepare
    _, entries, eng = prepare(EXAMPLE, engine=engine)
    return eng, eng.solve(entries)


def assert_row_equals_footprint(row, one, rel=1e-9):
    """A sweep row equals ``footprint --set ...`` alone (``one``): totals per kWh, cell and kg, every stage and
    gas, to ``rel`` (stages and gases also to ``rel`` x the total, absolute, for the zero ones)."""
    tot = one["kg_co2e_per_kwh"]
    for key in ("kg_co2e_per_kwh", "kg_co2e_per_cell", "kg_co2e_per_kg"):
        if key in row:
            assert row[key] == pytest.approx(one[key], rel=rel), key
    for part, key in (("stage", "stages"), ("gas", "gases")):
        for k, v in one[key].items():
            assert row[f"{part}:{k}"] == pytest.approx(v, rel=rel, abs=rel * abs(tot)), k


def sweep_per_scenario(monkeypatch, *args, **kw):
    """``api.sweep`` with every scenario built and solved on its own (no table or grid fast path): the reference
    the fast paths are compared with."""
    from lca_battery import api, sweep_serial
    with monkeypatch.context() as mp:
        mp.setattr(sweep_serial, "_table_rows", lambda *a, **k: None)
        mp.setattr(sweep_serial, "_grid_frame", lambda *a, **k: None)
        return api.sweep(*args, **kw)


_RESULT_PREFIXES = ("kg_", "stage:", "gas:", "material:")


def assert_same_rows(rows, ref, key_order: bool = False, same_columns: bool = False, rel: float = 1e-9):
    """Sweep rows equal to the reference rows: the same keys (``key_order``: the setting columns also in the same
    order; ``same_columns``: every column in the same order), settings equal, every number to ``rel`` relative
    (or ``rel`` of the row's total)."""
    assert len(rows) == len(ref)
    for a, b in zip(rows, ref):
        if same_columns:
            assert list(a) == list(b)
        if key_order:
            settings = [k for k in b if not k.startswith(_RESULT_PREFIXES)]
            assert list(a)[:len(settings)] == settings
        assert set(a) == set(b)
        for k, v in b.items():
            if isinstance(v, float):
                assert a[k] == pytest.approx(v, rel=rel, abs=rel * abs(b["kg_co2e_per_kwh"])), k
            else:
                assert a[k] == v, k
