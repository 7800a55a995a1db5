"""Stable keys, incremental runs, an analyst's overrides, golden rules and consents."""

from __future__ import annotations

import pytest

from parcours.cli import main
from parcours.identity import resolve
from tests.conftest import write
from tests.engines import rows
from tests.identity.hand_made import ingest_customers, keys
from tests.identity.test_hard_cases import crowd

ANNE = "a1,anne.roy@mail.fr,+33611111111,Anne,Roy,1980-01-01,1 rue A,75001,Paris,L1,2024-01-01"
ANNE_WEB = "wa1,anne.roy@mail.fr,,Anne,Roy,,5 rue B,75002,Paris,,2025-06-01"
BOB = "b1,bob.lenoir@mail.fr,+33622222222,Bob,Lenoir,1970-02-02,2 rue C,69001,Lyon,L2,2024-01-01"


@pytest.fixture
def ws(make_workspace, tmp_path):
    ws = make_workspace()
    ingest_customers(ws, tmp_path, "store", crowd("s", twice=False) + [ANNE, BOB])
    ingest_customers(ws, tmp_path, "web", crowd("w", twice=True) + [ANNE_WEB])
    return ws


def test_new_records_only_touch_the_keys_of_their_persons(ws, tmp_path):
    resolve(ws)
    before = keys(ws)
    # Bob opens a web account; a new customer appears
    new = [
        "wb1,bob.lenoir@mail.fr,,Bob,Lenoir,,2 rue C,69001,Lyon,,2026-01-01",
        "wz1,zoe.new@mail.fr,,Zoe,Neuve,,9 rue Z,31000,Toulouse,,2026-01-01",
    ]
    ingest_customers(ws, tmp_path, "web", new)
    summary = resolve(ws)
    after = keys(ws)
    assert summary.scored.startswith("2 new")
    assert {r: after[r] for r in before} == before
    assert after["web:wb1"] == before["store:b1"]
    assert after["web:wz1"] not in before.values()
    changes = rows(ws, "identity_changes")
    latest = max(c["resolved_at"] for c in changes)
    assert [(c["change"], c["records"]) for c in changes if c["resolved_at"] == latest] == [
        ("new", 1)
    ]


def test_overrides_split_and_force_and_are_reported(ws, tmp_path, capsys):
    resolve(ws)
    k = keys(ws)
    assert k["store:a1"] == k["web:wa1"]
    anne = k["store:a1"]
    assert main(["identity", "different", "store:a1", "web:wa1", "-w", str(ws.dir)]) == 0
    assert main(["identity", "same", "store:b1", "web:w3", "-w", str(ws.dir)]) == 0
    summary = resolve(ws)
    k = keys(ws)
    assert k["store:a1"] != k["web:wa1"]
    assert anne in (k["store:a1"], k["web:wa1"])  # one side keeps the key
    assert k["store:b1"] == k["web:w3"]
    assert "kept apart: store:a1 and web:wa1" in summary.overrides
    assert "forced together: store:b1 and web:w3" in summary.overrides
    changes = {c["change"] for c in rows(ws, "identity_changes")}
    assert {"split", "merge"} <= changes


def test_bad_override_reference_is_a_clear_error(ws, capsys):
    assert main(["identity", "same", "store-a1", "web:wa1", "-w", str(ws.dir)]) == 2
    assert "hint: write SOURCE:ID" in capsys.readouterr().err


def test_golden_record_follows_the_rules_with_lineage(ws):
    resolve(ws)
    k = keys(ws)["store:a1"]
    (anne,) = [g for g in rows(ws, "customers_golden") if g["customer_key"] == k]
    # most recent record wins the address as a unit; most frequent for the email
    assert (anne["address_line1"], anne["postal_code"]) == ("5 rue B", "75002")
    assert anne["email"] == "anne.roy@mail.fr"
    assert anne["birth_date"].isoformat() == "1980-01-01"  # the only record that has one
    assert anne["records"] == 2 and anne["sources"] == "store,web"
    lineage = {
        r["field"]: (r["source"], r["source_id"], r["rule"])
        for r in rows(ws, "golden_lineage")
        if r["customer_key"] == k
    }
    assert lineage["address_line1"] == ("web", "wa1", "most_recent")
    assert lineage["birth_date"] == ("store", "a1", "most_frequent")


