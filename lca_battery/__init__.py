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


def __getattr__(name: str):
    # load_study on first use: importing the package (as the CLI does before it forks its chart worker,
    # lca_battery.report.workers) stays cheap; ``from lca_battery import load_study`` works as before
    if name == "load_study":
        from .study import load_study
        return load_study
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def footprint(*args, **kwargs):
    """See :func:`lca_battery.api.footprint`."""
    from .api import footprint as _footprint
    return _footprint(*args, **kwargs)


def compare(*args, **kwargs):
    """See :func:`lca_battery.api.compare`."""
    from .api import compare as _compare
    return _compare(*args, **kwargs)


def sweep(*args, **kwargs):
    """See :func:`lca_battery.api.sweep`."""
    from .api import sweep as _sweep
    return _sweep(*args, **kwargs)


def uncertainty(*args, **kwargs):
    """See :func:`lca_battery.api.uncertainty`."""
    from .api import uncertainty as _uncertainty
    return _uncertainty(*args, **kwargs)


__all__ = ["footprint", "compare", "sweep", "uncertainty", "load_study", "LcaBatteryError", "StudyError", "InventoryError", "UnitError",
           "__version__"]
