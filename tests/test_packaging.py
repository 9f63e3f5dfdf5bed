"""A plain (non-editable) install must find the inventories inside the wheel."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

pytest.importorskip("hatchling")


def test_wheel_ships_inventories_and_finds_them(tmp_path):
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True)
    (wheel,) = out.glob("lca_battery-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        z.extractall(site)
    assert "lca_battery/_inventories/sources.yaml" in names
    assert any(n.startswith("lca_battery/_inventories/cells/") for n in names)
    assert "lca_battery/report/templates/report.html.j2" in names      # the study report template
    for schema in ("CarbonFootprintForBatteries-1.2.0-schema.json", "Circularity-1.2.0-schema.json", "README.md"):
        assert f"lca_battery/report/schemas/{schema}" in names, schema
    code = ("from lca_battery.inventory.loader import default_root, load_inventory;"
            "r = default_root(); inv = load_inventory(r); print(r); print(len(inv.processes))")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    root, n = res.stdout.split()
    assert Path(root) == site / "lca_battery" / "_inventories"
    assert int(n) > 100
