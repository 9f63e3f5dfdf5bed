"""What a new user meets following the README: result folders of paired Monte Carlo runs, the study
report's charts (labels beside the ends they name, nothing drawn over the data), the hint for a
chemistry change on a study that states its voltage, the ``chemistries`` listing."""
import json

import pytest

from conftest import EXAMPLE

from lca_battery.api import footprint
from lca_battery.cli import main


def _capture(monkeypatch):
    """Make the chart functions hand back their matplotlib figure instead of saving it."""
    from lca_battery.report import charts
    figs = []
    monkeypatch.setattr(charts, "save_figure", lambda fig, path_stem: figs.append(fig) or "")
    return charts, figs


OAT = {"base": 94.13, "rows": [
    # opposite sides of the base, both ends on the low side, one end at the base
    {"parameter": "plant grid", "low": 83.6, "high": 95.3, "low_label": "SE", "high_label": "PL"},
    {"parameter": "CFF A", "low": 93.0, "high": 89.8, "low_label": "A = 0.2", "high_label": "A = 0.8"},
    {"parameter": "route", "low": 88.7, "high": 89.1, "low_label": "hydro", "high_label": "pyro"},
    {"parameter": "allocation", "low": 94.13, "high": 93.35, "low_label": "economic", "high_label": "mass"},
]}


def test_tornado_labels_sit_on_the_side_of_their_end_and_both_ends_show(monkeypatch):
    charts, figs = _capture(monkeypatch)
    charts.tornado(OAT)
    ax = figs[0].axes[0]
    base = OAT["base"]
    rows = OAT["rows"][::-1]
    for r in rows:
        for end in ("low", "high"):
            x = r[end]
            (t,) = [t for t in ax.texts if t.get_text().strip().startswith(r[f"{end}_label"])]
            tx = t.get_position()[0]
            # the label extends away from the base, on the side of the base where its value lies
            if x < base:
                assert t.get_horizontalalignment() == "right" and tx <= x + 1e-9, (r["parameter"], end)
            elif x > base:
                assert t.get_horizontalalignment() == "left" and tx >= x - 1e-9, (r["parameter"], end)
    # every end with a bar is visible: a bar drawn later covers an earlier one only where it is at
    # least as tall, so the later of two bars on one side must be the shorter or the thinner
    bars = [p for p in ax.patches if p.get_width() != 0]
    for i in range(len(rows)):
        mine = [p for p in bars if abs(p.get_y() + p.get_height() / 2 - i) < 1e-9]
        for k, later in enumerate(mine):
            for earlier in mine[:k]:
                same_side = later.get_width() * earlier.get_width() > 0
                if same_side:
                    covers = abs(later.get_width()) >= abs(earlier.get_width())
                    assert not (covers and later.get_height() >= earlier.get_height()), rows[i]["parameter"]


