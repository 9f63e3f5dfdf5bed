"""A study made ready to solve: the engine for its inventories (one per inventory folder, supplier files and
licensed background, kept for the process), the study validated against them and its mapping onto the
model (:func:`prepare_mapping`), with the checks that need both (supplier metal balance, stated cell mass).

The layer under every run (:mod:`lca_battery.api`, the serial sweep :mod:`lca_battery.sweep_serial`, the grid
engine, the Dask workers, the exports): it imports none of them."""
from __future__ import annotations

from pathlib import Path

from .calc import Engine
from .model.cell import complete_voltage, element_content
from .model.entries import study_mapping
from .model.superstructure import all_processes, chemistries, switch_parameters
from .study import Study, load_study

_ENGINES: dict[str, Engine] = {}


def get_engine(inventory_root: str | Path | None = None, progress=None, extra_files: tuple = (),
               background=None) -> Engine:
    """One Engine per inventory folder (+ supplier files, + licensed background) and process (the set-up
    is paid once). ``background``: None / "open", or a study's ``background`` ({database, project, mapping})."""
    from .inventory.loader import default_root, load_inventory
    root = str(Path(inventory_root) if inventory_root else default_root())
    bg_key = None if background in (None, "open") else (background.database, background.project, background.mapping)
    key = (root, tuple(str(Path(f).resolve()) for f in extra_files)) + ((bg_key,) if bg_key else ())
    eng = _ENGINES.get(key)
    if eng is None:
        inv = load_inventory(Path(root), key[1])
        bg = None
        if bg_key:
            from .background import resolve
            bg = resolve(background, inv, all_processes(inv))     # every missing node, before any build
        eng = Engine(inv, progress, bg)
        _ENGINES[key] = eng
    return eng


def _background_key(engine: Engine):
    bg = engine.background
    return None if bg is None else (bg.database, bg.project, bg.mapping_file)


def _supplier_files(study, file: str | None) -> tuple:
    """Supplier inventory files of a study (absolute: the study loader resolved them)."""
    from .errors import StudyError
    out = []
    for pid, sup in study.suppliers.items():
        if sup.inventory:
            if not Path(sup.inventory).is_file():
                raise StudyError(f"supplier inventory file not found: {sup.inventory}", file=file,
                                 field=f"suppliers.{pid}.inventory")
            out.append(sup.inventory)
    return tuple(sorted(set(out)))


def prepare(study, overrides=None, engine: Engine | None = None, file: str | None = None, rule: str | None = None):
    """Load and validate a study against the inventories; returns (study, entries, engine)."""
    study, mapping, engine = prepare_mapping(study, overrides, engine, file, rule)
    return study, mapping.entries, engine


def prepare_mapping(study, overrides=None, engine: Engine | None = None, file: str | None = None,
                    rule: str | None = None, parsed: dict | None = None, memo=None):
    """(validated study, its mapping, the engine that solves it). ``parsed``: the study file already
    parsed (:func:`lca_battery.study.read_study_file`; a sweep reads its file once); ``memo``: parts of the
    mapping kept between a sweep's builds (:class:`lca_battery.model.entries.BuildMemo`)."""
    engine = engine or get_engine()
    if not isinstance(study, Study):
        file = file or (str(study) if not isinstance(study, dict) else "<study>")
        study = load_study(study, overrides, switch_parameters(engine.inventory), parsed=parsed,
                           sections=memo.sections if memo is not None else None)
    extras = _supplier_files(study, file)
    want_bg = study.background
    if want_bg != "open" or engine.background is not None:
        from .background import mapping_path
        want = None if want_bg == "open" else (want_bg.database, want_bg.project,
                                                 str(mapping_path(engine.inventory, want_bg.mapping)))
        have = _background_key(engine)
        if want is None or have is None or want[0] != have[0] or (want[1] and want[1] != have[1]) \
                or want[2] != have[2]:
            engine = get_engine(engine.inventory.root, extra_files=tuple(engine.inventory.extra_files),
                                background=want_bg)
    if extras and tuple(engine.inventory.extra_files) != extras:
        # supplier inventories are written as an extra database, in a project of their own; their metal
        # balance is checked first (loading is cheap, the project build is not)
        from .inventory.loader import load_inventory
        check_supplier_metals(study, load_inventory(Path(engine.inventory.root), extras), file or "<study>")
        engine = get_engine(engine.inventory.root, extra_files=extras, background=study.background)
    cells = chemistries(engine.inventory)
    chem = study.cell.chemistry.upper()
    if chem in cells:      # an unknown chemistry is reported by study_mapping
        study = complete_voltage(study, cells[chem], file or "<study>")
    mapping = study_mapping(study, engine.inventory, file or "<study>", rule, memo=memo)
    _check_stated_mass(study, mapping, file or "<study>")
    check_supplier_metals(study, engine.inventory, file or "<study>")
    return study, mapping, engine


