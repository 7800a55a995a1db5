"""The native files: each parses with its mapping, and the mapping reaches canonical columns."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from parcours.config import SourceConfig
from parcours.schema import GENDERS, KINDS, ORDER_CHANNELS, ORDER_STATUSES
from tests.demo.conftest import native, planted, read_native

INGESTION_ORDER = ["stores", "products", "customers", "orders", "order-lines", "consents", "events"]


def test_manifest_lists_files_in_ingestion_order(demo):
    kinds = [f.kind for f in demo.files]
    assert kinds == sorted(kinds, key=INGESTION_ORDER.index)
    assert set(kinds) == set(INGESTION_ORDER)
    assert all(f.path.is_file() and f.path.stat().st_size > 0 for f in demo.files)
    assert {f.source for f in demo.files} == set(demo.sources)


def test_every_source_mapping_is_a_valid_source_config_and_is_written(demo):
    for name, mapping in demo.sources.items():
        SourceConfig.model_validate(mapping)
        written = yaml.safe_load((demo.out_dir / "mappings" / f"{name}.yaml").read_text("utf-8"))
        assert written == mapping


def test_every_file_parses_with_pandas_using_its_mapping(demo):
    for f in demo.files:
        frame = read_native(demo, f.path)
        assert len(frame) > 0, f.path


def test_mapping_renames_exist_in_header_and_target_canonical_columns(demo):
    for f in demo.files:
        frame = read_native(demo, f.path)
        table = demo.sources[f.source]["tables"][f.kind]
        canonical = set(KINDS[f.kind].column_names)
        assert set(table.get("rename", {})) <= set(frame.columns), f.path
        assert set(table.get("rename", {}).values()) <= canonical, f.path
        assert set(table.get("constants", {})) <= canonical, f.path
        assert set(table.get("values", {})) <= canonical, f.path
        targets = list(table.get("rename", {}).values())
        assert len(targets) == len(set(targets)), f"{f.path}: a canonical column mapped twice"
        mapped = set(targets) | set(table.get("constants", {}))
        required = {c.name for c in KINDS[f.kind].input_columns if c.required}
        assert required <= mapped, f.path


def _mapped(demo, source: str, kind: str, frame: pd.DataFrame, column: str) -> pd.Series:
    table = demo.sources[source]["tables"][kind]
    native_name = next(k for k, v in table["rename"].items() if v == column)
    values = frame[native_name].astype(str)
    return values.map(lambda v: table.get("values", {}).get(column, {}).get(v, v)).str.lower()


def test_store_codes_map_to_canonical_vocabularies_except_planted_bad_rows(demo):
    tickets = native(demo, "store/tickets.csv")
    bad_lines = {r["line"] for r in planted(demo)["bad_rows"] if r["file"] == "store/tickets.csv"}
    good = tickets.drop(index=[line - 2 for line in bad_lines])
    assert set(_mapped(demo, "store", "orders", good, "channel")) <= set(ORDER_CHANNELS)
    assert set(_mapped(demo, "store", "orders", tickets, "status")) <= set(ORDER_STATUSES)
    clients = native(demo, "store/clients.csv")
    assert set(_mapped(demo, "store", "customers", clients, "gender")) <= set(GENDERS) | {""}
    lines = native(demo, "store/lignes.csv")
    categories = set(_mapped(demo, "store", "order-lines", lines, "category"))
    products = native(demo, "catalogue/articles.tsv")
    assert categories <= set(products["categorie"])


def test_web_and_app_values_are_canonical(demo):
    orders = native(demo, "web/orders.jsonl")
    assert set(orders["device"]) == {"web", "app"}
    assert set(_mapped(demo, "web", "orders", orders, "status")) == set(ORDER_STATUSES)
    accounts = native(demo, "web/accounts.csv")
    assert set(_mapped(demo, "web", "customers", accounts, "gender")) <= set(GENDERS)
    consents = native(demo, "web/consents.csv")
    assert set(_mapped(demo, "web", "consents", consents, "channel")) == {"email", "sms"}
    for path in ("web/events.jsonl", "app/events.jsonl", "web/deliveries.jsonl"):
        events = native(demo, path)
        source = path.split("/")[0]
        channels = set(_mapped(demo, source, "events", events, "channel"))
        assert channels <= {"web", "app", "other"}, path


def test_store_export_is_latin1_with_comma_decimals_and_french_dates(demo):
    raw = (demo.out_dir / "store/clients.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # accents are single Latin-1 bytes
    tickets = native(demo, "store/tickets.csv")
    assert tickets["MONTANT_TTC"].str.fullmatch(r"-?\d+,\d\d").all()
    assert tickets["DATE_HEURE"].str.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d").all()
    assert (tickets["ID_CLIENT"] == "").any(), "anonymous receipts have no customer"
    stores = native(demo, "store/magasins.csv")
    assert set(stores["ZONE_TOURISTIQUE"]) == {"O", "N"}
    assert len(stores) == 12


def test_events_have_a_nested_properties_object_and_flat_ids(demo):
    first = json.loads((demo.out_dir / "web/events.jsonl").open(encoding="utf-8").readline())
    assert isinstance(first["properties"], dict)
    assert {"messageId", "timestamp", "event", "userId", "anonymousId", "sessionId"} <= set(first)
    assert all(not isinstance(v, dict) for k, v in first.items() if k != "properties")
