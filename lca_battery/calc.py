"""The calculation engine: bw2calc's sparse LCA over the lca_battery databases.

A study is applied as a bw_processing datapackage of overrides (``sum_inter_duplicates=False``:
its values replace the databases' defaults on the same matrix entries). Loops (scrap and
end-of-life material returning to cathode production) are ordinary off-diagonal entries of the
technosphere matrix and are solved exactly by the one sparse solve; nothing iterates by hand.
"""
from __future__ import annotations

import warnings
from functools import cached_property
from dataclasses import dataclass, field

import numpy as np

from .bw.build import ensure_project
from .bw.project import GAS_PARTS, METHODS, bd
from .model.superstructure import ROOT, Entry, all_processes, bio_key

warnings.filterwarnings("ignore", category=UserWarning, module="bw2calc")


#: Relative size below which a solved supply or score is round-off, not a use (:meth:`Solved.used`).
ROUNDOFF = 1e-12


@dataclass
class Solved:
    """One solved system: supply, per-process characterized scores, and the means to re-solve."""
    lca: object
    supply: np.ndarray                      # by matrix column
    scores: np.ndarray                      # characterized (total method) per column
    gas_scores: dict[str, np.ndarray]       # fossil / biogenic / land_use_change per column
    cf: dict[str, np.ndarray] = field(default_factory=dict)   # characterization vectors by part
    stage_overrides: dict[str, str] = field(default_factory=dict)   # process-id pattern -> stage (study)
    solver: str = "bw2calc (Brightway project, sparse LU)"            # which solver produced it

    @property
    def total(self) -> float:
        return float(self.scores.sum())

    def used(self, col: int) -> bool:
        """Whether the system uses process ``col``: a supply above round-off. The sparse LU leaves 1e-15-size
        supplies where exact arithmetic gives 0 (through the cells a study sets to zero, e.g. another chemistry's
        cathode plant); those are not uses, so no table lists them (the NCA cathode's site was listed in the
        electricity table of an NMC811 study with 3.6e-15 kWh, and its datasets as used)."""
        return abs(float(self.supply[col])) > ROUNDOFF * self._supply_scale

    def negligible(self, score: float) -> bool:
        """A score of round-off size against the system's (its absolute scores summed)."""
        return abs(score) <= ROUNDOFF * self._score_scale

    @cached_property
    def _score_scale(self) -> float:
        return float(np.abs(self.scores).sum())

    @cached_property
    def _supply_scale(self) -> float:
        return float(np.abs(self.supply).max()) if len(self.supply) else 0.0


