"""Screenshot a report.html in headless Chromium (Debian package ``chromium``) to a PNG.

    python scripts/render_report.py results/report/report.html report.png [--width 1200] [--height 9000]

Exits 0 and writes the PNG, or exits 2 with one message when chromium is not on PATH or fails.
No network: the report is a local file and holds its charts inline.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def render(html: Path, png: Path, width: int = 1200, height: int = 9000, timeout: float = 120) -> Path:
    exe = chromium()
    if exe is None:
        raise RuntimeError("chromium is not on PATH (apt-get install -y chromium)")
    html, png = Path(html).resolve(), Path(png).resolve()
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--hide-scrollbars", f"--user-data-dir={profile}", "--no-first-run",
               f"--window-size={width},{height}", f"--screenshot={png}", html.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not png.is_file():
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return png


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html")
    ap.add_argument("png")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=9000)
    a = ap.parse_args(argv)
    try:
        out = render(Path(a.html), Path(a.png), a.width, a.height)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"render_report: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
