"""Documentation is checked against the code: every config key, command and column is named."""

from pathlib import Path

import pytest
from pydantic import BaseModel

from parcours.cli import app
from parcours.config import Config, SourceConfig
from parcours.schema import TABLES

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
def test_every_column_is_documented(table, column):
    text = (DOCS / "data-model.md").read_text()
    assert f"### `{table}`" in text
    assert f"`{column}`" in text
