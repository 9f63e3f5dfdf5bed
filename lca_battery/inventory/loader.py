"""Read and validate the inventory files.

All problems are collected and raised together as one :class:`InventoryError`, each naming the
file, the process, the exchange and what is wrong, so that a data author fixes them in one pass.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path

import yaml

from ..errors import InventoryError, UnitError
from .records import (COPRODUCT_GRADES, DQR_KEYS, STAGES, Coproduct, Exchange, Inventory, Process, Source)


class _LazyUnits:
    """:mod:`lca_battery.units` on first use (pint's registry takes ~0.4 s to build; a warm footprint
    reads a cached inventory and never converts a unit)."""

    def __getattr__(self, name):
        from .. import units as _units
        return getattr(_units, name)


units = _LazyUnits()

ID_RE = re.compile(r"^[a-z0-9_]+$")
#: composition keys: element symbols; "C" is carbon of fossil or mineral origin (graphite, polymers, solvents) and
#: "C_biogenic" carbon of biogenic origin (e.g. the cellulose in a CMC binder), kept apart as ISO 14067 and the PACT
#: data model report them apart (fossilCarbonContent, biogenicCarbonContent)
ELEMENTS = {"Co", "Ni", "Mn", "Li", "Cu", "Al", "Fe", "P", "C", "C_biogenic", "Na", "Ti", "O", "S", "F", "Mg", "V",
            "N"}

#: process keys kept as they are in ``Process.extra`` (read by the models that need them)
EXTRA_KEYS = (
    "energy_density_kwh_per_kg", "energy_density_source", "recovery", "feed_composition", "feed", "allocation_note",
    "cell_format", "cam_specific_capacity_ah_per_kg", "cam_voltage_v", "cam_capacity_source",
    "anode_np_ratio", "anode_specific_capacity_ah_per_kg", "anode_capacity_source", "anode_np_source",
    "design", "driver", "driver_reference_kwh_per_kg", "driver_source", "allocation",
)
#: ``allocation:`` of a multi-output process (ISO 14044 4.3.4.2): how its burden is shared with the co-products
#: the inventory does not follow, and why that basis (the report's allocation section lists every one a study uses)
ALLOCATION_BASES = ("mass", "economic", "stoichiometric", "none (all to this product)", "source's own")
ALLOCATION_KEYS = {"basis", "co_products", "reason"}
PROCESS_KEYS = {
    "id", "name", "reference_product", "unit", "location", "stage", "reference_year", "source",
    "dqr", "proxy", "comment", "composition", "exchanges", "excluded", "switch", "alternatives",
    "default", "coproducts", *EXTRA_KEYS,
}
#: What a cell-plant step's energy follows (plant_energy.yaml): per kWh of cell (the default), or per kg of cell
#: relative to the source's reference cell (``driver_reference_kwh_per_kg``, with its ``driver_source``)
STEP_DRIVERS = ("cell_energy", "cell_mass")
EXCHANGE_KEYS = {"input", "biosphere", "compartment", "amount", "unit", "source", "comment",
                 "proxy", "aggregated", "substitution", "correction", "feed_carbon"}
COPRODUCT_KEYS = {"id", "name", "amount", "unit", "price", "price_source", "substitutes",
                  "composition", "comment", "source", "grade"}
SOURCE_REQUIRED = ("author", "year", "title", "table", "licence")
SOURCE_KEYS = set(SOURCE_REQUIRED) | {"url", "comment", "doi", "note"}
#: Words that mark a source entry as not yet settled: such an entry cannot carry a number.
UNSETTLED_RE = re.compile(
    r"(?<![\w-])check(?![\w-])|\bunverified\b|\bnot verified\b|\bverify\b|\bunconfirmed\b|"
    r"\bnot confirmed\b|\bto be (?:confirmed|checked|verified)\b|\bto confirm\b|\bnot re-read\b|"
    r"\btodo\b|\bfixme\b|\btbd\b|\btbc\b|\?\?", re.IGNORECASE)
#: A ``table:`` must say where in the source the numbers are: one of these locators.
LOCATOR_RE = re.compile(
    r"\b(?:tables?|tab\.|figures?|figs?\.|sheets?|worksheets?|pages?|pp?\.|sections?|sec\.|chapters?|ch\.|"
    r"abstract|annex(?:es)?|appendix|appendices|supplementary|files?|datasets?|equations?|eq\.)(?!\w)|§",
    re.IGNORECASE)
#: An ``author:`` that names nobody: a placeholder, "not shown", "unknown", "as listed in ...", "n.d.".
ANONYMOUS_AUTHOR_RE = re.compile(
    r"\bnot (?:shown|given|stated|known|named|listed|available|retrievable|found)\b|\bunknown\b|\banonym|"
    r"\bunattributed\b|\bno author|\bauthors? (?:as listed|not|unknown)|\bas listed in\b|\bsee (?:the )?(?:doi|url)\b|"
    r"(?<![\w.])n\.\s?d\.|\bn/a\b|^\W*(?:various|tbd|none|null|-+)\W*$", re.IGNORECASE)
#: First and last year a source may carry (ISO 14067 studies cite published, dated sources).
SOURCE_YEARS = (1800, 2100)
#: Locations that are not ISO 3166 alpha-2 codes.
#: Processes the engine generates (model/superstructure.py) that inventories may consume.
GENERATED_UNITS = {"electricity_cell_plant": "kWh", "heat_cell_plant": "MJ"}
REGIONS = {"GLO", "RER", "EU27", "WORLD", "RoW", "RAS", "RNA", "RLA", "RME", "RAF", "OCE"}


def default_root() -> Path:
    """Where the inventories are: ``$LCA_BATTERY_INVENTORIES``, else the repository's
    ``inventories/`` (source checkout), else the copy shipped inside the wheel."""
    env = os.environ.get("LCA_BATTERY_INVENTORIES")
    if env:
        return Path(env)
    pkg = Path(__file__).resolve().parent.parent
    for candidate in (pkg.parent / "inventories", pkg / "_inventories"):
        if (candidate / "sources.yaml").is_file():
            return candidate
    raise InventoryError([f"no inventories found (looked in {pkg.parent / 'inventories'} and "
                          f"{pkg / '_inventories'}; set LCA_BATTERY_INVENTORIES)"])


def inventory_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if p.name != "sources.yaml")


def content_hash(root: Path) -> str:
    """SHA-256 over every inventory file's relative path and bytes (sorted)."""
    h = hashlib.sha256()
    for path in [root / "sources.yaml", *inventory_files(root)]:
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys (YAML would silently keep the last one), with YAML 1.2's plain
    scalars (the core schema) where YAML 1.1 surprises: only true/false are booleans (``NO``, Norway's country
    code, and yes/no/on/off stay text); a date-like value stays text (the field that wants a date reads it, so
    ``2024-02-30`` is that field's error, not the parser's); an integer is decimal (``060`` is 60, not octal
    48) and ``1:30`` or ``6_0`` are text, not 90 and 60 (the field that wants a number refuses them); ``1e-3``
    is a number."""


_YAML_TAG = "tag:yaml.org,2002:"
UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in tuple(_YAML_TAG + t for t in ("bool", "timestamp", "int", "float"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
UniqueKeyLoader.add_implicit_resolver(_YAML_TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                      list("tTfF"))
UniqueKeyLoader.add_implicit_resolver(_YAML_TAG + "int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
UniqueKeyLoader.add_implicit_resolver(
    _YAML_TAG + "float", re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


def _construct_int(loader, node):
    text = loader.construct_scalar(node)
    try:
        return int(str(text).replace("+", "", 1), 10)
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, f"not a decimal integer: {text!r}",
                                                node.start_mark) from None


def _construct_float(loader, node):
    text = str(loader.construct_scalar(node))
    low = text.lower().replace("+", "", 1)
    if low in (".inf", "-.inf", ".nan"):
        return {".inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}[low]
    try:
        return float(low)
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, f"not a number: {text!r}", node.start_mark) from None


UniqueKeyLoader.add_constructor(_YAML_TAG + "int", _construct_int)
UniqueKeyLoader.add_constructor(_YAML_TAG + "float", _construct_float)


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise yaml.constructor.ConstructorError(None, None, "merge keys (<<: *name) are not supported: write "
                                                    "the keys out (an alias *name as a whole value is)",
                                                    key_node.start_mark)
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, (list, dict, set)):
            raise yaml.constructor.ConstructorError(None, None, "a key must be text or a number, not a list or a "
                                                    "mapping", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


#: Limits on a YAML file, checked before anything is expanded: its size, the aliases (``*name``) it
#: uses and the number of nodes once the aliases are expanded (a "billion laughs" file has few
#: bytes and aliases but expands to gigabytes). The shipped inventories use no aliases.
MAX_YAML_BYTES = 4_000_000
MAX_YAML_ALIASES = 100
MAX_YAML_EXPANDED_NODES = 200_000


class YamlLimitError(yaml.YAMLError):
    """A YAML file over one of the limits (``problem`` says which)."""

    def __init__(self, problem: str, mark=None):
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class LimitedLoader(UniqueKeyLoader):
    """:class:`UniqueKeyLoader` refusing alias bombs: at most :data:`MAX_YAML_ALIASES` aliases and
    :data:`MAX_YAML_EXPANDED_NODES` nodes after expansion, counted on the node graph (not expanded)."""

    _aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise YamlLimitError(f"more than {MAX_YAML_ALIASES} aliases (*name): refused",
                                     self.peek_event().start_mark)
        return super().compose_node(parent, index)

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None and self._aliases:
            memo: dict[int, int] = {}

            def size(n) -> int:
                key = id(n)
                if key not in memo:
                    memo[key] = 1        # a recursive alias counts once
                    if isinstance(n, yaml.MappingNode):
                        memo[key] = 1 + sum(size(k) + size(v) for k, v in n.value)
                    elif isinstance(n, yaml.SequenceNode):
                        memo[key] = 1 + sum(size(v) for v in n.value)
                    if memo[key] > MAX_YAML_EXPANDED_NODES:
                        raise YamlLimitError(f"its aliases expand to more than {MAX_YAML_EXPANDED_NODES:,} "
                                             f"nodes (an alias bomb?): refused", n.start_mark)
                return memo[key]
            size(node)
        return node


def read_yaml_text(text: str):
    if len(text) > MAX_YAML_BYTES:
        raise YamlLimitError(f"{len(text):,} characters is above the limit of {MAX_YAML_BYTES:,}: refused")
    try:
        return yaml.load(text, Loader=LimitedLoader)
    except RecursionError:
        raise YamlLimitError("nested too deeply (thousands of levels): refused") from None


def read_yaml_file(path: Path):
    """A YAML file, refused before it is read if larger than :data:`MAX_YAML_BYTES`."""
    n = Path(path).stat().st_size
    if n > MAX_YAML_BYTES:
        raise YamlLimitError(f"{n:,} bytes is above the limit of {MAX_YAML_BYTES:,} bytes for a YAML file: refused")
    return read_yaml_text(Path(path).read_text(encoding="utf-8"))


def _read_yaml(path: Path, problems: list[str], rel: str):
    try:
        return read_yaml_file(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        what = "YAML file refused" if isinstance(exc, YamlLimitError) else "not valid YAML"
        problems.append(f"{rel}{where}: {what} ({getattr(exc, 'problem', exc)})")
    except UnicodeDecodeError:
        problems.append(f"{rel}: not UTF-8 text (save the file as UTF-8)")
    except OSError as exc:
        problems.append(f"{rel}: cannot be read ({exc.strerror})")
    return None


def load_sources(path: Path, problems: list[str]) -> dict[str, Source]:
    data = _read_yaml(path, problems, "sources.yaml")
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append("sources.yaml: must be a mapping of source key -> fields")
        return {}
    return _sources_from_mapping(data, problems, "sources.yaml")


def _sources_from_mapping(data: dict, problems: list[str], where: str) -> dict[str, Source]:
    out = {}
    for key, entry in data.items():
        if not isinstance(entry, dict):
            problems.append(f"{where}: source '{key}': must be a mapping of fields")
            continue
        missing = [f for f in SOURCE_REQUIRED if entry.get(f) in (None, "")]
        if missing:
            problems.append(f"{where}: source '{key}': missing {', '.join(missing)}")
            continue
        unknown = set(entry) - SOURCE_KEYS
        if unknown:
            problems.append(f"{where}: source '{key}': unknown field(s) {sorted(unknown)} "
                            f"(allowed: {sorted(SOURCE_KEYS)})")
        problems.extend(_unsettled(entry, f"{where}: source '{key}'"))
        problems.extend(_anonymous(entry, f"{where}: source '{key}'"))
        out[key] = Source(key=str(key), author=str(entry["author"]), year=entry["year"],
                          title=str(entry["title"]), table=str(entry["table"]),
                          licence=str(entry["licence"]), url=entry.get("url"))
    return out


def _anonymous(entry: dict, where: str) -> list[str]:
    """Problems of a source entry that names no author or no year of publication: an ``author:`` that is a
    placeholder ("not shown", "unknown", "authors as listed in the DOI record", "n.d.") or a description of
    the source rather than who made it (it must begin with a name: a capital letter, a web domain for a
    site publishing under its own name, or a software project's name such as ``lca_battery``), and a ``year:`` that is not a four-digit year."""
    out = []
    author = str(entry.get("author") or "").strip()
    m = ANONYMOUS_AUTHOR_RE.search(author)
    first = author.split()[0] if author else ""
    if m:
        out.append(f"{where}: field 'author' says '{m.group(0)}': name the author(s) (persons or the publishing "
                   f"organisation); a source that cannot be attributed cannot carry a number")
    elif first and not (first[0].isupper() or "." in first or "_" in first):
        out.append(f"{where}: field 'author' ('{author[:40]}...') describes the source instead of naming its "
                   f"author(s): begin with the author's name")
    year = entry.get("year")
    if not (isinstance(year, int) and not isinstance(year, bool) and SOURCE_YEARS[0] <= year <= SOURCE_YEARS[1]):
        out.append(f"{where}: field 'year' must be the year of publication, a number such as 2024 "
                   f"(got {year!r})")
    return out


def _unsettled(entry: dict, where: str) -> list[str]:
    """Problems of a source entry that is not fit to carry a number: a field that says it still
    needs checking, or a ``table:`` that names no table, figure, sheet, page, section, abstract, file or dataset."""
    out = []
    for fld in sorted(entry):
        value = entry[fld]
        if not isinstance(value, str):
            continue
        m = UNSETTLED_RE.search(value)
        if m:
            out.append(f"{where}: field '{fld}' says '{m.group(0)}': settle it against the primary source "
                       f"(or replace the source) before citing it")
    table = str(entry.get("table") or "")
    if table and not LOCATOR_RE.search(table):
        out.append(f"{where}: field 'table' names no table, figure, sheet, page, section, abstract, file or dataset "
                   f"of the source: say where the numbers are")
    return out


def _composition(value, where: str, problems: list[str]) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: composition must map element symbols to kg per unit")
        return {}
    out = {}
    for el, frac in value.items():
        if el not in ELEMENTS:
            problems.append(f"{where}: composition: unknown element '{el}' (allowed: {sorted(ELEMENTS)})")
        elif not _number(frac) or frac < 0:
            problems.append(f"{where}: composition of {el} must be a number >= 0 (got {frac!r})")
        else:
            out[el] = float(frac)
    return out


def _parse_exchange(raw, where: str, proc_source, problems: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: an exchange must be a mapping")
        return None
    unknown = set(raw) - EXCHANGE_KEYS
    if unknown:
        problems.append(f"{where}: unknown field(s) {sorted(unknown)} (allowed: {sorted(EXCHANGE_KEYS)})")
    has_in, has_bio = "input" in raw, "biosphere" in raw
    if has_in == has_bio:
        problems.append(f"{where}: give exactly one of 'input' (a process id) or 'biosphere' (a flow name)")
        return None
    key = "input" if has_in else "biosphere"
    if not isinstance(raw[key], str) or not raw[key].strip():
        problems.append(f"{where}: {key} must be a {'process id' if has_in else 'flow name'} (text; got "
                        f"{raw[key]!r})")
        return None
    amount = raw.get("amount")
    if not _number(amount):
        problems.append(f"{where}: amount must be a finite number (got {amount!r})")
        return None
    if "feed_carbon" in raw and (raw["feed_carbon"] is not True or not has_bio):
        problems.append(f"{where}: feed_carbon must be 'true' on a biosphere emission (the CO2 of a recycling "
                        f"route's feed's own carbon; got {raw['feed_carbon']!r} on "
                        f"{'a biosphere flow' if has_bio else 'an input'})")
    if has_bio and amount < 0 and "resource" not in str(raw.get("compartment", "air")):
        problems.append(f"{where}: an emission must be >= 0 (got {amount!r}; an avoided product is a "
                        f"substitution input, not a negative emission)")
        return None
    source = raw.get("source", proc_source)
    if not source:
        problems.append(f"{where}: the amount {amount} has no source (add 'source:' to the exchange "
                        f"or to its process; keys are listed in sources.yaml)")
    unit = raw.get("unit")
    if not unit:
        problems.append(f"{where}: missing unit")
        return None
    if not isinstance(unit, str):
        problems.append(f"{where}: unit must be text such as kg or kWh (got {unit!r})")
        return None
    try:
        units.parse(unit)
    except UnitError as exc:
        problems.append(f"{where}: {exc}")
        return None
    comp = raw.get("compartment", "air" if has_bio else None)
    return {"raw": raw, "amount": float(amount), "unit": str(unit), "source": source,
            "compartment": tuple(str(comp).split("::")) if comp else ()}


SUPPLIER_FOLDER = "supplier"


def _design_sources(design, path="design"):
    """(path, key) of every ``source`` / ``*_source`` entry inside a cell's design mapping."""
    if not isinstance(design, dict):
        return
    for k, v in design.items():
        if isinstance(v, dict):
            yield from _design_sources(v, f"{path}.{k}")
        elif k == "source" or k.endswith("_source"):
            yield f"{path}.{k}", v


#: Optional process fields the engine computes with: each a finite number > 0; ``recovery`` (share of each element
#: recovered) and ``feed_composition`` (kg per kg of feed) map elements to numbers in [0, 1]; in ``design``
#: every value is a number > 0 but for the texts below (sources, comments, the input ids).
POSITIVE_EXTRA = ("energy_density_kwh_per_kg", "cam_specific_capacity_ah_per_kg", "cam_voltage_v", "anode_np_ratio",
                  "anode_specific_capacity_ah_per_kg", "driver_reference_kwh_per_kg")
SHARE_MAPS = ("recovery", "feed_composition")


def _design_text(key: str) -> bool:
    return key in ("source", "comment", "input") or key.endswith(("_source", "_comment"))


def _check_extra(extra: dict, where: str, problems: list[str]) -> None:
    """The optional fields the engine reads later are numbers where it computes with them (a text or a 500 %
    recovery would otherwise fail deep in a run, or pass the EU targets)."""
    for k in POSITIVE_EXTRA:
        if k in extra and not (_number(extra[k]) and extra[k] > 0):
            problems.append(f"{where}: {k} must be a number > 0 (got {extra[k]!r})")
    for k in SHARE_MAPS:
        if k not in extra:
            continue
        if not isinstance(extra[k], dict):
            problems.append(f"{where}: {k} must map elements to shares in [0, 1] (got {extra[k]!r})")
            continue
        for el, v in extra[k].items():
            if not (_number(v) and 0 <= v <= 1):
                problems.append(f"{where}: {k} of {el} must be a number in [0, 1] (got {v!r})")

    if "allocation" in extra:
        a = extra["allocation"]
        if not isinstance(a, dict) or set(a) != ALLOCATION_KEYS:
            problems.append(f"{where}: allocation must map exactly {sorted(ALLOCATION_KEYS)} (got "
                            f"{sorted(a) if isinstance(a, dict) else repr(a)})")
        else:
            if a["basis"] not in ALLOCATION_BASES:
                problems.append(f"{where}: allocation.basis '{a['basis']}' unknown (allowed: "
                                f"{', '.join(ALLOCATION_BASES)})")
            for k in ("co_products", "reason"):
                if not (isinstance(a[k], str) and a[k].strip()):
                    problems.append(f"{where}: allocation.{k} must be a text")

    def walk(d, path):
        for key, v in d.items():
            if isinstance(v, dict):
                walk(v, f"{path}.{key}")
            elif not _design_text(str(key)) and not (_number(v) and v > 0):
                problems.append(f"{where}: {path}.{key} must be a number > 0 (got {v!r})")
    if "design" in extra:
        if isinstance(extra["design"], dict):
            walk(extra["design"], "design")
        else:
            problems.append(f"{where}: design must be a mapping of the design model's parameters")


EXCLUDED_KEYS = {"flow", "reason", "share", "kg_co2e", "basis"}


def _check_excluded(entries, where: str, problems: list[str]) -> None:
    """``excluded:`` (the cut-off log): a list of flows left out, each with ``flow`` and ``reason`` and its size,
    either ``share`` (0..1 of the process's cradle-to-gate footprint, an own estimate) or ``kg_co2e`` (>= 0 per unit
    of the reference product) with the ``basis`` it is computed from (amounts, factors, sources)."""
    if entries is None:
        return
    if not isinstance(entries, list):
        problems.append(f"{where}: excluded must be a list of flows (flow, reason, and share or kg_co2e)")
        return
    for k, ex in enumerate(entries):
        at = f"{where}: excluded #{k + 1}"
        if not isinstance(ex, dict):
            problems.append(f"{at}: must be a mapping with flow, reason, and share or kg_co2e")
            continue
        unknown = set(ex) - EXCLUDED_KEYS
        if unknown:
            problems.append(f"{at}: unknown field(s) {sorted(unknown)} (allowed: {sorted(EXCLUDED_KEYS)})")
        for f in ("flow", "reason"):
            if not isinstance(ex.get(f), str) or not ex[f].strip():
                problems.append(f"{at}: missing '{f}' (text)")
        if ("share" in ex) == ("kg_co2e" in ex):
            problems.append(f"{at}: give either 'share' (0..1 of the process footprint) or 'kg_co2e' (per unit "
                            f"of the reference product, with its 'basis'), not {'both' if 'share' in ex else 'neither'}")
        elif "share" in ex and not (_number(ex["share"]) and 0 <= ex["share"] <= 1):
            problems.append(f"{at}: share must be a number in [0, 1] (got {ex['share']!r})")
        elif "kg_co2e" in ex:
            if not (_number(ex["kg_co2e"]) and ex["kg_co2e"] >= 0):
                problems.append(f"{at}: kg_co2e must be a number >= 0 (got {ex['kg_co2e']!r})")
            if not isinstance(ex.get("basis"), str) or not ex["basis"].strip():
                problems.append(f"{at}: kg_co2e needs its 'basis' (the amounts and factors it is computed from)")
        if "basis" in ex and "kg_co2e" not in ex:
            problems.append(f"{at}: 'basis' belongs to a kg_co2e estimate")


def unproductive_loops(processes: dict[str, Process]) -> list[str]:
    """Problems of a supply chain that cannot make its products: a process that consumes at least one unit of
    its own product per unit made, or a loop of inputs whose amounts multiply to one or more around it (a
    technosphere matrix that is singular, or whose solution for a positive demand goes negative: the result
    would be a huge or negative number, not an error). Checked on the inputs as written (substitution credits
    left out) with switches at their default shares: with X the input coefficients, the system makes every
    product iff (I - X) s = 1 has a solution s > 0 (for a non-negative X, s > 0 with Xs < s is the test of a
    spectral radius below 1, whatever the units)."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import splu
    ids = list(processes)
    at = {pid: i for i, pid in enumerate(ids)}
    rows, cols, vals = [], [], []
    for p in processes.values():
        j = at[p.id]
        edges = [(x.target, x.amount) for x in p.exchanges
                 if x.kind == "technosphere" and not x.substitution and x.amount > 0]
        edges += [(target, p.default.get(name, 0.0)) for name, target in p.alternatives.items()]
        for target, amount in edges:
            if target in at and amount > 0:
                rows.append(at[target])
                cols.append(j)
                vals.append(float(amount))
    n = len(ids)
    X = sp.csc_matrix((vals, (rows, cols)), shape=(n, n))
    out = []
    for i in np.flatnonzero(X.diagonal() >= 1.0):
        p = processes[ids[i]]
        out.append(f"{p.file}: process '{p.id}': consumes {X[i, i]:g} {p.unit} of its own product per {p.unit} "
                   f"made (allowed: a self-input below 1)")
    if out or n == 0:
        return out

    def makes(M) -> bool:                              # (I - M) s = 1 has a solution s > 0
        try:
            s = splu((sp.identity(M.shape[0], format="csc") - M).tocsc()).solve(np.ones(M.shape[0]))
        except RuntimeError:                           # exactly singular
            return False
        return bool(np.all(np.isfinite(s)) and s.min() > 0)
    if makes(X):
        return out
    k, label = connected_components(X, directed=True, connection="strong")
    for c in range(k):                                 # name the loops (strongly connected groups) that fail
        members = np.flatnonzero(label == c)
        if len(members) < 2 or makes(X[members][:, members]):
            continue
        names = [ids[i] for i in members]
        first = processes[names[0]]
        out.append(f"{first.file}: processes {', '.join(repr(x) for x in names[:6])}"
                   f"{' ...' if len(names) > 6 else ''}: their inputs form a loop that consumes as much as it makes "
                   f"or more (allowed: amounts that multiply to less than 1 around every loop)")
    return out or ["the inventories' inputs form a loop that consumes as much as it makes or more"]


def load_inventory(root: Path | None = None, extra_files: tuple = ()) -> Inventory:
    """Load every inventory file under ``root`` and validate it. Raises InventoryError.

    ``extra_files``: supplier inventories in the same format (a file may carry its own
    ``sources:`` mapping); their processes go to the ``lcab-supplier`` database."""
    root = Path(root) if root else default_root()
    if not root.is_dir():          # --inventories or $LCA_BATTERY_INVENTORIES naming no folder: say which path
        raise InventoryError([f"{root}: inventory folder not found" if not root.exists()
                              else f"{root}: not a folder (the inventory folder holds sources.yaml and the "
                                   "background/, materials/, cells/ and recycling/ folders)"])
    extra_files = tuple(Path(f).resolve() for f in extra_files)
    problems: list[str] = []
    sources = load_sources(root / "sources.yaml", problems)
    raw_procs: dict[str, tuple[dict, str]] = {}
    files = [(path, str(path.relative_to(root))) for path in inventory_files(root)]
    files += [(path, f"{SUPPLIER_FOLDER}/{path.name}") for path in extra_files]
    for path, rel in files:
        before = len(problems)
        data = _read_yaml(path, problems, str(path) if path in extra_files else rel)
        if data is None:
            if len(problems) == before:       # read, but nothing in it (or only comments)
                problems.append(f"{rel}: empty file: an inventory file holds a top-level list 'processes:' "
                                "(remove the file or fill it)")
            continue
        if path in extra_files and isinstance(data, dict) and data.get("sources") is not None:
            if not isinstance(data["sources"], dict):
                problems.append(f"{path}: 'sources' must map source keys to fields")
            else:
                for key, entry in data["sources"].items():
                    if key in sources:
                        problems.append(f"{path}: source '{key}' already exists in sources.yaml: use another key")
                extra = _sources_from_mapping(data["sources"], problems, str(path))
                sources.update(extra)
        if not isinstance(data, dict) or not isinstance(data.get("processes"), list):
            problems.append(f"{rel}: must hold a top-level list 'processes:'")
            continue
        for i, rp in enumerate(data["processes"]):
            pid = rp.get("id") if isinstance(rp, dict) else None
            if not isinstance(pid, str) or not ID_RE.match(pid):
                problems.append(f"{rel}: process #{i + 1}: id must match [a-z0-9_]+ (lower case) (got {pid!r})")
                continue
            if pid in raw_procs:
                problems.append(f"{rel}: process '{pid}': id already used in {raw_procs[pid][1]}")
                continue
            raw_procs[pid] = (rp, rel)

    processes: dict[str, Process] = {}
    pending_units: list[tuple[str, str, str, str]] = []   # (where, target id, unit) to check later
    for pid, (rp, rel) in raw_procs.items():
        where = f"{rel}: process '{pid}'"
        unknown = set(rp) - PROCESS_KEYS
        if unknown:
            problems.append(f"{where}: unknown field(s) {sorted(unknown)} (allowed: {sorted(PROCESS_KEYS)})")
        for f in ("name", "reference_product", "unit", "location"):
            if not rp.get(f):
                problems.append(f"{where}: missing '{f}'")
        unit = str(rp.get("unit") or "kg")
        try:
            units.parse(unit)
        except UnitError as exc:
            problems.append(f"{where}: {exc}")
        loc = str(rp.get("location") or "")
        if loc and not (re.fullmatch(r"[A-Z]{2}", loc) or loc in REGIONS):
            problems.append(f"{where}: location '{loc}' is neither an ISO 3166 alpha-2 code nor one of {sorted(REGIONS)}")
        stage = rp.get("stage")
        if stage is not None and stage not in STAGES:
            problems.append(f"{where}: stage '{stage}' unknown (allowed: {', '.join(STAGES)}, or none for background)")
        year = rp.get("reference_year")
        if not (isinstance(year, int) and 1950 <= year <= 2100):
            problems.append(f"{where}: reference_year must be a year (got {year!r})")
        dqr = rp.get("dqr")
        if not isinstance(dqr, dict) or set(dqr) != set(DQR_KEYS) or not all(
                _number(dqr[k]) and 1 <= dqr[k] <= 5 for k in DQR_KEYS):
            problems.append(f"{where}: dqr must give {', '.join(DQR_KEYS)}, each 1..5 (got {dqr!r})")
            dqr = {k: 5 for k in DQR_KEYS}
        psource = rp.get("source")
        if psource is not None and psource not in sources:
            problems.append(f"{where}: source '{psource}' is not in sources.yaml")

        exchanges = []
        if not isinstance(rp.get("exchanges") or [], list):
            problems.append(f"{where}: exchanges must be a list (got {type(rp['exchanges']).__name__})")
            rp = {**rp, "exchanges": []}
        for j, rx in enumerate(rp.get("exchanges") or []):
            xwhere = f"{where}: exchange #{j + 1}"
            if isinstance(rx, dict):
                xwhere += f" ({rx.get('input') or rx.get('biosphere')})"
            px = _parse_exchange(rx, xwhere, psource, problems)
            if px is None:
                continue
            raw = px["raw"]
            if px["source"] and px["source"] not in sources:
                problems.append(f"{xwhere}: source '{px['source']}' is not in sources.yaml")
            if "input" in raw:
                target = raw["input"]
                if px["amount"] < 0 and not raw.get("substitution"):
                    problems.append(f"{xwhere}: negative input {px['amount']}; an avoided product must say "
                                    f"'substitution: true'")
                pending_units.append((xwhere, target, px["unit"], pid))
                exchanges.append(Exchange("technosphere", str(target), px["amount"], px["unit"],
                                          px["source"] or "", (), False, bool(raw.get("substitution")),
                                          raw.get("proxy"), raw.get("comment")))
            else:
                exchanges.append(Exchange("biosphere", str(raw["biosphere"]), px["amount"], px["unit"],
                                          px["source"] or "", px["compartment"], bool(raw.get("aggregated")),
                                          False, raw.get("proxy"), raw.get("comment"),
                                          raw.get("feed_carbon") is True))

        switch, alternatives, default = rp.get("switch"), {}, {}
        if switch is not None:
            alternatives = rp.get("alternatives") or {}
            default = rp.get("default") or {}
            if not isinstance(alternatives, dict) or not alternatives:
                problems.append(f"{where}: a switch needs 'alternatives' (name: process id)")
                alternatives = {}
            for name, target in alternatives.items():
                pending_units.append((f"{where}: alternative '{name}'", target, unit, pid))
            if not isinstance(default, dict) or set(default) - set(alternatives):
                problems.append(f"{where}: default shares must name alternatives of {sorted(alternatives)}")
                default = {}
            elif not all(_number(v) and 0 <= v <= 1 for v in default.values()) or \
                    abs(sum(default.values()) - 1) > 1e-9:
                problems.append(f"{where}: default shares must be in [0, 1] and sum to 1 (got {default})")
            if not psource:
                problems.append(f"{where}: a switch needs a 'source' for its default shares")
        elif not exchanges and not rp.get("coproducts"):
            problems.append(f"{where}: has no exchanges")

        coproducts = []
        for k, rc in enumerate(rp.get("coproducts") or []):
            cwhere = f"{where}: coproduct #{k + 1}"
            if not isinstance(rc, dict) or not isinstance(rc.get("id"), str) or not ID_RE.match(rc["id"]):
                problems.append(f"{cwhere}: needs an id matching [a-z0-9_]+")
                continue
            cwhere = f"{where}: coproduct '{rc['id']}'"
            unknown = set(rc) - COPRODUCT_KEYS
            if unknown:
                problems.append(f"{cwhere}: unknown field(s) {sorted(unknown)} (allowed: {sorted(COPRODUCT_KEYS)})")
            if not _number(rc.get("amount")) or rc["amount"] <= 0:
                problems.append(f"{cwhere}: amount must be a number > 0 (got {rc.get('amount')!r})")
                continue
            if rc.get("price") is not None and (not _number(rc["price"]) or rc["price"] < 0 or
                                                rc.get("price_source") not in sources):
                problems.append(f"{cwhere}: price must be >= 0 with a price_source from sources.yaml")
            if rc["id"] in raw_procs:
                problems.append(f"{cwhere}: id clashes with a process id")
            if rc.get("substitutes") is not None and rc.get("grade") not in COPRODUCT_GRADES:
                problems.append(f"{cwhere}: a co-product that substitutes a material needs a grade, one of "
                                f"{', '.join(COPRODUCT_GRADES)} (got {rc.get('grade')!r})")
            elif rc.get("grade") is not None and rc.get("grade") not in COPRODUCT_GRADES:
                problems.append(f"{cwhere}: grade must be one of {', '.join(COPRODUCT_GRADES)} "
                                f"(got {rc.get('grade')!r})")
            coproducts.append(Coproduct(rc["id"], float(rc["amount"]), str(rc.get("unit") or "kg"),
                                        rc.get("price"), rc.get("price_source"), rc.get("substitutes"),
                                        _composition(rc.get("composition"), cwhere, problems), rc.get("name"),
                                        rc.get("grade")))
        extra = {k: rp[k] for k in EXTRA_KEYS if k in rp}
        _check_extra(extra, where, problems)
        if "driver" in rp:
            if rp["driver"] not in STEP_DRIVERS:
                problems.append(f"{where}: driver '{rp['driver']}' unknown (allowed: {', '.join(STEP_DRIVERS)})")
            ref = rp.get("driver_reference_kwh_per_kg")
            if rp["driver"] == "cell_mass" and not (isinstance(ref, (int, float)) and ref > 0):
                problems.append(f"{where}: driver cell_mass needs driver_reference_kwh_per_kg > 0 (the source's "
                                f"reference cell)")
            if rp.get("driver_source") not in sources:
                problems.append(f"{where}: driver_source '{rp.get('driver_source')}' is not in sources.yaml")
        _check_excluded(rp.get("excluded"), where, problems)
        for key, val in _design_sources(rp.get("design")):
            if val not in sources:
                problems.append(f"{where}: design: {key} '{val}' is not in sources.yaml")
        processes[pid] = Process(
            id=pid, name=str(rp.get("name", pid)), reference_product=str(rp.get("reference_product", "")),
            unit=unit, location=loc, stage=stage, reference_year=year if isinstance(year, int) else 0,
            source=psource, dqr={k: float(dqr[k]) for k in DQR_KEYS}, file=rel,
            exchanges=tuple(exchanges), proxy=rp.get("proxy"), comment=rp.get("comment"),
            composition=_composition(rp.get("composition"), where, problems),
            excluded=tuple(rp.get("excluded") or ()), switch=switch,
            alternatives={str(k): str(v) for k, v in alternatives.items()},
            default={str(k): float(v) for k, v in default.items()},
            coproducts=tuple(coproducts), extra=extra)

    coproduct_units = {c.id: c.unit for p in processes.values() for c in p.coproducts} | GENERATED_UNITS
    for where, target, unit, pid in pending_units:
        target_unit = processes[target].unit if target in processes else coproduct_units.get(target)
        if target_unit is None:
            problems.append(f"{where}: unknown process id '{target}'")
            continue
        try:
            units.factor(unit, target_unit)
        except UnitError as exc:
            problems.append(f"{where}: unit mismatch with process '{target}': {exc}")
    for p in processes.values():
        for c in p.coproducts:
            if c.substitutes and c.substitutes not in processes and c.substitutes not in coproduct_units:
                problems.append(f"{p.file}: process '{p.id}': coproduct '{c.id}' substitutes unknown "
                                f"process '{c.substitutes}'")
    # a supplier file's processes live in the model's 'supplier/' folder; its problems name the file itself
    given = {f"{SUPPLIER_FOLDER}/{path.name}:": f"{path}:" for path in extra_files}

    def refuse(msgs):
        raise InventoryError([next((full + m[len(label):] for label, full in given.items() if m.startswith(label)), m)
                              for m in msgs])
    if problems:
        refuse(problems)
    # convert technosphere amounts to the unit of the process they refer to
    converted = {}
    for p in processes.values():
        exs = []
        for x in p.exchanges:
            if x.kind == "technosphere":
                tu = processes[x.target].unit if x.target in processes else coproduct_units[x.target]
                f = units.factor(x.unit, tu)
                x = Exchange(x.kind, x.target, x.amount * f, tu, x.source, x.compartment,
                             x.aggregated, x.substitution, x.proxy, x.comment)
            exs.append(x)
        converted[p.id] = Process(**{**p.__dict__, "exchanges": tuple(exs)})
    loops = unproductive_loops(converted)
    if loops:
        refuse(loops)
    digest = content_hash(root)
    if extra_files:
        h = hashlib.sha256(digest.encode())
        for f in extra_files:
            h.update(f.read_bytes())
        digest = h.hexdigest()
    return Inventory(processes=converted, sources=sources, content_hash=digest, root=str(root),
                     extra_files=tuple(str(f) for f in extra_files))
