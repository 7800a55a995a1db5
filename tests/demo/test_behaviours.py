"""The planted behaviours, measured independently on the generated files and truth."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from parcours.demo import BEHAVIOURS
from parcours.demo.behaviours import (
    ANONYMOUS_SALES,
    FRICTION,
    FUNNELS,
    MOMENT_OF_TRUTH,
    RENEWAL_DAYS,
    SECOND_PURCHASE,
)
from parcours.demo.catalogue import CATEGORIES, STORES
from tests.demo.conftest import native, planted, truth

AS_OF = pd.Timestamp("2026-10-31 23:59:59")
END = pd.Timestamp("2026-11-01")  # the history ends before this midnight


@pytest.fixture(scope="module")
def orders(demo) -> pd.DataFrame:
    return truth(demo, "orders.parquet")


@pytest.fixture(scope="module")
def persons(demo) -> pd.DataFrame:
    return truth(demo, "persons.parquet")


@pytest.fixture(scope="module")
def person_orders(orders) -> pd.DataFrame:
    out = orders[orders["person_id"].notna()].sort_values(["person_id", "ordered_at"])
    return out.reset_index(drop=True)


@pytest.fixture(scope="module")
def lines(demo, orders) -> pd.DataFrame:
    """Every valid order line with its order's source, person and time."""
    bad = {r["line"] for r in planted(demo)["bad_rows"] if r["file"] == "store/lignes.csv"}
    store = native(demo, "store/lignes.csv").drop(index=[line - 2 for line in bad])
    rayon = {c.rayon: c.code for c in CATEGORIES}
    store = pd.DataFrame(
        {
            "source": "store",
            "order_id": store["NUM_TICKET"],
            "sku": store["CODE_ARTICLE"],
            "category": store["RAYON"].map(rayon),
            "quantity": store["QTE"].astype(int),
        }
    )
    web = native(demo, "web/order_items.csv")
    web = pd.DataFrame(
        {
            "source": "web",
            "order_id": web["order_id"],
            "sku": web["product_sku"],
            "category": web["product_type"],
            "quantity": web["qty_ordered"].astype(int),
        }
    )
    both = pd.concat([store, web], ignore_index=True)
    return both.merge(
        orders[["source", "order_id", "person_id", "behaviour", "ordered_at"]],
        on=["source", "order_id"],
        how="inner",
        validate="many_to_one",
    )


@pytest.fixture(scope="module")
def web_events(demo) -> pd.DataFrame:
    return native(demo, "web/events.jsonl")


@pytest.fixture(scope="module")
def app_events(demo) -> pd.DataFrame:
    return native(demo, "app/events.jsonl")


def test_delay_to_second_purchase_depends_on_the_first_channel(person_orders):
    rule = person_orders[person_orders["behaviour"].isin(SECOND_PURCHASE.applies_to)]
    first = rule.groupby("person_id").nth(0).set_index("person_id")
    second = rule.groupby("person_id").nth(1).set_index("person_id")
    delay = (second["ordered_at"] - first.loc[second.index, "ordered_at"]).dt.total_seconds()
    by_channel = (delay / 86400).groupby(first.loc[second.index, "channel"]).mean()
    for channel in ("store", "web", "app"):
        planted_mean = SECOND_PURCHASE.mean_days[channel]
        # Second purchases after the end of the history are not seen: a little shorter.
        assert 0.8 * planted_mean < by_channel[channel] < 1.05 * planted_mean, channel
    assert by_channel["app"] < by_channel["web"] < by_channel["store"]


def test_consumables_are_renewed_on_their_category_cycle(lines):
    consumable = lines[lines["category"].isin(list(RENEWAL_DAYS))]
    consumable = consumable.sort_values(["person_id", "category", "ordered_at"])
    gaps = consumable.groupby(["person_id", "category"])["ordered_at"].diff().dt.total_seconds()
    measured = (gaps / 86400).groupby(consumable["category"]).mean()
    for category, days in RENEWAL_DAYS.items():
        assert abs(measured[category] - days) < 0.08 * days, category
    assert measured["cafe"] < measured["croquettes"] < measured["engrais"]
    assert set(consumable["behaviour"]) == {"web_replenishment"}


