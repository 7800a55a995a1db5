"""The workspace configuration, ``parcours.yaml``, as pydantic models.

Defaults live only here: ``parcours init`` renders the commented file from these models, and
``load_config`` reports every problem at once with its dotted key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from parcours.errors import ConfigError
from parcours.schema import KINDS

CONFIG_FILE = "parcours.yaml"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class SparkConfig(Section):
    """How to reach Spark when ``engine: spark``."""

    master: str = Field(
        "local[*]", description="Spark master URL (`local[*]`, `spark://host:7077`)."
    )
    conf: dict[str, str] = Field(
        default_factory=dict, description="Extra Spark settings, e.g. spark.executor.memory: 4g."
    )


class DefaultsConfig(Section):
    """Values assumed when the data does not say."""

    country: str = Field(
        "FR", description="ISO country whose dialling code phones without one belong to."
    )
    currency: str = Field("EUR", description="Currency of amounts given without one.")

    @field_validator("country", "currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class TableMapping(Section):
    """How one input kind of a source maps to the canonical columns."""

    rename: dict[str, str] = Field(
        default_factory=dict, description="Source column -> canonical column."
    )
    constants: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical column -> value for every row (channel: store).",
    )
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Canonical column -> {source value: canonical value} ('MAG' -> store).",
    )
    date_format: str | None = Field(
        None, description="strftime format of this kind's dates, when not ISO 8601."
    )


class SourceConfig(Section):
    """One source system: how its files are written and how they map to parcours columns."""

    format: Literal["auto", "csv", "parquet", "jsonl"] = Field(
        "auto", description="File format; auto uses the file extension."
    )
    delimiter: str | None = Field(None, description="CSV delimiter; detected when absent.")
    encoding: str | None = Field(
        None, description="CSV encoding (utf-8, latin-1, cp1252); detected when absent."
    )
    decimal: Literal[".", ","] | None = Field(
        None, description="Decimal mark of numbers; detected when absent."
    )
    date_format: str | None = Field(
        None, description="strftime format of dates (%d/%m/%Y), tried after ISO 8601."
    )
    tables: dict[str, TableMapping] = Field(
        default_factory=dict, description="Mapping per input kind (orders, customers...)."
    )

    @field_validator("tables")
    @classmethod
    def _known_kinds(cls, value: dict[str, TableMapping]) -> dict[str, TableMapping]:
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown kind {unknown[0]!r}; expected one of {', '.join(KINDS)}")
        return value

    def mapping(self, kind: str) -> TableMapping:
        return self.tables.get(kind) or TableMapping()


class Config(Section):
    """The whole ``parcours.yaml``."""

    engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="duckdb (embedded file, the default) or spark."
    )
    database: str = Field("parcours.duckdb", description="DuckDB file, relative to the workspace.")
    spark: SparkConfig = Field(default_factory=SparkConfig, description="Spark connection.")
    defaults: DefaultsConfig = Field(default_factory=DefaultsConfig, description="Assumed values.")
    sources: dict[str, SourceConfig] = Field(
        default_factory=dict, description="Source systems by name, with their mappings."
    )


def _problems(error: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()]


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(
            str(path), [f"{where}not valid YAML ({getattr(e, 'problem', e)})"]
        ) from None


def load_config(path: str | Path) -> Config:
    """Read and validate ``parcours.yaml``; every problem is reported in one ConfigError."""
    path = Path(path)
    try:
        return Config.model_validate(_read_yaml(path))
    except ValidationError as e:
        raise ConfigError(path.name, _problems(e), hint="see docs/configuration.md") from None


def load_mapping(path: str | Path) -> SourceConfig:
    """Read a mapping file: one source's settings, as under ``sources.NAME`` in parcours.yaml."""
    path = Path(path)
    try:
        return SourceConfig.model_validate(_read_yaml(path))
    except ValidationError as e:
        raise ConfigError(path.name, _problems(e), hint="see docs/configuration.md") from None


def render_config(model: type[BaseModel] = Config, indent: int = 0) -> str:
    """Render the defaults of ``model`` as commented YAML (what ``parcours init`` writes)."""
    pad = " " * indent
    lines: list[str] = []
    for name, info in model.model_fields.items():
        if info.description:
            lines.append(f"{pad}# {info.description}")
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            lines.append(f"{pad}{name}:")
            lines.append(render_config(annotation, indent + 2))
            continue
        value = info.get_default(call_default_factory=True)
        dumped = yaml.safe_dump({name: value}, default_flow_style=True, sort_keys=False).strip()
        lines.append(pad + dumped.removeprefix("{").removesuffix("}"))
    return "\n".join(lines)