#: Relative tolerance of the supplier metal balance (rounding of declared compositions).
SUPPLIER_METAL_TOLERANCE = 0.01
BALANCED_METALS = ("Co", "Ni", "Mn", "Li")


def check_supplier_metals(study, inventory, file: str) -> None:
    """A supplier process inventory goes through the metal mass balance of the defaults: its product
    must hold the metal of the material it replaces, and it may not hold more metal than its inputs
    bring (unless it has no metal-bearing inputs: then the metal enters the system there, as for a
    supplier figure). Errors name the element and the shortfall."""
    from .errors import StudyError
    procs = all_processes(inventory)
    for pid, sup in study.suppliers.items():
        if not sup.inventory or sup.process not in procs or pid not in procs:
            continue
        target = procs[sup.process]
        field = f"suppliers.{pid}.process"
        want = element_content(pid, procs)
        have = element_content(target.id, procs)
        inputs = {}
        for x in target.exchanges:
            if x.kind == "technosphere" and procs[x.target].unit == "kg" and not x.substitution:
                for el, v in element_content(x.target, procs).items():
                    inputs[el] = inputs.get(el, 0.0) + x.amount * v
        for el in BALANCED_METALS:
            w, h = want.get(el, 0.0), have.get(el, 0.0)
            if abs(h - w) > SUPPLIER_METAL_TOLERANCE * max(w, h):
                short = (w - h) / w if w else None
                what = (f"short of {el} by {w - h:.4g} kg per kg ({short:.0%})" if h < w else
                        f"{h - w:.4g} kg {el} per kg more than '{pid}' holds")
                raise StudyError(f"supplier process '{target.id}' ({sup.inventory}) is {what}: it holds {h:.4g} kg "
                                 f"{el}/kg, the material it replaces {w:.4g} kg {el}/kg", file=file, field=field,
                                 allowed=f"the {el} content of '{pid}' within {SUPPLIER_METAL_TOLERANCE:.0%}")
            m_in = inputs.get(el, 0.0)
            if any(inputs.get(m, 0.0) for m in BALANCED_METALS) and h > m_in * (1 + SUPPLIER_METAL_TOLERANCE):
                raise StudyError(f"supplier process '{target.id}' ({sup.inventory}) creates {el}: its inputs bring "
                                 f"{m_in:.4g} kg {el} per kg of product, the product holds {h:.4g} kg (shortfall "
                                 f"{h - m_in:.4g} kg {el}/kg)", file=file, field=field,
                                 allowed=f"{el} in the product <= {el} in the inputs (losses >= 0)")


#: A stated cell mass may exceed the chemistry's design mass by at most this factor (beyond it the stated
#: cell is not one of that chemistry: the design's casing, foils and electrolyte cannot account for the
#: rest; between 1.x and this factor the design model warns). The lighter bound is the active materials'.
MAX_MASS_OVER_DESIGN = 4.0


def _check_stated_mass(study, mapping, file: str) -> None:
    """A stated mass (or energy density) far heavier than the chemistry's design is not a cell of it."""
    from .errors import StudyError
    info = mapping.bom_info
    dev, ed = info.get("stated_vs_design"), info.get("energy_density_kwh_per_kg")
    if dev is None or not ed or dev + 1.0 <= MAX_MASS_OVER_DESIGN:
        return
    c = study.cell
    design_kg = c.energy_kwh / ed
    per_ah = 1000.0 * design_kg / c.capacity_ah
    if c.mass_kg:
        raise StudyError(f"{c.mass_kg:g} kg ({1000 * c.mass_kg / c.capacity_ah:.4g} g/Ah) is not a "
                         f"{study.cell.chemistry.upper()} cell of {c.capacity_ah:g} Ah: the design gives "
                         f"{design_kg:.4g} kg ({per_ah:.4g} g/Ah)", file=file, field="cell.mass_kg",
                         allowed=f"at most {MAX_MASS_OVER_DESIGN:g} x the design mass, i.e. <= "
                                 f"{design_kg * MAX_MASS_OVER_DESIGN:.4g} kg")
    raise StudyError(f"{c.energy_density_wh_per_kg:g} Wh/kg is far below a {study.cell.chemistry.upper()} cell "
                     f"({ed * 1000:.0f} Wh/kg by design)", file=file, field="cell.energy_density_wh_per_kg",
                     allowed=f">= {ed * 1000 / MAX_MASS_OVER_DESIGN:.0f} Wh/kg")