def test_durable_products_are_bought_at_most_once_per_category(lines):
    durable = [c.code for c in CATEGORIES if c.kind == "durable"]
    bought = lines[lines["category"].isin(durable)]
    assert len(bought) > 0
    assert bought.groupby(["person_id", "category"]).size().max() == 1
    assert (bought["quantity"] == 1).all()


def test_festive_products_sell_only_in_festive_windows(demo, lines):
    windows = planted(demo)["calendar"]["festive"]
    festive = [c.code for c in CATEGORIES if c.kind == "festive"]
    sold = lines[lines["category"].isin(festive)]
    day = sold["ordered_at"].dt.normalize()
    inside = np.zeros(len(sold), bool)
    for w in windows:
        inside |= ((day >= pd.Timestamp(w["start"])) & (day <= pd.Timestamp(w["end"]))).to_numpy()
    assert len(sold) > 0 and inside.all()


def test_baskets_match_the_behaviours(person_orders, orders):
    basket = person_orders.groupby("behaviour")["total_amount"].mean()
    for name, behaviour in BEHAVIOURS.items():
        assert abs(basket[name] - behaviour.basket_eur) < 0.15 * behaviour.basket_eur, name
    anonymous = orders[orders["person_id"].isna()]
    assert abs(anonymous["total_amount"].mean() - ANONYMOUS_SALES.basket_eur) < 5
    store_tickets = orders[orders["channel"] == "store"]
    share = len(anonymous) / len(store_tickets)
    assert abs(share - ANONYMOUS_SALES.share) < 0.02


def test_weekly_regulars_shop_in_store_every_week_with_small_baskets(person_orders):
    weekly = person_orders[person_orders["behaviour"] == "weekly_regular"]
    assert set(weekly["channel"]) == {"store"}
    gaps = weekly.groupby("person_id")["ordered_at"].diff().dt.total_seconds() / 86400
    assert 6 < gaps.mean() < 8
    assert weekly["total_amount"].median() < 40


def test_festive_customers_buy_only_around_christmas_easter_and_mothers_day(demo, person_orders):
    windows = planted(demo)["calendar"]["festive"]
    festive = person_orders[person_orders["behaviour"] == "festive"]
    day = festive["ordered_at"].dt.normalize()
    inside = np.zeros(len(festive), bool)
    for w in windows:
        inside |= ((day >= pd.Timestamp(w["start"])) & (day <= pd.Timestamp(w["end"]))).to_numpy()
    assert inside.all()
    others = person_orders[person_orders["behaviour"] == "weekly_regular"]
    assert festive["total_amount"].mean() > 3 * others["total_amount"].mean()


def test_promo_hunters_buy_only_in_promotions_with_a_discount(person_orders):
    hunters = person_orders[person_orders["behaviour"] == "promo_hunter"]
    assert hunters["in_promo_window"].all()
    assert (hunters["discount_amount"] > 0).all()
    others = person_orders[person_orders["behaviour"] == "occasional"]
    assert (others["discount_amount"] > 0).mean() < 0.2
    assert (person_orders.loc[~person_orders["in_promo_window"], "discount_amount"] == 0).all()


def test_tourists_buy_once_in_a_tourist_store_far_from_home(person_orders, persons):
    tourists = persons[persons["behaviour"] == "tourist"]
    assert (tourists["orders"] == 1).all()
    bought = person_orders[person_orders["behaviour"] == "tourist"].merge(
        tourists[["person_id", "region"]], on="person_id"
    )
    tourist_store = {s.code: s.region for s in STORES if s.tourist_area}
    assert bought["store_id"].isin(tourist_store).all()
    assert (bought["store_id"].map(tourist_store) != bought["region"]).all()


