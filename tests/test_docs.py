"""Documentation is checked against the code: every config key, command and column is named."""

from pathlib import Path

import pytest
from pydantic import BaseModel

from parcours.cli import app
from parcours.config import Config, SourceConfig
from parcours.schema import LINEAGE_NAMES, TABLES

DOCS = Path(__file__).parent.parent / "docs"


def config_keys(model: type[BaseModel]) -> list[str]:
    keys = []
    for name, info in model.model_fields.items():
        keys.append(name)
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            keys += config_keys(info.annotation)
    return keys


@pytest.mark.parametrize(
    "key", config_keys(Config) + config_keys(SourceConfig) + ["rename", "constants", "values"]
)
def test_every_config_key_is_documented(key):
    assert f"`{key}`" in (DOCS / "configuration.md").read_text()


@pytest.mark.parametrize(
    "command", [c.name or c.callback.__name__ for c in app.registered_commands]
)
def test_every_command_is_documented(command):
    assert f"`parcours {command}" in (DOCS / "cli.md").read_text()


@pytest.mark.parametrize(
    ("table", "column"), [(t.name, c.name) for t in TABLES.values() for c in t.columns]
)
def test_every_column_is_documented_in_its_table_section(table, column):
    sections = doc_sections((DOCS / "data-model.md").read_text())
    assert table in sections, f"no section ### `{table}` in data-model.md"
    row = f"| `{column}` |"
    if column in LINEAGE_NAMES and row not in sections[table]:
        # Input tables share the lineage columns, documented once in their own section.
        assert row in sections["Lineage columns"]
    else:
        assert row in sections[table]


def doc_sections(text: str) -> dict[str, str]:
    """The body of every ``##``/``###`` section, by table name (or plain title)."""
    sections: dict[str, str] = {}
    title = None
    for line in text.splitlines():
        if line.startswith("## ") or line.startswith("### "):
            heading = line.lstrip("#").strip()
            title = heading.split("`")[1] if heading.startswith("`") else heading
            sections[title] = ""
        elif title is not None:
            sections[title] += line + "\n"
    return sections


def test_doc_sections_hold_only_their_own_table():
    text = "## A\n### `t`\n| `x` | int |\n### `u`\n| `y` | int |\n## Lineage columns\n| `z` |\n"
    sections = doc_sections(text)
    assert "| `y` |" not in sections["t"] and "| `x` |" in sections["t"]
    assert sections["Lineage columns"] == "| `z` |\n"
