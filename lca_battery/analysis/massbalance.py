"""Metal mass balances through the cathode chain and the recycling loops.

System boundary: the cathode chain from the battery-grade salts to the cell (supply switches,
pCAM, CAM, electrodes, cell, scrap treatment and recovered salts). For each metal:

    entering (virgin salts + recycled salts from outside)
        = in the product (cells)  +  losses (each process: metal in - metal out, >= 0)

A recycled salt converted into the salt of the supply mix (a route's Li2CO3 causticised to LiOH·H2O) enters
before its conversion, whose loss counts like any other.

Amounts are the solved supplies and the technosphere matrix as solved (study overrides
included), so the balance closes through the loops or the bookkeeping is wrong; a process
whose outputs hold more metal than its inputs is reported (``created``), never hidden.
"""
from __future__ import annotations

import scipy.sparse as sp

from ..model.recycling import CONVERSIONS

#: the chain's processes: the conversions of recycled salts into the salt of a supply mix too (their losses count)
CHAIN_PREFIXES = ("supply__", "pcam_", "cam_", "cathode_", "cell_", "scrap_treatment__", "scrap_recovered__",
                  "product_system", *(f"{conv}__" for conv in CONVERSIONS.values()))


def in_chain(pid: str) -> bool:
    return pid.startswith(CHAIN_PREFIXES)


def metal_balance(engine, solved, metal: str, cell_content: dict[str, float] | None = None,
                  boundary: set[str] = frozenset()) -> dict:
    """``boundary``: processes replaced by supplier data; their product's metal enters the balance."""
    from ..model.cell import element_content
    from ..model.superstructure import all_processes
    procs = all_processes(engine.inventory)
    lca = solved.lca
    A = sp.csc_matrix(lca.technosphere_matrix)
    rev = {v: k for k, v in lca.dicts.product.items()}
    cols = {engine.codes[nid]: c for nid, c in lca.dicts.activity.items()}

    memo: dict = {}

    def content(pid: str) -> float:
        if pid.startswith("cell_") and cell_content is not None:
            return cell_content.get(metal, 0.0)
        return element_content(pid, procs, None, memo).get(metal, 0.0)   # declared, else summed from its inputs

    entering, product, losses, created = {}, 0.0, {}, {}
    for pid, col in cols.items():
        if not in_chain(pid):
            continue
        s = solved.supply[col]
        if not solved.used(col):
            continue
        if pid.startswith("scrap_recovered__"):
            # element routing: a recovered salt takes its metal from the scrap treatment (counted there)
            continue
        if pid in boundary:
            # supplier data replace this material's chain: its metal enters here
            entering[pid] = entering.get(pid, 0.0) + s * content(pid)
            continue
        column = A[:, col].tocoo()
        metal_in = 0.0
        for row, value in zip(column.row, column.data):
            if row == col:
                continue
            src = engine.codes[rev[row]]
            kg = -value * s                      # inputs are negative in the matrix
            m = kg * content(src)
            if not m:
                continue
            metal_in += m
            if not in_chain(src):
                entering[src] = entering.get(src, 0.0) + m
        if pid == "product_system":
            product = metal_in
            continue
        if pid.startswith("scrap_treatment__"):
            # passes on what the route recovers; the rest is the route's loss
            cathode = procs[pid].exchanges[0].target
            out = s * content(cathode) * procs[pid].extra["recovery"].get(metal, 0.0)
            recovered = sum(solved.supply[cols[r]] * content(r) for r in cols
                            if r.startswith("scrap_recovered__" + metal + "__") and r.endswith(pid[len("scrap_treatment"):]))
            # metal recovered but not taken up by pCAM, or taken up but never recovered, breaks the balance
            if abs(recovered - out) > 1e-9 * max(abs(out), 1e-12):
                created[pid + " (recovered salt not matching recovery)"] = recovered - out
        else:
            out = s * A[col, col] * content(pid)
        loss = metal_in - out
        if loss < -(1e-9 * abs(out) + 1e-15):
            created[pid] = -loss
        elif loss > 0:
            losses[pid] = loss
    total_in = sum(entering.values())
    total_out = product + sum(losses.values()) - sum(created.values())
    return {"metal": metal, "entering": entering, "entering_total": total_in, "in_product": product,
            "losses": losses, "losses_total": sum(losses.values()), "created": created,
            "residual": total_in - total_out,
            "relative_residual": (total_in - total_out) / total_in if total_in else 0.0}


def balances(engine, solved, cell_content, metals=("Co", "Ni", "Mn", "Li"), boundary=frozenset()) -> dict[str, dict]:
    return {m: metal_balance(engine, solved, m, cell_content, boundary) for m in metals}
