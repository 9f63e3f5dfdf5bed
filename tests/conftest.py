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


def tiny_study(**plant):
    return {"name": "tiny", "cell": {"chemistry": "tiny", "capacity_ah": 50, "nominal_voltage_v": 4},
            "plant": {"country": "CN", **plant}}