def test_new_customers_first_bought_in_the_last_90_days(persons):
    new = persons[persons["behaviour"] == "new_customer"]
    assert (new["first_order_at"] >= AS_OF - pd.Timedelta(days=90)).all()
    others = persons[persons["behaviour"] != "new_customer"]
    assert (others["first_order_at"] < AS_OF - pd.Timedelta(days=90)).mean() > 0.9


def test_lapsing_customers_stop_at_their_lapse_date(persons, person_orders):
    lapsing = persons[persons["behaviour"] == "lapsing"].set_index("person_id")
    assert lapsing["lapse_date"].notna().all()
    assert persons.loc[persons["behaviour"] != "lapsing", "lapse_date"].isna().all()
    last = person_orders.groupby("person_id")["ordered_at"].max()
    assert (last[lapsing.index] <= lapsing["lapse_date"]).all()
    assert (lapsing["lapse_date"] <= END - pd.Timedelta(days=120)).all()


def test_multichannel_customers_are_more_active_and_worth_more(persons):
    several = persons[persons["uses_several_channels"]]
    single = persons[~persons["uses_several_channels"]]
    assert several["revenue"].mean() > 1.5 * single["revenue"].mean()
    multi = persons[persons["is_multichannel"]]
    assert (multi["channels_used"] >= 2).mean() > 0.95
    assert multi["orders"].mean() > persons.loc[~persons["is_multichannel"], "orders"].mean()


def test_cancellations_and_returns_are_rare_and_never_on_the_first_two_orders(person_orders):
    assert (person_orders.loc[person_orders["rank"] < 2, "status"] == "completed").all()
    rates = person_orders["status"].value_counts(normalize=True)
    assert 0.003 < rates["cancelled"] < 0.03 and 0.005 < rates["returned"] < 0.05


def _sessions(events: pd.DataFrame) -> pd.DataFrame:
    steps = pd.crosstab(events["sessionId"], events["event"]) > 0
    return steps


def test_cart_abandonment_and_the_app_payment_friction_are_as_planted(web_events, app_events):
    for channel, events in (("web", web_events), ("app", app_events)):
        steps = _sessions(events)
        carted = steps[steps["add_to_cart"]]
        abandonment = 1 - carted["purchase"].mean()
        assert abs(abandonment - FUNNELS[channel].abandonment) < 0.04, channel
        checkout = steps[steps["checkout_start"]]
        drop = 1 - checkout["purchase"].mean()
        assert abs(drop - (1 - FUNNELS[channel].checkout_to_purchase)) < 0.04, channel
    app_drop = 1 - _sessions(app_events).query("checkout_start")["purchase"].mean()
    assert app_drop == pytest.approx(FRICTION["drop_off"], abs=0.04)
    assert app_drop > 2 * FRICTION["reference_drop_off"]


def test_purchase_events_carry_the_order_id_at_the_order_time(demo, web_events, app_events):
    web = native(demo, "web/orders.jsonl")
    web["id"] = web["id"].astype(str)
    for device, events in (("web", web_events), ("app", app_events)):
        purchases = events[events["event"] == "purchase"]
        order_id = purchases["properties"].map(lambda p: p["order_id"])
        assert order_id.is_unique
        mine = web[web["device"] == device].set_index("id")
        assert set(order_id) == set(mine.index), device
        assert (purchases["timestamp"].to_numpy() == mine.loc[order_id, "created"].to_numpy()).all()


def test_identify_links_the_anonymous_id_and_the_customer_in_the_session(web_events):
    events = web_events.sort_values(["sessionId", "timestamp"], kind="stable")
    identify = events[events["event"] == "identify"]
    assert len(identify) > 0
    assert identify["userId"].notna().all() and identify["anonymousId"].notna().all()
    sessions = events[events["sessionId"].isin(identify["sessionId"])]
    for _, session in list(sessions.groupby("sessionId"))[:200]:
        at = session["event"].tolist().index("identify")
        assert session["userId"].iloc[:at].isna().all()
        assert session["userId"].iloc[at:].notna().all()
        assert session["anonymousId"].nunique() == 1
    anonymous_only = events.groupby("sessionId")["userId"].count() == 0
    assert anonymous_only.any(), "some visitors never identify"


