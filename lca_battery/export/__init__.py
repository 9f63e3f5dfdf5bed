"""Exports of studies to the tools LCA practitioners already use (issue 10, points 3 and 4).

* :mod:`.scenarios`: the studies to export (study files, ``--set`` overrides, ``--grid`` sweeps),
  each resolved to its matrix entries (:func:`~lca_battery.model.entries.study_mapping`);
* :mod:`.ab`: an Activity Browser scenario difference file (one column per study);
* :mod:`.olca`: an openLCA JSON-LD zip (olca-schema) with the study as a product system;
* :mod:`.bwexcel`: bw2io's Excel exporter, one workbook per lca_battery database.
"""
from __future__ import annotations

FORMATS = ("ab-scenarios", "olca", "bw-excel")
