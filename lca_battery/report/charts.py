"""Charts (PNG for people, SVG for reports): footprint, recycled-content curves, Monte Carlo."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _settings() -> None:
    import matplotlib
    matplotlib.rcParams["svg.hashsalt"] = "lca_battery"      # stable ids in SVG files
    matplotlib.rcParams["svg.fonttype"] = "none"             # text stays text in SVG (searchable, selectable)


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")          # no screen needed
    import matplotlib.pyplot as plt
    _settings()
    return plt


def _figure(**kwargs):
    """A figure on the Agg canvas without pyplot (whose import costs more than the figure's): the same
    bytes as ``pyplot.figure(**kwargs)`` gives, checked by the tests."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    _settings()
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _close(fig) -> None:
    if getattr(fig.canvas, "manager", None) is not None:     # a pyplot figure: release it
        _pyplot().close(fig)


def lay_out(fig) -> None:
    """``fig.tight_layout()`` without the placeholder layout engine it leaves on the figure, which makes every
    ``savefig`` draw the whole figure once more before drawing it into the file (same bytes, the PNG and SVG
    each one draw faster)."""
    from matplotlib.layout_engine import TightLayoutEngine
    TightLayoutEngine().execute(fig)


def _label(text: str, width: int = 48) -> str:
    """A long name on at most two lines, broken and shortened at word boundaries (never mid-word)."""
    import textwrap
    lines = textwrap.wrap(text, width, break_long_words=False)
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder=" ...")]
    return "\n".join(lines)


def svg_text(fig) -> str:
    """``fig`` as an SVG element to inline in HTML (no XML prolog, no date), closed after."""
    import io
    buf = io.StringIO()
    lay_out(fig)
    fig.savefig(buf, format="svg", metadata={"Date": None})
    _close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def save_figure(fig, path_stem: str | Path | None) -> list[str] | str:
    """Write ``fig`` as PNG and SVG next to each other, close it, return the paths; with
    ``path_stem`` None, return the SVG text instead (for inlining in a report)."""
    if path_stem is None:
        return svg_text(fig)
    lay_out(fig)
    out = [save_as(fig, path_stem, ext) for ext in ("png", "svg")]
    _close(fig)
    return out


def save_as(fig, path_stem: str | Path, ext: str) -> str:
    """``fig`` (laid out) as ``<path_stem>.<ext>``, png or svg."""
    p = f"{path_stem}.{ext}"
    # no creation date in the files, so that a re-run writes the same bytes (manifest hashes)
    fig.savefig(p, dpi=150, metadata={"Date": None} if ext == "svg" else {"Software": None})
    return p


FOOTPRINT_CHART_KEYS = ("stages", "kg_co2e_per_kwh", "top_processes", "chemistry", "plant_country", "label")


def footprint_chart_input(result: dict) -> dict:
    """The part of a footprint result that :func:`footprint_chart` reads (what the chart worker is sent)."""
    return {**{k: result[k] for k in FOOTPRINT_CHART_KEYS}, "top_processes": result["top_processes"][:10],
            "method": {"family": result["method"]["family"]}}


def footprint_chart(result: dict, path_stem: str | Path | None) -> list[str] | str:
    return save_figure(footprint_figure(result), path_stem)


def footprint_figure(result: dict):
    """The footprint chart's figure (not laid out, not saved): stages and the largest processes."""
    fig = _figure(figsize=(11, 4.2))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2.2]})
    stages = result["stages"]
    names = [k.replace("_", " ") for k in stages]
    vals = list(stages.values())
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b2"][: len(vals)]
    ax1.bar(range(len(vals)), vals, color=colors)
    ax1.set_xticks(range(len(vals)), names, rotation=30, ha="right", fontsize=8)
    ax1.axhline(0, color="black", lw=0.6)
    ax1.set_ylabel("kg CO2e per kWh")
    ax1.set_title(f"{result['kg_co2e_per_kwh']:.1f} kg CO2e/kWh by stage", fontsize=9)
    top = result["top_processes"][:10][::-1]
    ax2.barh(range(len(top)), [t["kg_co2e_per_kwh"] for t in top], color="#4c72b0")
    ax2.set_yticks(range(len(top)), [_label(f"{t['name']}, {t['location']}"
                                              + (f" (supplier: {t['supplier_source']})" if t.get("supplier_source")
                                                 else "")) for t in top], fontsize=7)
    ax2.set_xlabel("kg CO2e per kWh")
    ax2.set_title("largest processes (cradle-to-gate contributions)", fontsize=9)
    fig.suptitle(f"{result['chemistry']} cell made in {result['plant_country']} - {result['label']} - "
                 f"{result['method']['family']}", fontsize=9)
    return fig