def test_late_deliveries_and_unresolved_tickets_cut_repurchase(demo, person_orders):
    deliveries = native(demo, "web/deliveries.jsonl")
    props = pd.DataFrame(list(deliveries["properties"]))
    props["delivered_at"] = pd.to_datetime(deliveries["timestamp"]).dt.tz_localize(None)
    assert (props["late"] == (props["actual_days"] > props["promised_days"])).all()
    assert 0.03 < props["late"].mean() < 0.1
    orders = person_orders.assign(order_id=person_orders["order_id"].astype(str))
    merged = props.merge(orders[["order_id", "person_id"]], on="order_id")
    horizon = pd.Timedelta(days=MOMENT_OF_TRUTH.horizon_days)
    merged = merged[merged["delivered_at"] + horizon < AS_OF]
    times = orders.groupby("person_id")["ordered_at"].apply(np.array)
    came_back = [
        bool(((t > d) & (t <= d + horizon)).any())
        for t, d in zip(times[merged["person_id"]], merged["delivered_at"], strict=True)
    ]
    merged["came_back"] = came_back
    rate = merged.groupby("late")["came_back"].mean()
    assert rate[True] < 0.75 * rate[False]


def test_survey_scores_are_lower_after_a_late_delivery(demo):
    service = native(demo, "service/events.jsonl")
    surveys = service[service["type"] == "survey_response"]
    scores = pd.DataFrame(list(surveys["details"]))
    assert scores["score"].between(1, 5).all()
    deliveries = native(demo, "web/deliveries.jsonl")
    late = pd.DataFrame(list(deliveries["properties"]))[["order_id", "late"]]
    by_late = scores.merge(late, on="order_id").groupby("late")["score"].mean()
    assert by_late[False] - by_late[True] > 1.2
    closed = pd.DataFrame(list(service.loc[service["type"] == "ticket_closed", "details"]))
    assert set(closed["resolved"]) == {True, False}


def test_emails_go_only_to_subscribed_contacts(demo, persons):
    activity = native(demo, "emailing/activity.jsonl")
    assert set(activity["action"]) == {"sent", "open", "click"}
    records = truth(demo, "records.parquet")
    contacts = records[records["source"] == "emailing"][["source_id", "person_id"]]
    window = contacts.merge(persons[["person_id", "email_optin_at", "email_optout_at"]])
    sent = activity.assign(contact_id=activity["contact_id"].astype(str)).merge(
        window, left_on="contact_id", right_on="source_id"
    )
    at = pd.to_datetime(sent["timestamp"]).dt.tz_localize(None)
    assert (at >= sent["email_optin_at"]).all()
    out = sent["email_optout_at"]
    assert ((at < out) | out.isna()).all()


def test_consents_cover_every_channel_with_opt_outs(demo):
    store = native(demo, "store/consentements.csv")
    assert set(store["CANAL_CONTACT"]) == {"EMAIL", "SMS", "COURRIER"}
    web = native(demo, "web/consents.csv")
    app = native(demo, "app/push_consents.jsonl")
    assert set(app["push_enabled"]) == {True, False}
    # Opt-outs: a later refusal for a channel once granted.
    later = store.assign(day=pd.to_datetime(store["DATE_MAJ"], format="%d/%m/%Y"))
    later = later.sort_values("day").groupby(["ID_CLIENT", "CANAL_CONTACT"])["OPTIN"].agg(list)
    assert later.map(lambda v: v == ["O", "N"]).any()
    assert (
        web.groupby(["account_id", "topic"])["subscribed"]
        .agg(list)
        .map(lambda v: v == ["yes", "no"])
        .any()
    )


def test_calendar_spans_two_years_before_as_of(demo):
    history = planted(demo)["history"]
    start = date.fromisoformat(history["start"])
    as_of = date.fromisoformat(history["as_of"])
    assert as_of - start >= timedelta(days=730)
    assert as_of == demo.as_of
