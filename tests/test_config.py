import pytest
import yaml

from parcours.config import Config, load_config, render_config
from parcours.errors import ConfigError
from parcours.workspace import Workspace


def test_init_writes_a_commented_config_that_loads_back_to_the_defaults(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    text = (tmp_path / "ws" / "parcours.yaml").read_text()
    assert "# duckdb (embedded file, the default) or spark." in text
    assert ws.config == Config()
    assert load_config(tmp_path / "ws" / "parcours.yaml") == Config()


def test_every_field_is_rendered_with_its_description():
    text = render_config()
    for section in ("engine", "database", "spark", "defaults", "sources"):
        assert f"\n{section}:" in f"\n{text}"
    assert "  country: FR" in text


def test_misspelt_and_invalid_keys_are_all_reported_with_their_dotted_path(tmp_path):
    path = tmp_path / "parcours.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "engin": "duckdb",
                "engine": "postgres",
                "sources": {"pos": {"decimal": ";", "tables": {"order": {}}}},
            }
        )
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = info.value.problems
    assert any(p.startswith("engin: Extra inputs are not permitted") for p in problems)
    assert any(p.startswith("engine: Input should be 'duckdb' or 'spark'") for p in problems)
    assert any(p.startswith("sources.pos.decimal:") for p in problems)
    assert any("sources.pos.tables" in p and "unknown kind 'order'" in p for p in problems)
    assert str(info.value).startswith("parcours.yaml: 4 problems")


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "parcours.yaml"
    path.write_text("engine: duckdb\nsources: [\n")
    with pytest.raises(ConfigError, match=r"parcours.yaml: line \d+: not valid YAML"):
        load_config(path)


def test_opening_a_folder_without_config_says_how_to_create_one(tmp_path):
    with pytest.raises(Exception, match="no parcours.yaml") as info:
        Workspace.open(tmp_path)
    assert info.value.hint == f"create a workspace with: parcours init {tmp_path}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "engine: duckdb\ndefaults:\n  country: FR\nengine: spark\n",
            "parcours.yaml: line 4: not valid YAML (key 'engine' is repeated (first on line 1))",
        ),
        (
            "defaults:\n  country: FR\n  currency: EUR\n  country: BE\n",
            "parcours.yaml: line 4: not valid YAML (key 'country' is repeated (first on line 2))",
        ),
        (
            "engine: duckdb\n# café\n".encode("latin-1"),
            "parcours.yaml: line 2: byte 0xe9 is not UTF-8",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "parcours.yaml: line 3: binary content, not a YAML text"),
    ],
)
def test_unreadable_or_ambiguous_config_exits_2_with_the_line(tmp_path, capsys, content, message):
    from parcours.cli import main

    path = tmp_path / "parcours.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    assert main(["sql", "select 1", "-w", str(tmp_path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err
    assert "Traceback" not in err
