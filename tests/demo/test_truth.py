"""The ground truth: complete, exact, and where it says the planted bad rows are."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

import numpy as np
import pandas as pd

from parcours.demo import BEHAVIOURS, generate
from tests.demo.conftest import CUSTOMERS, native, planted, truth

CUSTOMER_FILES = {
    ("store", "store/clients.csv"): "ID_CLIENT",
    ("web", "web/accounts.csv"): "account_id",
    ("app", "app/users.jsonl"): "uid",
    ("emailing", "emailing/contacts.csv"): "LEID",
    ("service", "service/requesters.csv"): "requester_id",
}


def _digest(directory) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_generation_is_deterministic_for_a_seed(tmp_path):
    a = generate(tmp_path / "a", customers=600, seed=7)
    b = generate(tmp_path / "b", customers=600, seed=7)
    c = generate(tmp_path / "c", customers=600, seed=8)
    assert _digest(a.out_dir) == _digest(b.out_dir)
    assert _digest(a.out_dir) != _digest(c.out_dir)
    assert (a.orders, a.events, a.source_records) == (b.orders, b.events, b.source_records)


def test_behaviour_shares_are_as_configured(demo):
    persons = truth(demo, "persons.parquet")
    assert len(persons) == CUSTOMERS == demo.persons
    assert persons["person_id"].is_unique
    counts = persons["behaviour"].value_counts()
    assert set(counts.index) == set(BEHAVIOURS)
    for name, behaviour in BEHAVIOURS.items():
        assert abs(counts[name] - behaviour.share * CUSTOMERS) <= 1, name
    assert abs(sum(b.share for b in BEHAVIOURS.values()) - 1) < 1e-9


def test_every_customer_record_of_every_source_has_one_person(demo):
    records = truth(demo, "records.parquet")
    persons = set(truth(demo, "persons.parquet")["person_id"])
    assert records["person_id"].notna().all()
    assert set(records["person_id"]) <= persons
    assert not records.duplicated(["source", "source_id"]).any()
    for (source, path), id_column in CUSTOMER_FILES.items():
        ids = native(demo, path)[id_column].astype(str)
        assert ids.is_unique, path
        assert set(ids) == set(records.loc[records["source"] == source, "source_id"]), path
    assert len(records) == demo.source_records
    # Every person is known to at least one source.
    assert set(records["person_id"]) == persons


def test_every_valid_order_in_the_files_is_in_the_truth_with_its_customer(demo):
    orders = truth(demo, "orders.parquet")
    bad = {r["line"] for r in planted(demo)["bad_rows"] if r["file"] == "store/tickets.csv"}
    tickets = native(demo, "store/tickets.csv")
    tickets = tickets.drop(index=[line - 2 for line in bad])
    web = native(demo, "web/orders.jsonl")
    in_files = pd.concat(
        [
            pd.DataFrame(
                {
                    "source": "store",
                    "order_id": tickets["NUM_TICKET"],
                    "customer_id": tickets["ID_CLIENT"].replace("", None),
                }
            ),
            pd.DataFrame(
                {
                    "source": "web",
                    "order_id": web["id"].astype(str),
                    "customer_id": web["account"].astype(str),
                }
            ),
        ]
    )
    merged = in_files.merge(orders, on=["source", "order_id"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["customer_id_x"].fillna("") == merged["customer_id_y"].fillna("")).all()
    assert len(orders) == demo.orders
    anonymous = orders["person_id"].isna()
    assert (orders.loc[anonymous, "customer_id"].isna()).all()
    assert (orders.loc[anonymous, "channel"] == "store").all()
    # A customer id always belongs to the order's person.
    records = truth(demo, "records.parquet")
    known = orders[~anonymous].merge(
        records, left_on=["source", "customer_id"], right_on=["source", "source_id"], how="left"
    )
    assert (known["person_id_x"] == known["person_id_y"]).all()


def test_planted_bad_rows_are_exactly_where_the_truth_says(demo):
    bad = planted(demo)["bad_rows"]
    assert len(bad) == demo.bad_rows > 0
    reasons = {r["reason"] for r in bad}
    assert reasons == {
        "negative amount",
        "impossible date",
        "unknown channel code",
        "missing ticket number",
        "negative quantity",
        "missing product code",
    }
    for path, checks in (
        ("store/tickets.csv", _ticket_problems),
        ("store/lignes.csv", _line_problems),
    ):
        frame = native(demo, path)
        expected = {(r["line"], r["column"]) for r in bad if r["file"] == path}
        found = set()
        for column, problem in checks(frame).items():
            found |= {(int(i) + 2, column) for i in np.flatnonzero(problem)}
        assert found == expected, path
        for r in bad:
            if r["file"] == path:
                assert frame.iloc[r["line"] - 2][r["column"]] == r["value"]


def _valid_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%d/%m/%Y %H:%M")
    except ValueError:
        return False
    return True


def _ticket_problems(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        "MONTANT_TTC": frame["MONTANT_TTC"].str.startswith("-").to_numpy(),
        "DATE_HEURE": ~frame["DATE_HEURE"].map(_valid_date).to_numpy(bool),
        "CANAL": ~frame["CANAL"].isin(["MAG", "TEL"]).to_numpy(),
        "NUM_TICKET": (frame["NUM_TICKET"] == "").to_numpy(),
    }


def _line_problems(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        "QTE": frame["QTE"].str.startswith("-").to_numpy(),
        "CODE_ARTICLE": (frame["CODE_ARTICLE"] == "").to_numpy(),
    }


def test_identity_hard_cases_are_planted_and_recorded(demo):
    persons = truth(demo, "persons.parquet")
    cases = persons["identity_case"].value_counts()
    assert {"twin", "sibling", "shared_email_owner", "shared_email_partner"} <= set(cases.index)
    twins = persons[persons["identity_case"] == "twin"].groupby("household_id")
    for _, pair in twins:
        assert len(pair) == 2
        assert pair["last_name"].nunique() == 1
        assert pair["postal_code"].nunique() == 1
        assert pair["birth_date"].nunique() == 1
        assert pair["first_name"].nunique() == 2
    siblings = persons[persons["identity_case"] == "sibling"].groupby("household_id")
    assert all(pair["birth_date"].nunique() == 2 for _, pair in siblings)
    records = truth(demo, "records.parquet")
    clients = native(demo, "store/clients.csv").merge(
        records[records["source"] == "store"], left_on="ID_CLIENT", right_on="source_id"
    )
    clients = clients.merge(persons, on="person_id")
    # Twins hold different e-mails; a partner's card holds the owner's e-mail.
    twin_mails = clients[clients["identity_case"] == "twin"].groupby("household_id")["EMAIL"]
    assert all(m.str.lower().str.strip().nunique() == len(m) for _, m in twin_mails if m.all())
    shared = clients[clients["email_kind"] == "shared"]
    assert len(shared) > 0
    assert (shared["identity_case"] == "shared_email_partner").all()
    owners = clients[
        (clients["identity_case"] == "shared_email_owner")
        & (clients["role"] == "primary")
        & (clients["email_kind"] == "personal")
    ].set_index("household_id")["EMAIL"]
    compared = 0
    for _, row in shared.iterrows():
        if row["household_id"] in owners.index:
            mine = re.sub(r"\s", "", row["EMAIL"]).lower()
            assert mine == re.sub(r"\s", "", owners[row["household_id"]]).lower()
            compared += 1
    assert compared > 0
    # Duplicates within one source, moves and married names show in the records.
    assert (records["role"] == "duplicate").any()
    assert records.loc[records["source"] == "store", "old_address"].any()
    assert records.loc[records["source"] == "store", "maiden_name"].any()
    assert records["swapped_names"].any() and (records["typo"] != "none").any()
    assert set(records["phone_format"]) >= {
        "spaced",
        "compact",
        "dotted",
        "e164",
        "intl00",
        "missing",
    }


def test_phone_formats_in_files_are_those_the_truth_names(demo):
    records = truth(demo, "records.parquet")
    clients = native(demo, "store/clients.csv").merge(
        records[records["source"] == "store"], left_on="ID_CLIENT", right_on="source_id"
    )
    patterns = {"spaced": r"0\d( \d\d){4}", "compact": r"0\d{9}", "dotted": r"0\d(\.\d\d){4}"}
    for fmt, pattern in patterns.items():
        phones = clients.loc[clients["phone_format"] == fmt, "TELEPHONE"]
        assert len(phones) and phones.str.fullmatch(pattern).all(), fmt
    assert (clients.loc[clients["phone_format"] == "missing", "TELEPHONE"] == "").all()