def test_histogram_labels_stand_above_the_bars(monkeypatch):
    charts, figs = _capture(monkeypatch)
    samples = [90.0 + (k % 17) for k in range(400)]
    charts.histogram({"study": "s", "seed": 1, "samples": samples,
                      "kg_co2e_per_kwh": {"n": 400, "deterministic": 95.0, "median": 98.0, "p2_5": 90.5,
                                          "p97_5": 106.0}}, None)
    ax = figs[0].axes[0]
    fig = figs[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tallest = max(p.get_window_extent(renderer).y1 for p in ax.patches)
    for t in ax.texts:
        assert t.get_window_extent(renderer).y0 >= tallest - 1, t.get_text()
    assert all(float(y).is_integer() for y in ax.get_yticks())     # sample counts


@pytest.mark.parametrize("deterministic, median", [(98.0, 98.05), (98.0, 98.0), (95.0, 101.0)])
def test_histogram_line_names_never_overlap(monkeypatch, deterministic, median):
    """The deterministic value and the median close together (the usual case): their names and every other
    text of the chart stay apart, and nothing is written over the bars."""
    from lca_battery.report.charts import lay_out
    charts, figs = _capture(monkeypatch)
    samples = [90.0 + (k % 17) for k in range(400)]
    charts.histogram({"study": "s", "seed": 1, "samples": samples,
                      "kg_co2e_per_kwh": {"n": 400, "deterministic": deterministic, "median": median,
                                          "p2_5": 90.5, "p97_5": 106.0}}, None)
    fig = figs[0]
    lay_out(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    from matplotlib.text import Text
    found = {id(t): t for t in fig.findobj(Text)}.values()
    texts = [t for t in found if t.get_visible() and t.get_text().strip()]
    names = " ".join(t.get_text() for t in texts)
    assert "deterministic" in names and "median" in names, names
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[:i]:
            assert not ba.overlaps(bb), (a, b)
    top = max(p.get_window_extent(renderer).y1 for p in ax.patches)
    area = ax.get_window_extent(renderer)
    for a, box in boxes:
        assert not (area.x0 < box.x1 and box.x0 < area.x1 and box.y0 < top and box.y1 > area.y0), a


def test_sobol_legend_does_not_cover_a_bar(monkeypatch):
    charts, figs = _capture(monkeypatch)
    # the default study's indices (report, N = 128): one large index with wide confidence bars
    names = ("natural graphite share", "plant electricity (kWh/kWh)", "recycled Ni (post-consumer)",
             "recycled Li (post-consumer)", "economic share of cobalt allocation", "recycled Co (post-consumer)")
    rows = [{"parameter": names[k], "S1": s1, "ST": st, "S1_conf": c1, "ST_conf": ct}
            for k, (s1, st, c1, ct) in enumerate(((0.674, 0.675, 0.189, 0.134), (0.280, 0.283, 0.126, 0.065),
                                                  (0.033, 0.036, 0.045, 0.010), (0.002, 0.002, 0.010, 0.0),
                                                  (0.0, 0.001, 0.008, 0.0), (0.001, 0.001, 0.006, 0.0)))]
    charts.sobol_chart({"rows": rows, "n": 128, "runs": 1024, "seed": 42})
    fig = figs[0]
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    for p in ax.patches:
        if p.get_width() > 0:
            assert not legend.overlaps(p.get_window_extent(renderer)), p
    for c in ax.collections:                  # the confidence bars
        for path in c.get_paths():
            (x0, y0), (x1, y1) = c.get_transform().transform(path.vertices[[0, -1]])
            assert not legend.overlaps(type(legend).from_extents(min(x0, x1), min(y0, y1) - 0.5,
                                                                 max(x0, x1), max(y0, y1) + 0.5)), path


def test_paired_uncertainty_keeps_its_own_results_folder(tmp_path, capsys):
    """A paired run is another result than the unpaired one (and than a run paired with another B):
    it must not replace the other's folder (README: result folders never collide)."""
    runs = [[], ["--paired-set", "plant.country=SE"], ["--paired-set", "plant.country=PL"]]
    for extra in runs:
        assert main(["uncertainty", str(EXAMPLE), "--samples", "20", "--out", str(tmp_path), *extra]) == 0
    capsys.readouterr()
    folders = sorted(p for p in tmp_path.iterdir() if p.name.startswith("nmc811-cn-uncertainty"))
    assert len(folders) == 3, folders
    paired = []
    for f in folders:
        p = json.loads((f / "uncertainty.json").read_text(encoding="utf-8")).get("paired") or {}
        paired.append((p.get("study"), p["kg_co2e_per_kwh"]["deterministic"] if p else None))
    assert len(set(paired)) == 3
    # the same paired run again replaces its own folder
    assert main(["uncertainty", str(EXAMPLE), "--samples", "20", "--out", str(tmp_path), *runs[1]]) == 0
    capsys.readouterr()
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("nmc811-cn-uncertainty")]) == 3


def test_chemistry_change_on_a_study_with_a_voltage_names_the_way_out(tmp_path, capsys, engine):
    from lca_battery.api import footprint
    assert main(["footprint", str(EXAMPLE), "--no-write", "--set", "cell.chemistry=LFP"]) == 2
    err = capsys.readouterr().err
    assert "'cell.nominal_voltage_v'" in err and "--set cell.nominal_voltage_v=null" in err, err
    r = footprint(EXAMPLE, ["cell.chemistry=LFP", "cell.nominal_voltage_v=null"], engine=engine, details=False)
    assert r["chemistry"] == "LFP" and r["kg_co2e_per_kwh"] > 0


def test_chemistries_listing_says_whose_energy_density_it_shows(capsys, engine):
    # the design model's energy density, as footprint computes it (a new user read the literature default,
    # 0.280 for NMC811, beside the README's 296 Wh/kg), with the literature default beside it
    assert main(["chemistries"]) == 0
    out = capsys.readouterr().out
    assert "cell design model" in out
    r = footprint(EXAMPLE, ["cell.nominal_voltage_v=null"], engine=engine, details=False)
    row = next(line for line in out.splitlines() if line.startswith("NMC811 "))
    assert f"{r['cell']['energy_density_kwh_per_kg']:.3f}" in row.split() and "0.280" in row.split()


