"""One pint unit registry for the whole program.

Inventory amounts are converted to the unit of the process they refer to; a unit that pint does
not know, or one of another dimension, is an error naming both units, never a guess.
"""
from __future__ import annotations

from functools import lru_cache

import pint

from .errors import UnitError

ureg = pint.UnitRegistry()
# Units of LCA practice that pint lacks or spells otherwise.
ureg.define("tkm = tonne * kilometer")
ureg.define("unit = [item]")  # a counted item (a cell, a factory)
ureg.define("item = unit")
ureg.define("kgkm = kilogram * kilometer")
ureg.define("m3 = meter ** 3")
ureg.define("Nm3 = meter ** 3")  # normal cubic metre of gas, volume at 0 degC, 1 atm

#: Brightway/ecoinvent unit names for the units we write to processes.
BRIGHTWAY_UNIT_NAMES = {
    "kg": "kilogram", "kWh": "kilowatt hour", "MJ": "megajoule", "m3": "cubic meter",
    "tkm": "ton kilometer", "unit": "unit", "l": "litre", "t": "ton",
}


@lru_cache(maxsize=None)
def parse(unit: str) -> pint.Unit:
    """Parse a unit string; raise :class:`UnitError` on anything pint does not know."""
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(f"missing unit (got {unit!r})")
    try:
        return ureg.Unit(unit.strip())
    except (pint.errors.UndefinedUnitError, AttributeError, ValueError, TypeError) as exc:
        raise UnitError(f"unknown unit {unit!r}") from exc


@lru_cache(maxsize=None)
def factor(from_unit: str, to_unit: str) -> float:
    """Multiplier converting an amount in ``from_unit`` to ``to_unit``.

    Raises :class:`UnitError` if the dimensions differ (e.g. ``kWh`` into ``kg``).
    """
    a, b = parse(from_unit), parse(to_unit)
    try:
        return float(ureg.Quantity(1.0, a).to(b).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(
            f"unit {from_unit!r} ({a.dimensionality}) cannot be converted to "
            f"{to_unit!r} ({b.dimensionality})") from exc
