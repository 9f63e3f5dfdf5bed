"""One pint unit registry for the whole program.

Inventory amounts are converted to the unit of the process they refer to; a unit that pint does
not know, or one of another dimension, is an error naming both units, never a guess.
"""
from __future__ import annotations

import math
import re
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


#: What a unit string may hold: unit names (letters, digits, _), spaces, the operators * / ^ ** ( ) and a sign or
#: decimal point of an exponent.
#: pint's parser reads more (a ``#`` starts a comment it drops, ``kg,`` or ``kg=1`` parse as ``kg``): such a
#: string is refused here, not read as a guess.
UNIT_CHARACTERS = re.compile(r"^[A-Za-z0-9_ .*/^()\-]+$")


@lru_cache(maxsize=None)
def parse(unit: str) -> pint.Unit:
    """Parse a unit string; raise :class:`UnitError` on anything pint does not know or cannot parse
    (``kWh/``, ``(kWh``, ``kWh/0``, ``kg#t``)."""
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(f"missing unit (got {unit!r})")
    if not UNIT_CHARACTERS.match(unit.strip()):
        raise UnitError(f"unknown unit {unit!r} (a unit holds names, numbers, spaces and * / ^ ( ) only)")
    try:
        u = ureg.Unit(unit.strip())
    except Exception as exc:            # noqa: BLE001 - pint's parser raises many kinds on malformed text
        raise UnitError(f"unknown unit {unit!r}") from exc
    try:                                # a unit that is a number times a unit ('kWh/0' is 'kWh * inf')
        ok = math.isfinite(float(ureg.Quantity(1.0, u).to_base_units().magnitude))
    except Exception:                   # noqa: BLE001
        ok = False
    if not ok:
        raise UnitError(f"unknown unit {unit!r}")
    return u


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