@pytest.mark.parametrize("n, ok", [("100", False), ("3", False), ("0", True), ("1", True), ("128", True)])
def test_sobol_n_must_be_a_power_of_two(n, ok, capsys):
    """``report --help`` says the Sobol base sample is a power of 2; anything else is refused, not run."""
    from lca_battery.cli import _power_of_two_or_zero
    if ok:
        assert _power_of_two_or_zero(n) == int(n)
        return
    with pytest.raises(SystemExit) as e:
        main(["report", str(EXAMPLE), "--out", "unused", "--sobol-n", n])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "power of 2" in err, err


def test_terminal_names_cut_at_a_word_boundary():
    """Names too long for a terminal column end with an ellipsis after a whole word, within the width."""
    from lca_battery.cli import _cut
    name = "nickel in nickel pig iron, rotary kiln - electric furnace smelting of laterite"
    got = _cut(name, 40)
    assert len(got) <= 40 and got.endswith("\u2026")
    assert name.startswith(got[:-1]) and name[len(got) - 1] in " ,-"     # the cut falls before a separator
    assert _cut("cell plant", 40) == "cell plant"


def test_compare_curves_minimum_labels_stand_at_the_foot_of_every_panel(monkeypatch):
    # the panels share their y axis: the Co panel's own range (97.6-100) is narrower than the shared one
    # (71-100), so a label placed at the Co panel's own foot ended up at the top, over the curves
    charts, figs = _capture(monkeypatch)
    rows = [{"metal": m, "accounting": "cut_off", "recycled_content": x, "kg_co2e_per_kwh": 100 - k * x}
            for m, k in (("Co", 2.4), ("Ni", 28.8), ("Li", 8.0)) for x in (0, 0.5, 1.0)]
    charts.plot_curves(rows, None, "t")
    (fig,) = figs
    fig.canvas.draw()
    for ax in fig.axes:
        box = ax.get_window_extent()
        assert len(ax.texts) == 2
        for t in ax.texts:
            foot = t.get_window_extent().y0
            assert box.y0 <= foot < box.y0 + 0.1 * box.height, (ax.get_title(), t.get_text())


def test_report_numbers_show_no_negative_zero():
    # round-off residues of processes outside the cell's chain (e.g. -1e-17) printed as '-0.000' in report.html
    from lca_battery.report.study_report import fmt_num, fmt_pct
    assert fmt_num(-1e-17, 3) == "0.000" and fmt_num(-0.0) == "0.00" and fmt_pct(-1e-19, 3) == "0.000 %"
    assert fmt_num(-0.0004, 3) == "0.000" and fmt_num(-0.0006, 3) == "-0.001" and fmt_num(-1234.5, 1) == "-1,234.5"
    assert fmt_pct(-0.05) == "-5.0 %" and fmt_num(None) == "-" and fmt_num(12.345) == "12.35"


def test_economic_recycling_allocation_on_a_route_without_prices_says_why(tmp_path, capsys, engine):
    # the README offers `allocation.recycling: economic (routes with prices)`; on the hydrometallurgical NMC route
    # (no public MnSO4 price) it was refused as an "unknown alternative"
    code = main(["footprint", str(EXAMPLE), "--set", "allocation.recycling=economic", "--set",
                 "recycling.scrap_rate=0.05", "--no-write"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert "field 'allocation.recycling': basis 'economic' is not available for the recycling route" in err, err
    assert "recycling_hydro_nmc" in err and "public price" in err and "(allowed: mass, system_expansion)" in err
    code = main(["footprint", str(EXAMPLE), "--set", "allocation.recycling=econ", "--set",
                 "recycling.scrap_rate=0.05", "--no-write"])
    assert code == 2 and "unknown alternative 'econ'" in capsys.readouterr().err


def test_check_inventories_on_a_missing_folder_names_it(tmp_path, capsys):
    # was "sources.yaml: cannot be read (No such file or directory)", without the folder's path
    missing = tmp_path / "no-such-inventories"
    assert main(["check-inventories", "--inventories", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"{missing}: inventory folder not found" in err and "Traceback" not in err, err
    (tmp_path / "f.yaml").write_text("x: 1\n")
    assert main(["check-inventories", "--inventories", str(tmp_path / "f.yaml")]) == 2
    assert "f.yaml: not a folder" in capsys.readouterr().err
