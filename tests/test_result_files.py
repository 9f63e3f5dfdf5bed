"""Result folders are readable by colleagues (not mkdtemp's private mode) and SVG charts keep their text."""
import os
import stat

from conftest import EXAMPLE


def test_result_folder_mode_and_svg_text(engine, tmp_path):
    from lca_battery.cli import main
    old = os.umask(0o022)
    try:
        assert main(["footprint", str(EXAMPLE), "--out", str(tmp_path / "r")]) == 0
    finally:
        os.umask(old)
    run = tmp_path / "r" / "nmc811-cn"
    mode = stat.S_IMODE(run.stat().st_mode)
    assert mode == 0o755, oct(mode)
    svg = (run / "footprint.svg").read_text(encoding="utf-8")
    assert "<text" in svg and "raw material" in svg
