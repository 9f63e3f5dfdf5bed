"""lca_battery: cradle-to-gate carbon footprints of Li-ion battery cells on Brightway 2.5.

Public API::

    from lca_battery import footprint, load_study
    result = footprint("examples/nmc811-cn.yaml", ["plant.country=SE"])

Set ``BRIGHTWAY2_DIR`` before importing if the Brightway data folder should not be the default.
"""
import warnings as _warnings

__version__ = "0.1.0"

_warnings.filterwarnings("ignore", category=UserWarning, module="bw2calc")

from .errors import InventoryError, LcaBatteryError, StudyError, UnitError  # noqa: E402


#: The public functions, from :mod:`lca_battery.api` (and ``load_study`` from :mod:`lca_battery.study`), loaded on
#: first use: importing the package (as the CLI does before it forks its chart worker, lca_battery.report.workers)
#: stays cheap, and ``help(lca_battery.footprint)`` shows the function itself, its parameters and documentation.
_LAZY = {"footprint": "api", "compare": "api", "sweep": "api", "sweep_frame": "api", "uncertainty": "api",
         "sensitivity": "api", "report": "api", "pact": "api", "get_engine": "api", "load_study": "study"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY})


__all__ = [*_LAZY, "LcaBatteryError", "StudyError", "InventoryError", "UnitError", "__version__"]
