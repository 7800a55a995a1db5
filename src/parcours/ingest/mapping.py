"""Map a source's columns to the canonical ones, checking every name the config gives."""

from __future__ import annotations

from dataclasses import dataclass, field

from parcours.config import TableMapping
from parcours.errors import Problem, UserInputError
from parcours.schema import ATTRIBUTES, INPUT_TABLES, TableSpec


@dataclass(frozen=True)
class ColumnPlan:
    """Where each canonical column of one file comes from."""

    inputs: dict[str, str]  # canonical column -> staging column
    constants: dict[str, str]  # canonical column -> value for every row
    values: dict[str, dict[str, str]]  # canonical column -> {source value: canonical value}
    extra: list[str] = field(default_factory=list)  # input columns kept in `attributes`
    ignored: list[str] = field(default_factory=list)  # input columns no table keeps


def plan_columns(
    spec: TableSpec, header: list[str], mapping: TableMapping, *, file: str, config_key: str
) -> ColumnPlan:
    """Resolve the mapping against a file's header; every problem is reported at once.

    ``config_key`` is where the mapping lives (``sources.store.tables.orders``), so messages
    point at the line to fix.
    """
    canonical = {c.name for c in spec.input_columns} - {ATTRIBUTES}
    available = ", ".join(header)
    problems: list[str] = []
    inputs: dict[str, str] = {}
    for src, target in mapping.rename.items():
        if src not in header:
            problems.append(
                f"unknown column `{src}` in {config_key}.rename; available: {available}"
            )
        if target not in canonical:
            problems.append(f"`{target}` in {config_key}.rename is not a column of {spec.name}")
        elif target in inputs:
            problems.append(f"two columns are renamed to `{target}` in {config_key}.rename")
        else:
            inputs[target] = src
    for part, names in (("constants", mapping.constants), ("values", mapping.values)):
        for target in names:
            if target not in canonical:
                problems.append(f"`{target}` in {config_key}.{part} is not a column of {spec.name}")
    renamed = set(mapping.rename)
    by_lower = {h.lower(): h for h in header if h not in renamed}
    for name in sorted(canonical - set(inputs)):
        if name in by_lower:
            inputs[name] = by_lower[name]
    for name in set(inputs) & set(mapping.constants):
        problems.append(f"`{name}` is both read from the file and set in {config_key}.constants")
    missing = [
        c.name
        for c in spec.input_columns
        if c.required and c.name not in inputs and c.name not in mapping.constants
    ]
    if missing:
        problems.append(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"available: {available}"
        )
    if problems:
        raise UserInputError(
            Problem("; ".join(problems), file=file, hint=f"map the columns in {config_key}.rename")
        )
    if not mapping.rename and not spec.keeps_extra:
        _refuse_other_kind(spec, header, inputs, file=file, config_key=config_key)
    used = set(inputs.values())
    rest = [h for h in header if h not in used]
    return ColumnPlan(
        inputs=inputs,
        constants=dict(mapping.constants),
        values={k: dict(v) for k, v in mapping.values.items()},
        extra=rest if spec.keeps_extra else [],
        ignored=[] if spec.keeps_extra else rest,
    )


def _refuse_other_kind(
    spec: TableSpec, header: list[str], inputs: dict[str, str], *, file: str, config_key: str
) -> None:
    """Refuse a file of another kind that happens to hold this kind's required columns.

    An orders file has a ``store_id``: given as ``stores`` it would load every order as a
    store. A file is of another kind when it has all that kind's required columns and more
    of its columns than of this kind's.
    """
    names = {h.lower() for h in header}
    for other in INPUT_TABLES:
        if other.name == spec.name:
            continue
        columns = {c.name for c in other.input_columns} - {ATTRIBUTES}
        required = {c.name for c in other.input_columns if c.required}
        if required <= names and len(columns & names) > len(inputs):
            raise UserInputError(
                Problem(
                    f"the file looks like {other.kind} ({', '.join(sorted(columns & names))}),"
                    f" not {spec.kind}: only {', '.join(sorted(inputs))} "
                    f"{'is a column' if len(inputs) == 1 else 'are columns'} of {spec.kind}",
                    file=file,
                    hint=f"parcours ingest {other.kind} {file}, or map the columns in "
                    f"{config_key}.rename",
                )
            )