def test_source_priority_rule_from_config(make_workspace, tmp_path):
    ws = make_workspace(
        identity={
            "source_priority": ["store", "web"],
            "survivorship": {"address": "source_priority"},
        }
    )
    ingest_customers(ws, tmp_path, "store", crowd("s", twice=False) + [ANNE])
    ingest_customers(ws, tmp_path, "web", crowd("w", twice=True) + [ANNE_WEB])
    resolve(ws)
    k = keys(ws)["store:a1"]
    (anne,) = [g for g in rows(ws, "customers_golden") if g["customer_key"] == k]
    assert anne["address_line1"] == "1 rue A"


def test_consents_merge_per_channel_latest_decision_wins(ws, tmp_path):
    from parcours.ingest import ingest_files

    consents = (
        "customer_id,channel,granted,recorded_at\n"
        "a1,email,true,2024-01-01T10:00:00\n"
        "a1,sms,true,2024-01-01T10:00:00\n"
    )
    web = "customer_id,channel,granted,recorded_at\nwa1,email,false,2025-03-01T10:00:00\n"
    ingest_files(ws, "consents", [write(tmp_path / "c1.csv", consents)], source="store")
    ingest_files(ws, "consents", [write(tmp_path / "c2.csv", web)], source="web")
    resolve(ws)
    k = keys(ws)["store:a1"]
    got = {
        r["channel"]: (r["granted"], r["source"])
        for r in rows(ws, "customer_consents")
        if r["customer_key"] == k
    }
    assert got == {"email": (False, "web"), "sms": (True, "store")}


def test_a_group_beyond_the_size_limit_is_held_for_review_not_merged(make_workspace, tmp_path):
    ws = make_workspace(identity={"max_cluster_size": 2})
    ingest_customers(ws, tmp_path, "store", crowd("s", twice=False) + [ANNE])
    ingest_customers(ws, tmp_path, "web", crowd("w", twice=True) + [ANNE_WEB])
    app = "aa1,,,Anne,Roy,1980-01-01,1 rue A,75001,Paris,,2025-01-01"
    ingest_customers(ws, tmp_path, "app", [app])
    summary = resolve(ws)
    k = keys(ws)
    assert k["store:a1"] == k["web:wa1"]  # the email link stands
    assert k["app:aa1"] != k["store:a1"]  # the fuzzy one waits for an analyst
    (held,) = summary.review
    assert held.records == 3 and "max_cluster_size" in held.reason
    review = [r for r in rows(ws, "identity_review") if r["records"] == 3]
    assert review and "max_cluster_size" in review[0]["reason"]


def test_a_shared_default_email_identifies_nobody(make_workspace, tmp_path):
    ws = make_workspace(identity={"max_shared_identifier": 3})
    default = [
        f"x{i},contact@shop.fr,,{first},{last},,,,,,"
        for i, (first, last) in enumerate(
            [("Jean", "Lenoir"), ("Paul", "Morel"), ("Rita", "Sol"), ("Ali", "Ben")]
        )
    ]
    ingest_customers(ws, tmp_path, "store", crowd("s", twice=False) + default)
    ingest_customers(ws, tmp_path, "web", crowd("w", twice=True))
    summary = resolve(ws)
    k = keys(ws)
    assert len({k[f"store:x{i}"] for i in range(4)}) == 4
    shared = [r for r in rows(ws, "identity_review") if r["subject"] == "contact@shop.fr"]
    assert shared[0]["records"] == 4 and "too many records" in shared[0]["reason"]
    assert ("email held by too many records", 1) in summary.shared_identifiers
