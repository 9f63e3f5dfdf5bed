"""Charts of a footprint: life-cycle stages and the largest processes (PNG and SVG)."""
from __future__ import annotations

from pathlib import Path


def footprint_chart(result: dict, path_stem: str | Path) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 2.2]})
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
    ax2.set_yticks(range(len(top)), [f"{t['name'][:48]}, {t['location']}" for t in top], fontsize=7)
    ax2.set_xlabel("kg CO2e per kWh")
    ax2.set_title("largest processes (cradle-to-gate contributions)", fontsize=9)
    fig.suptitle(f"{result['chemistry']} cell made in {result['plant_country']} - {result['label']} - "
                 f"{result['method']['family']}", fontsize=9)
    fig.tight_layout()
    out = []
    for ext in ("png", "svg"):
        p = f"{path_stem}.{ext}"
        fig.savefig(p, dpi=150)
        out.append(p)
    plt.close(fig)
    return out
