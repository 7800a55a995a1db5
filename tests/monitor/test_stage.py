"""The monitor stage end to end on a hand-made retailer: orders of two stores and a web shop,
one store closed for the last five days; the incident is found, explained and alerted once."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from parcours.cli import main
from parcours.workspace import Workspace

LAST = dt.date(2026, 2, 4)
FIRST = dt.date(2025, 1, 1)
CLOSED_FROM = LAST - dt.timedelta(days=4)
DAILY = {"A": 30, "B": 40, None: 45}  # store id (None: the web shop) -> orders a day


def _orders(path):
    rng = np.random.default_rng(3)
    rows, n = [], 0
    day = FIRST
    while day <= LAST:
        for store, mean in DAILY.items():
            count = 0 if store == "B" and day >= CLOSED_FROM else rng.poisson(mean)
            for _ in range(count):
                n += 1
                hour, minute = rng.integers(9, 20), rng.integers(0, 60)
                rows.append(
                    {
                        "order_id": f"O{n}",
                        "customer_id": f"C{rng.integers(0, 4000)}",
                        "ordered_at": f"{day}T{hour:02d}:{minute:02d}:00",
                        "channel": "store" if store else "web",
                        "store_id": store or "",
                        "total_amount": f"{rng.gamma(4, 15):.2f}",
                    }
                )
        day += dt.timedelta(days=1)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("shop")
    _orders(root / "orders.csv")
    (root / "stores.csv").write_text(
        "store_id,name,region\nA,Lille,Hauts-de-France\nB,Nice,Provence\n"
    )
    ws_dir = root / "ws"
    Workspace.init(ws_dir).close()
    (ws_dir / "parcours.yaml").write_text(
        "monitor:\n  transports:\n    webhook: {kind: file, directory: alerts}\n"
    )
    for kind, name in (("stores", "stores.csv"), ("orders", "orders.csv")):
        assert main(["ingest", kind, str(root / name), "-w", str(ws_dir)]) == 0
    assert main(["resolve", "-w", str(ws_dir)]) == 0
    return ws_dir


def _anomalies(ws_dir):
    with Workspace.open(ws_dir) as ws:
        found = ws.engine.execute(ws.engine.table("monitor_anomalies"))
    return found.assign(start=found.start.dt.date, end=found.end.dt.date)


def test_closed_store_is_an_incident_explained_by_the_store_and_alerted_once(shop, capsys):
    assert main(["monitor", "-w", str(shop)]) == 0
    assert "New incidents" in capsys.readouterr().out
    found = _anomalies(shop)
    store = found[(found.dimension == "store") & (found.dimension_value == "B")]
    closure = store[store.kpi == "orders"]
    assert len(closure) == 1
    assert closure.iloc[0]["start"] == CLOSED_FROM and closure.iloc[0]["end"] == LAST
    assert closure.iloc[0]["kind"] == "level_shift"
    overall = found[(found.dimension == "all") & (found.kpi == "orders")]
    recent = overall[overall.end == LAST]
    assert len(recent) == 1
    assert (recent.iloc[0]["top_dimension"], recent.iloc[0]["top_value"]) == ("store", "B")
    # Nothing else happened in store A or on the web: at most one chance alarm in 800
    # days of Poisson noise on those two series.
    others = found[(found.dimension_value.isin(["A", "web"])) & (found.kpi == "orders")]
    assert len(others) <= 1, others

    alerts = shop / "alerts" / "crm_webhook.csv"
    sent = list(csv.DictReader(alerts.open()))
    ids = {r["message_id"].rsplit("-", 1)[0] for r in sent}
    alerting = found[(found.dimension == "all") & found.severity.isin(["medium", "high"])]
    assert ids and ids == set(alerting[alerting.end >= LAST - dt.timedelta(days=7)].incident_id)
    # A second run finds the same incidents and sends nothing again.
    assert main(["monitor", "-w", str(shop)]) == 0
    assert list(csv.DictReader(alerts.open())) == sent
    with Workspace.open(shop) as ws:
        journal = ws.engine.execute(ws.engine.table("monitor_alerts"))
    assert len(journal) == len(ids) and set(journal.status) == {"sent"}


def test_list_prints_incidents_without_recomputing(shop, capsys):
    assert main(["monitor", "-w", str(shop)]) == 0
    capsys.readouterr()
    assert main(["monitor", "--list", "--since", str(CLOSED_FROM), "-w", str(shop)]) == 0
    out = capsys.readouterr().out
    assert "store B" in out and "level_shift" in out
    assert main(["monitor", "--since", str(CLOSED_FROM), "-w", str(shop)]) == 2


def _late_transitions(per_week: list[int]) -> pa.Table:
    """Purchase -> delivery transitions beyond 5 days, ``per_week[i]`` of them in week i."""
    monday = dt.datetime(2026, 1, 5, 12)
    ended = [
        monday + dt.timedelta(weeks=w, hours=n) for w, k in enumerate(per_week) for n in range(k)
    ]
    n = len(ended)
    return pa.table(
        {
            "journey_id": [f"j{i}" for i in range(n)],
            "customer_key": [f"c{i}" for i in range(n)],
            "from_stage": ["purchase"] * n,
            "to_stage": ["delivery"] * n,
            "started_at": [e - dt.timedelta(days=7) for e in ended],
            "ended_at": ended,
            "days": [7.0] * n,
            "threshold_days": [5.0] * n,
        }
    )


def test_late_transitions_alert_only_in_the_week_they_pile_up(make_workspace):
    from parcours.monitor.stage import journey_incidents
    from parcours.schema import JOURNEY_DURATION_ALERTS

    ws = make_workspace()
    usual = [1, 2, 0, 1, 3, 1, 2, 1, 0, 2, 1, 1]  # a few late deliveries most weeks
    late = _late_transitions([*usual, 14, *usual])
    ws.engine.write(
        JOURNEY_DURATION_ALERTS.name, ws.engine.from_arrow(late, "late"), stage="journeys"
    )
    found = journey_incidents(ws.engine)
    assert list(found["start"]) == [dt.date(2026, 1, 5) + dt.timedelta(weeks=12)]
    assert found["observed"].tolist() == [14.0] and found["expected"].tolist() == [1.0]
    assert "usually 1" in found["explanation"].iloc[0]