class Engine:
    """Holds the inventory, the Brightway project and the base datapackages of one run.

    Parameters
    ----------
    inventory : Inventory, optional
        Loaded inventories; default: :func:`~lca_battery.inventory.loader.load_inventory`.
    progress : callable, optional
        Called with a message for each slow set-up step (the CLI prints them).
    """

    def __init__(self, inventory=None, progress=None, background=None):
        from .bw.writer import node_ids
        from .inventory.loader import load_inventory
        self.inventory = inventory if inventory is not None else load_inventory()
        #: a :class:`~lca_battery.background.Background` (licensed database) or None (the open background)
        self.background = background
        self.links = dict(background.links) if background is not None else {}
        self.build = ensure_project(self.inventory, progress, background)
        self.project = self.build["project"]
        self.databases = list(self.build["databases"])
        self.ids = node_ids(self.databases)
        self.codes = {v: k for k, v in self.ids.items()}
        self.processes = all_processes(self.inventory)
        self._base: dict[str, list] = {}
        self._cf_cache: dict[tuple, list] = {}

    def activate(self) -> None:
        """bw2data has one current project per process: make it this engine's before any read."""
        b = bd()
        if b.projects.current != self.project:
            b.projects.set_current(self.project)

    # ------------------------------------------------------------ datapackages
    def base_packages(self, family: str) -> list:
        if family not in self._base:
            from .bw.matrices import inventory_datapackage, method_datapackage
            self.activate()
            if "inventory" not in self._base:
                self._base["inventory"] = [inventory_datapackage(self.databases)]
            self._base[family] = [*self._base["inventory"], method_datapackage(METHODS[family]["total"])]
        return self._base[family]

    @property
    def biosphere_map(self) -> dict[str, int]:
        """``name::category::sub-category`` -> node id of every biosphere flow (read from the project once)."""
        if not hasattr(self, "_bio"):
            from .bw.project import biosphere_index
            self.activate()
            self._bio = {bio_key(flow): nid for flow, (_, _, nid) in biosphere_index(True).items()}
        return self._bio

    def bio_id(self, key: str) -> int:
        """Node id of a biosphere flow given as ``name::category::sub-category``."""
        return self.biosphere_map[key]

    def biosphere_names(self, solved) -> dict[int, str]:
        """Biosphere row of the solved system -> ``name::category::sub-category`` of its flow."""
        rows = solved.lca.dicts.biosphere
        return {rows[nid]: key for key, nid in self.biosphere_map.items() if nid in rows}

    def check_linked(self, entries: list[Entry]) -> None:
        """A linked node holds its licensed activity's inventory: a study cannot edit its inputs."""
        linked = sorted({e.output for e in entries if e.output in self.links})
        if linked:
            from .errors import StudyError
            raise StudyError(f"the study changes inputs of background processes linked to "
                             f"'{self.background.database}': {', '.join(linked)}", field="background")

    def override_package(self, entries: list[Entry]):
        """A datapackage replacing the amounts the study sets (technosphere inputs are flipped)."""
        import bw_processing as bwp
        self.check_linked(entries)
        dp = bwp.create_datapackage(sequential=True, sum_inter_duplicates=False)
        for matrix, flip in (("technosphere", True), ("biosphere", False)):
            sel = [e for e in entries if e.matrix == matrix]
            if not sel:
                continue
            rows = [self.ids[e.input] if matrix == "technosphere" else self.bio_id(e.input) for e in sel]
            idx = np.array([(r, self.ids[e.output]) for r, e in zip(rows, sel)], dtype=bwp.INDICES_DTYPE)
            dp.add_persistent_vector(matrix=f"{matrix}_matrix", name=f"study-{matrix}", indices_array=idx,
                                     data_array=np.array([e.amount for e in sel], dtype=float),
                                     flip_array=np.full(len(sel), flip, dtype=bool))
        return dp

    # ------------------------------------------------------------ solving
    def characterization(self, lca, family: str, part: str) -> np.ndarray:
        """CF vector over the biosphere rows of ``lca`` for one method part."""
        key = (family, part)
        if key not in self._cf_cache:
            self.activate()
            b = bd()
            pairs = []
            for flow, cf in b.Method(METHODS[family][part]).load():
                fid = flow if isinstance(flow, int) else b.get_id(tuple(flow))
                pairs.append((fid, float(cf)))
            self._cf_cache[key] = pairs
        vec = np.zeros(len(lca.dicts.biosphere))
        for fid, cf in self._cf_cache[key]:
            row = lca.dicts.biosphere.get(fid)
            if row is not None:
                vec[row] += cf
        return vec

    def solve(self, entries: list[Entry], family: str = "ipcc2021", demand: dict | None = None) -> Solved:
        import bw2calc as bc
        demand = demand or {ROOT: 1.0}
        lca = bc.LCA({self.ids[k]: v for k, v in demand.items()},
                     data_objs=[*self.base_packages(family), self.override_package(entries)])
        lca.lci(factorize=True)
        lca.lcia()
        cf = {part: self.characterization(lca, family, part) for part in ("total", *GAS_PARTS)}
        inv = lca.inventory
        scores = np.asarray(cf["total"] @ inv).ravel()
        gas = {part: np.asarray(cf[part] @ inv).ravel() for part in GAS_PARTS}
        # the engine's own characterization must reproduce bw2calc's score exactly
        if not np.isclose(scores.sum(), lca.score, rtol=1e-9, atol=1e-12):
            raise RuntimeError(f"characterization mismatch: {scores.sum()} vs bw2calc {lca.score}")
        return Solved(lca=lca, supply=np.asarray(lca.supply_array).copy(), scores=scores,
                      gas_scores=gas, cf=cf)

    def monte_carlo(self, entries: list[Entry], family: str = "ipcc2021", samples: int = 200, seed: int = 42,
                    progress=None) -> np.ndarray:
        """Scores of ``samples`` Monte Carlo iterations (see :mod:`lca_battery.analysis.uncertainty`)."""
        import bw2calc as bc
        from .analysis.uncertainty import sigma
        from .bw.matrices import inventory_datapackage
        self.activate()
        sig = {pid: sigma(p.dqr) for pid, p in self.processes.items()}
        dp = inventory_datapackage(self.databases, sigma_of=lambda code: sig.get(code, 0.0))
        method = self.base_packages(family)[-1]
        lca = bc.LCA({self.ids[ROOT]: 1.0}, data_objs=[dp, method, self.override_package(entries)],
                     use_distributions=True, seed_override=seed)
        lca.lci()
        lca.lcia()
        out = np.empty(samples)
        for i in range(samples):
            if i:
                next(lca)
            out[i] = lca.score
            if progress:
                progress(i + 1, samples)
        return out

    def resolve(self, solved: Solved, demand: dict[str, float]) -> tuple[np.ndarray, float]:
        """Supply and total score for another demand on the same (factorized) matrix."""
        lca = solved.lca
        arr = np.zeros(len(lca.dicts.product))
        for pid, amount in demand.items():
            arr[lca.dicts.product[self.ids[pid]]] += amount
        supply = lca.solve_linear_system(arr)
        score = float(solved.cf["total"] @ (lca.biosphere_matrix @ supply))
        return supply, score

    def column(self, solved: Solved, pid: str) -> int:
        return solved.lca.dicts.activity[self.ids[pid]]