def plot_curves(rows: list[dict], path_stem, title: str) -> list[str]:
    """Line plot per metal, one line per accounting rule, EU minimum recycled content marked."""
    from ..model.recycling import ACCOUNTING, EU_MINIMUM_RECYCLED_CONTENT
    plt = _pyplot()
    metals = sorted({r["metal"] for r in rows}, key=["Co", "Ni", "Li", "Mn"].index)
    fig, axes = plt.subplots(1, len(metals), figsize=(4.2 * len(metals), 3.8), sharey=True)
    axes = np.atleast_1d(axes)
    styles = {"cut_off": "-", "avoided_burden": "--", "cff": "-."}
    for ax, metal in zip(axes, metals):
        for acc in ACCOUNTING:
            pts = [(r["recycled_content"], r["kg_co2e_per_kwh"]) for r in rows
                   if r["metal"] == metal and r["accounting"] == acc]
            if pts:
                x, y = zip(*pts)
                ax.plot(np.array(x) * 100, y, styles[acc], label=acc.replace("_", " "))
        for year, mins in EU_MINIMUM_RECYCLED_CONTENT.items():
            if metal in mins:
                ax.axvline(mins[metal] * 100, color="grey", lw=0.8, ls=":")
                # at the foot of the panel in axes coordinates: the shared y range is only known once every
                # panel is drawn, so a data-coordinate foot (this panel's own ylim) can end up at the top
                ax.text(mins[metal] * 100, 0.02, f" EU {year} min.", rotation=90, va="bottom",
                        ha="right", fontsize=7, color="grey", transform=ax.get_xaxis_transform())
        ax.set_title(f"recycled {metal}")
        ax.set_xlabel(f"recycled content of {metal} (%)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("kg CO2e per kWh (cell)")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path_stem)


def histogram(result: dict, path_stem: str | Path | None) -> list[str] | str:
    """Monte Carlo samples with the deterministic value, the median and the 95 % interval."""
    plt = _pyplot()
    s = result["kg_co2e_per_kwh"]
    fig, ax = plt.subplots(figsize=(6, 3.9))
    counts, _, _ = ax.hist(result["samples"], bins=40, color="#4c72b0", alpha=0.8)
    ax.set_ylim(0, max(counts.max(), 1) * 1.08)
    ax.yaxis.get_major_locator().set_params(integer=True)     # counts of samples
    # the lines are named in a legend below the axes, not by labels at the lines, which overlap where
    # the deterministic value and the median are close
    ax.axvline(s["deterministic"], color="black", ls="-", lw=1, label=f"deterministic {s['deterministic']:.2f}")
    ax.axvline(s["median"], color="#c44e52", ls="--", lw=1.2, label=f"median {s['median']:.2f}")
    ax.axvline(s["p2_5"], color="black", ls=":", lw=1,
               label=f"95 % interval {s['p2_5']:.2f} to {s['p97_5']:.2f}")
    ax.axvline(s["p97_5"], color="black", ls=":", lw=1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=3, fontsize=7, frameon=False,
              handlelength=2.2, columnspacing=1.2)
    ax.set_xlabel("kg CO2e per kWh")
    ax.set_ylabel("samples")
    ax.set_title(f"{result['study']}: {s['n']} Monte Carlo samples (seed {result['seed']})", fontsize=9)
    return save_figure(fig, path_stem)


def tornado(oat: dict, path_stem: str | Path | None = None, title: str = ""):
    """One bar per one-at-a-time row, from its low to its high result, around the base."""
    plt = _pyplot()
    rows = oat["rows"][::-1]
    base = oat["base"]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.4))
    for i, r in enumerate(rows):
        ends = [(r["low"], r["low_label"], "#55a868"), (r["high"], r["high_label"], "#c44e52")]
        same_side = (r["low"] - base) * (r["high"] - base) >= 0
        if same_side:
            # both ends on one side of the base: the farther bar first and full height, the nearer one
            # on top and thinner, so that both colours show; both labels beyond the farther end, stacked
            ends.sort(key=lambda e: -abs(e[0] - base))
        for k, (x, _, colour) in enumerate(ends):
            ax.barh(i, x - base, left=base, color=colour, height=0.3 if same_side and k else 0.6)
        for k, (x, label, _) in enumerate(ends):
            below = (x < base) if not same_side else (ends[0][0] < base)
            at = ends[0][0] if same_side else x
            text = f"{label}: {x:.1f}" if same_side else label
            dy = (0.17 if k == 0 else -0.17) if same_side else 0.0
            ax.text(at, i + dy, f"{text} " if below else f" {text}", ha="right" if below else "left",
                    va="center", fontsize=7)
    ax.axvline(base, color="black", lw=0.8)
    ax.set_yticks(range(len(rows)), [_label(r["parameter"], 40) for r in rows], fontsize=8)
    lo = min([base] + [min(r["low"], r["high"]) for r in rows])
    hi = max([base] + [max(r["low"], r["high"]) for r in rows])
    pad = (hi - lo) * 0.35 or 1.0
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel("kg CO2e per kWh (green: the low setting of each range, red: the high setting; the table names them)")
    ax.set_title(title or f"one-at-a-time sensitivity around {base:.2f} kg CO2e/kWh", fontsize=9)
    return save_figure(fig, path_stem)


def sobol_chart(sob: dict, path_stem: str | Path | None = None):
    """First-order and total Sobol indices with their 95 % confidence halves."""
    plt = _pyplot()
    rows = sob["rows"][::-1]
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.4))
    ax.barh(y + 0.18, [r["ST"] for r in rows], 0.36, xerr=[r["ST_conf"] for r in rows], color="#4c72b0",
            label="total (ST)")
    ax.barh(y - 0.18, [r["S1"] for r in rows], 0.36, xerr=[r["S1_conf"] for r in rows], color="#dd8452",
            label="first order (S1)")
    ax.set_yticks(y, [_label(r["parameter"], 40) for r in rows], fontsize=8)
    ax.set_xlabel("Sobol index")
    ax.legend(fontsize=8, loc="lower right")      # the smallest indices are at the bottom
    ax.set_title(f"Sobol indices, N = {sob['n']} ({sob['runs']} runs), seed {sob['seed']}", fontsize=9)
    return save_figure(fig, path_stem)
