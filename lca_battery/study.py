"""The study: what to compute. A YAML file, validated, with ``--set key.path=value`` overrides.

Errors name the file, the field (dotted path) and what is allowed; they never show a traceback.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import StudyError

Share = Union[str, dict[str, float]]
FORMATS = ("pouch", "prismatic", "cylindrical")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cell(_Model):
    chemistry: str = Field(description="Cell chemistry, e.g. NMC811 (see `lca-battery chemistries`)")
    model: str = Field("", description="Battery model name, for the declaration")
    format: Literal["pouch", "prismatic", "cylindrical"] = "pouch"
    capacity_ah: float = Field(gt=0, description="Rated capacity, Ah")
    nominal_voltage_v: float = Field(gt=0, description="Nominal voltage, V")
    mass_kg: float | None = Field(None, gt=0, description="Cell mass, kg")
    energy_density_wh_per_kg: float | None = Field(
        None, gt=0, description="Gravimetric energy density, Wh/kg (used when mass_kg is not given)")

    @property
    def energy_kwh(self) -> float:
        return self.capacity_ah * self.nominal_voltage_v / 1000.0


class Plant(_Model):
    name: str = ""
    country: str = Field(description="ISO 3166 alpha-2 code of the cell plant, e.g. CN")
    electricity: Share = Field("grid", description="'grid' (national mix of plant.country), or shares of "
                                                   "alternatives, e.g. {grid_CN: 0.7, tech_pv_rooftop: 0.3}")
    heat: Share = Field("natural_gas", description="heat supply of the plant")
    electricity_kwh_per_kg_cell: float | None = Field(
        None, ge=0, description="cell-assembly electricity, kWh per kg cell (default: inventory)")
    heat_mj_per_kg_cell: float | None = Field(
        None, ge=0, description="cell-assembly heat, MJ per kg cell (default: inventory)")

    @field_validator("country")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.strip().upper()


class Distribution(_Model):
    truck_km: float = Field(0.0, ge=0)
    rail_km: float = Field(0.0, ge=0)
    sea_km: float = Field(0.0, ge=0)


class Study(_Model):
    name: str = "study"
    description: str = ""
    cell: Cell
    plant: Plant
    allocation: dict[str, Share] = Field(default_factory=dict)
    supply: dict[str, Share] = Field(default_factory=dict)
    distribution: Distribution = Distribution()
    method: Literal["ipcc2021", "ef31"] = "ipcc2021"

    @model_validator(mode="after")
    def _check_shares(self):
        for section in ("allocation", "supply"):
            for key, val in getattr(self, section).items():
                _check_share(val, f"{section}.{key}")
        _check_share(self.plant.electricity, "plant.electricity")
        _check_share(self.plant.heat, "plant.heat")
        return self


def _check_share(val, path):
    if isinstance(val, dict):
        if not val or any((not isinstance(v, (int, float))) or v < 0 or v > 1 for v in val.values()):
            raise ValueError(f"{path}: shares must be numbers in [0, 1]")
        if abs(sum(val.values()) - 1.0) > 1e-6:
            raise ValueError(f"{path}: shares must sum to 1 (they sum to {sum(val.values()):g})")


def _parse_value(text: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return sorted(model.model_fields)


def apply_override(data: dict, key: str, value, file: str, switch_params: set[str] | None = None) -> None:
    """Set ``data[key.path] = value`` after checking that the path is a field of the study."""
    parts = key.split(".")
    model: type[BaseModel] | None = Study
    node = data
    for i, part in enumerate(parts):
        path = ".".join(parts[: i + 1])
        last = i == len(parts) - 1
        if model is not None:
            if part not in model.model_fields:
                raise StudyError(f"unknown key '{key}' in --set", file=file, field=path,
                                 allowed=", ".join(f"{'.'.join(parts[:i] + [k])}" for k in _allowed_keys(model)))
            ann = model.model_fields[part].annotation
            sub = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
            if sub is None and part in ("allocation", "supply") and not last:
                rest = ".".join(parts[i + 1:])
                known = sorted(p.split(".", 1)[1] for p in (switch_params or set()) if p.startswith(part + "."))
                if switch_params is not None and rest not in known:
                    raise StudyError(f"unknown key '{key}' in --set", file=file, field=key,
                                     allowed=", ".join(f"{part}.{k}" for k in known))
                node.setdefault(part, {})
                node[part][rest] = value
                return
            if last:
                node[part] = value
                return
            if sub is None:
                raise StudyError(f"'{path}' is a value, not a section", file=file, field=key)
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
            model = sub


def load_study(path: str | Path | dict, overrides: list[str] | dict | None = None,
               switch_params: set[str] | None = None) -> Study:
    """Read, override and validate a study. ``overrides``: ``["plant.country=SE", ...]`` or a dict."""
    if isinstance(path, dict):
        data, file = dict(path), "<study>"
    else:
        file = str(path)
        p = Path(path)
        if not p.is_file():
            raise StudyError("study file not found", file=file)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise StudyError(f"not valid YAML{f' (line {mark.line + 1})' if mark else ''}: "
                             f"{getattr(exc, 'problem', exc)}", file=file) from None
        if not isinstance(data, dict):
            raise StudyError("a study file must be a mapping (cell:, plant:, ...)", file=file)
    data = _deep_copy(data)
    items = overrides.items() if isinstance(overrides, dict) else [
        _split_override(o, file) for o in (overrides or [])]
    for key, value in items:
        apply_override(data, key, value, file, switch_params)
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].replace("Value error, ", "")
        allowed = None
        if err["type"] == "extra_forbidden":
            model = _model_at(err["loc"][:-1])
            msg = f"unknown field '{err['loc'][-1]}'"
            allowed = ", ".join(_allowed_keys(model)) if model else None
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif "input" in err and err["type"] not in ("value_error",):
            msg = f"{msg} (got {err['input']!r})"
        extra = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise StudyError(msg + extra, file=file, field=field or None, allowed=allowed) from None
    if switch_params is not None:
        for section in ("allocation", "supply"):
            for key in getattr(study, section):
                if f"{section}.{key}" not in switch_params:
                    known = sorted(p for p in switch_params if p.startswith(section + "."))
                    raise StudyError("unknown choice", file=file, field=f"{section}.{key}",
                                     allowed=", ".join(known) or "none")
    return study


def _model_at(loc) -> type[BaseModel] | None:
    model = Study
    for part in loc:
        ann = model.model_fields.get(str(part))
        if ann is None or not (isinstance(ann.annotation, type) and issubclass(ann.annotation, BaseModel)):
            return None
        model = ann.annotation
    return model


def _split_override(text: str, file: str):
    if "=" not in text:
        raise StudyError(f"--set expects KEY=VALUE (got {text!r})", file=file)
    key, value = text.split("=", 1)
    return key.strip(), _parse_value(value)


def _deep_copy(obj):
    if isinstance(obj, dict):
        return {k: _deep_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_deep_copy(v) for v in obj]
    return obj
