"""A real ``parcours serve`` on a loopback port, driven by the official Segment client,
httpx for single calls and raw requests for gzip, auth forms, limits and bad input."""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from parcours.api.keys import create_key
from parcours.cli import main

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "parcours", *args, "-w", str(ws)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _sql(ws: Path, query: str) -> list[dict]:
    done = _cli(ws, "sql", query, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class Server:
    def __init__(self, ws: Path) -> None:
        self.ws = ws
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "parcours", "serve", "--port", str(self.port), "-w", str(ws)],
            env=ENV,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("server did not start")

    def wait_loaded(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if httpx.get(f"{self.url}/v1/health").json()["log_bytes"] == 0:
                return
            time.sleep(0.2)
        raise AssertionError("the log was not loaded")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture
def ws(tmp_path):
    assert main(["init", str(tmp_path / "ws")]) == 0
    return tmp_path / "ws"


@pytest.fixture
def server(ws):
    s = Server(ws)
    yield s
    s.stop()


def _key(ws: Path, scope: str = "write", source: str = "web") -> str:
    return create_key(ws, source, scope)[0]


ORDER = {
    "type": "track",
    "userId": "u1",
    "event": "Order Completed",
    "messageId": "m-order",
    "timestamp": "2026-03-01T10:00:00Z",
    "properties": {
        "order_id": "o1",
        "total": 25,
        "products": [
            {"sku": "s1", "price": 10, "quantity": 2},
            {"product_id": "s2", "price": 5},
        ],
    },
}


def test_official_client_identify_and_order_land_in_the_canonical_tables(ws, server):
    import segment.analytics as analytics

    client = analytics.Client(
        write_key=_key(ws), host=server.url, sync_mode=True, max_retries=0, gzip=True
    )
    client.identify(
        "u1",
        {"email": "Ann@Example.com", "firstName": "Ann", "consents": {"email": True}},
        anonymous_id="a1",
    )
    client.track("u1", "Order Completed", ORDER["properties"])
    client.track(anonymous_id="a1", event="Product Viewed", properties={"sku": "s1"})
    client.track("u1", "Order Refunded", {"order_id": "o1"})
    client.page("u1", name="Home", properties={"url": "https://shop.example/"})
    client.alias("a2", "u1")
    client.flush()
    server.wait_loaded()
    assert _sql(ws, "select source, source_id, email, first_name from customers") == [
        {"source": "web", "source_id": "u1", "email": "ann@example.com", "first_name": "Ann"}
    ]
    assert _sql(ws, "select order_id, customer_id, channel, total_amount, status from orders") == [
        {
            "order_id": "o1",
            "customer_id": "u1",
            "channel": "web",
            "total_amount": 25.0,
            "status": "returned",
        }
    ]
    lines = _sql(ws, "select line_no, sku, quantity, amount from order_lines order by line_no")
    assert lines == [
        {"line_no": 1, "sku": "s1", "quantity": 2.0, "amount": 20.0},
        {"line_no": 2, "sku": "s2", "quantity": 1.0, "amount": 5.0},
    ]
    events = _sql(ws, "select type, customer_id, anonymous_id, sku, url from events order by type")
    assert [e["type"] for e in events] == ["alias", "identify", "page_view", "product_view"]
    assert events[0]["anonymous_id"] == "a2" and events[0]["customer_id"] == "u1"
    assert events[2]["url"] == "https://shop.example/"
    assert events[3]["sku"] == "s1"
    # The order is the purchase touchpoint: no second purchase event.
    assert _sql(ws, "select channel, granted from consents") == [
        {"channel": "email", "granted": True}
    ]


def test_auth_forms_gzip_and_single_calls(ws, server):
    key = _key(ws)
    msg = {"type": "track", "userId": "u1", "event": "Signed Up"}
    forms = [
        {"headers": {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}},
        {"headers": {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}},
        {"headers": {"Authorization": f"Bearer {key}"}},
        {"body": {"writeKey": key}},
    ]
    for i, form in enumerate(forms):
        body = {"batch": [{**msg, "messageId": f"auth-{i}"}], **form.get("body", {})}
        r = httpx.post(f"{server.url}/v1/batch", json=body, headers=form.get("headers"))
        assert r.status_code == 200, r.text
    packed = gzip.compress(
        json.dumps({"batch": [{**msg, "messageId": "gz"}], "writeKey": key}).encode()
    )
    r = httpx.post(
        f"{server.url}/v1/batch",
        content=packed,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    r = httpx.post(f"{server.url}/v1/track", json={**msg, "messageId": "single"}, auth=(key, ""))
    assert r.status_code == 200
    r = httpx.post(f"{server.url}/v1/batch", json={"batch": [msg]}, auth=("pk_write_wrong", ""))
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    read_key = _key(ws, "read")
    r = httpx.post(f"{server.url}/v1/batch", json={"batch": [msg]}, auth=(read_key, ""))
    assert r.status_code == 403 and set(r.json()) == {"code", "message"}
    server.wait_loaded()
    ids = {e["event_id"] for e in _sql(ws, "select event_id from events")}
    assert ids == {"auth-0", "auth-1", "auth-2", "auth-3", "gz", "single"}


def test_limits_refuse_the_whole_request_naming_the_item(ws, server):
    key = _key(ws)
    ok = {"type": "track", "userId": "u", "event": "E"}
    big = {**ok, "properties": {"x": "a" * 33 * 1024}}
    r = httpx.post(f"{server.url}/v1/batch", json={"batch": [ok, big]}, auth=(key, ""))
    assert r.status_code == 400 and r.json()["code"] == "event_too_large"
    assert "batch[1]" in r.json()["message"]
    r = httpx.post(f"{server.url}/v1/batch", json={"batch": [ok] * 2501}, auth=(key, ""))
    assert r.status_code == 400 and r.json()["code"] == "batch_too_large"
    many = [{**ok, "properties": {"x": "a" * 30 * 1024}}] * 20
    r = httpx.post(f"{server.url}/v1/batch", json={"batch": many}, auth=(key, ""))
    assert r.status_code == 400 and r.json()["code"] == "request_too_large"
    r = httpx.post(f"{server.url}/v1/batch", content=b"{not json", auth=(key, ""))
    assert r.status_code == 400 and r.json()["code"] == "invalid_json"
    assert httpx.get(f"{server.url}/v1/health").json()["log_bytes"] == 0  # nothing written


def test_invalid_items_are_quarantined_and_valid_ones_kept_deduplicated(ws, server):
    key = _key(ws)
    items = [
        {
            "type": "track",
            "userId": "u1",
            "event": "Product Added",
            "messageId": "ok1",
            "unknown": {"x": 1},
            "properties": None,
            "timestamp": "2026-03-01 10:00:00+01:00",
        },
        {"type": "track", "userId": "u1", "messageId": "no-event"},
        {"type": "identify", "messageId": "no-id", "traits": {"email": "x@y.z"}},
        {"type": "group", "userId": "u1", "messageId": "no-group"},
        {"type": "alias", "userId": "u1", "messageId": "no-previous"},
    ]
    body = {"batch": items, "sentAt": "2026-03-01T09:00:10Z", "context": {"ip": "1.2.3.4"}}
    r = httpx.post(f"{server.url}/v1/batch", json=body, auth=(key, ""))
    assert r.status_code == 200 and r.json()["kept"] == 1 and r.json()["quarantined"] == 4
    r = httpx.post(f"{server.url}/v1/batch", json=body, auth=(key, ""))
    assert r.json()["duplicates"] == 5
    server.wait_loaded()
    rows = _sql(ws, "select event_id, type from events")
    assert rows == [{"event_id": "ok1", "type": "add_to_cart"}]
    reasons = sorted(q["reasons"] for q in _sql(ws, "select reasons from quarantine"))
    assert reasons == [
        "event: missing",
        "groupId: missing",
        "previousId: missing",
        "userId or anonymousId: missing",
    ]


def test_clock_skew_is_corrected_with_sent_at(ws, server):
    key = _key(ws)
    # The device's clock is 1 hour behind: sent 10 s after the event by its own clock.
    body = {
        "batch": [
            {
                "type": "track",
                "userId": "u",
                "event": "Product Viewed",
                "messageId": "sk",
                "timestamp": "2020-01-01T00:00:00Z",
            }
        ],
        "sentAt": "2020-01-01T00:00:10Z",
    }
    before = time.time()
    assert httpx.post(f"{server.url}/v1/batch", json=body, auth=(key, "")).status_code == 200
    server.wait_loaded()
    (row,) = _sql(ws, "select epoch(occurred_at) as t from events")
    assert before - 10 - 2 <= row["t"] <= time.time() - 10 + 2


def _configure(ws: Path, **service) -> None:
    (ws / "parcours.yaml").write_text(yaml.safe_dump({"service": service}))


def test_collected_rows_skip_the_file_mapping_of_their_source(ws):
    # The source's mapping describes its files; collected rows are already canonical.
    mapped = {"rename": {"ID_CLIENT": "customer_id"}, "values": {"channel": {"WEB": "web"}}}
    tables = {kind: mapped for kind in ("customers", "orders", "order-lines", "events")}
    (ws / "parcours.yaml").write_text(yaml.safe_dump({"sources": {"web": {"tables": tables}}}))
    key = _key(ws)
    server = Server(ws)
    try:
        view = {"type": "track", "userId": "u1", "event": "Product Viewed", "messageId": "v"}
        who = {"type": "identify", "userId": "u1", "traits": {"email": "a@b.fr"}, "messageId": "i"}
        batch = [view, who, ORDER]
        assert (
            httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, auth=(key, "")).status_code
            == 200
        )
        server.wait_loaded()
    finally:
        server.stop()
    assert _sql(ws, "select count(*) as n from events where type = 'product_view'") == [{"n": 1}]
    assert _sql(ws, "select email from customers") == [{"email": "a@b.fr"}]
    assert _sql(ws, "select order_id, channel from orders") == [
        {"order_id": "o1", "channel": "web"}
    ]


@pytest.mark.spark
def test_collected_events_load_into_a_spark_workspace(ws):
    import pyarrow.parquet as pq

    config = yaml.safe_load((ws / "parcours.yaml").read_text()) or {}
    spark = {"master": "local[1]", "conf": {"spark.sql.shuffle.partitions": "1"}}
    (ws / "parcours.yaml").write_text(yaml.safe_dump({**config, "engine": "spark", "spark": spark}))
    key = _key(ws)
    server = Server(ws)
    try:
        view = {"type": "track", "userId": "u1", "event": "Product Viewed", "messageId": "v"}
        who = {"type": "identify", "userId": "u1", "traits": {"email": "a@b.fr"}, "messageId": "i"}
        batch = {"batch": [view, who, ORDER]}
        assert httpx.post(f"{server.url}/v1/batch", json=batch, auth=(key, "")).status_code == 200
        server.wait_loaded(300)  # the loader starts a local Spark session first
    finally:
        server.stop()

    def table(name: str) -> list[dict]:
        return pq.read_table(ws / "spark-tables" / name).to_pylist()

    # The order lands as an order, not also as an event.
    assert sorted(e["type"] for e in table("events")) == ["identify", "product_view"]
    assert [c["email"] for c in table("customers")] == ["a@b.fr"]
    assert [(o["order_id"], o["channel"]) for o in table("orders")] == [("o1", "web")]


def test_kill_9_right_after_a_200_loses_nothing(ws):
    _configure(ws, load_interval_seconds=3600)  # the loader never runs before the kill
    key = _key(ws)
    server = Server(ws)
    ids = [f"k{i}" for i in range(50)]
    for i in range(0, 50, 10):
        batch = [
            {"type": "track", "userId": "u", "event": "Product Viewed", "messageId": m}
            for m in ids[i : i + 10]
        ]
        r = httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, auth=(key, ""))
        assert r.status_code == 200
    server.kill()
    _configure(ws, load_interval_seconds=0.5)
    server = Server(ws)  # a new server loads what the killed one acknowledged
    try:
        server.wait_loaded()
        assert sorted(r["event_id"] for r in _sql(ws, "select event_id from events")) == sorted(ids)
    finally:
        server.stop()


def test_back_pressure_answers_429_with_retry_after(ws):
    _configure(ws, max_log_mb=0.001, load_interval_seconds=3600)
    key = _key(ws)
    server = Server(ws)
    try:
        batch = [{"type": "track", "userId": "u", "event": "E", "properties": {"x": "a" * 600}}]
        codes = [
            httpx.post(
                f"{server.url}/v1/batch",
                json={"batch": [{**batch[0], "messageId": str(i)}]},
                auth=(key, ""),
            ).status_code
            for i in range(3)
        ]
        assert codes[0] == 200 and codes[-1] == 429
        r = httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, auth=(key, ""))
        assert r.headers["Retry-After"] == "5" and r.json()["code"] == "too_many_requests"
    finally:
        server.stop()


def test_cli_reads_and_writes_the_workspace_while_serving(ws, server, tmp_path):
    key = _key(ws)
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,ordered_at,channel,total_amount\nS1,c1,2026-01-05,store,12\n"
    )
    for i in range(20):
        batch = [{"type": "track", "userId": "u", "event": "Product Viewed", "messageId": f"c{i}"}]
        assert (
            httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, auth=(key, "")).status_code
            == 200
        )
        if i == 5:
            done = _cli(ws, "ingest", "orders", str(orders))
            assert done.returncode == 0, done.stderr
        if i == 10:
            done = _cli(ws, "sql", "select count(*) from orders")
            assert done.returncode == 0 and "locked" not in done.stderr
    server.wait_loaded()
    assert len(_sql(ws, "select event_id from events")) == 20
    assert _sql(ws, "select order_id from orders") == [{"order_id": "S1"}]


def test_profile_routes_need_a_read_key(ws, server):
    write, read = _key(ws), _key(ws, "read")
    r = httpx.get(f"{server.url}/v1/profiles/x", headers={"Authorization": f"Bearer {write}"})
    assert r.status_code == 403
    r = httpx.get(f"{server.url}/v1/profiles/x")
    assert r.status_code == 401
    r = httpx.get(f"{server.url}/v1/profiles/x", headers={"Authorization": f"Bearer {read}"})
    assert r.status_code == 404 and set(r.json()) == {"code", "message"}
    assert httpx.get(f"{server.url}/openapi.json").json()["paths"]["/v1/batch"]


def test_profile_lookup_and_timeline_after_resolve(ws, server):
    write, read = _key(ws), _key(ws, "read")
    batch = [
        {
            "type": "identify",
            "userId": "u1",
            "anonymousId": "a1",
            "messageId": "i1",
            "traits": {"email": "ann@example.com", "firstName": "Ann"},
            "timestamp": "2026-03-01T10:00:00Z",
        },
        {
            "type": "track",
            "anonymousId": "a1",
            "event": "Product Viewed",
            "messageId": "v1",
            "properties": {"sku": "s1"},
            "timestamp": "2026-03-01T09:00:00Z",
        },
        {**ORDER, "timestamp": "2026-03-01T11:00:00Z"},
    ]
    assert (
        httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, auth=(write, "")).status_code
        == 200
    )
    server.wait_loaded()
    done = _cli(ws, "resolve")  # a command writing the workspace while it is served
    assert done.returncode == 0, done.stderr
    auth = {"Authorization": f"Bearer {read}"}
    r = httpx.get(f"{server.url}/v1/profiles", params={"email": "ANN@example.com"}, headers=auth)
    assert r.status_code == 200, r.text
    found = r.json()
    assert found["identifiers"] == [{"source": "web", "source_id": "u1", "method": "single"}]
    assert found["golden_record"]["first_name"] == "Ann"
    key = found["customer_key"]
    r = httpx.get(f"{server.url}/v1/profiles/{key}/timeline", params={"limit": 2}, headers=auth)
    rows = r.json()["data"]
    # The anonymous view is the person's once the identify linked the visitor.
    assert [t["touchpoint"] for t in rows] == ["product_view", "identify"]
    r = httpx.get(f"{server.url}/v1/profiles/{key}/timeline", params={"offset": 2}, headers=auth)
    assert [t["touchpoint"] for t in r.json()["data"]] == ["order"]
    log = (ws / "service" / "access.log").read_text()
    assert key in log and "ann@example.com" not in log.lower()
    admin = _key(ws, "admin")
    r = httpx.get(f"{server.url}/v1/privacy/{key}/export", params={}, headers=auth)
    assert r.status_code == 403  # a read key may not make privacy requests
    r = httpx.get(
        f"{server.url}/v1/privacy/{key}/export", headers={"Authorization": f"Bearer {admin}"}
    )
    tables = r.json()["tables"]
    assert [c["email"] for c in tables["customers"]] == ["ann@example.com"]
    assert [o["order_id"] for o in tables["orders"]] == ["o1"]
    assert sorted(e["event_id"] for e in tables["events"]) == ["i1"]
    assert {e["event_id"] for e in tables["customer_events"]} == {"i1", "v1"}
    done = _cli(ws, "privacy", "export", "web:u1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tables"] == tables
    done = _cli(ws, "privacy", "export", "nobody@example.com")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_openapi_fuzzing_finds_no_500(ws, server):
    read = _key(ws, "read")
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "20",
            "-H",
            f"Authorization: Bearer {read}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]


ZEPH = {"email": "zephyrine.quill@example.org", "phone": "+33612345678", "name": "Quillfeather"}


def _person_files(folder: Path) -> None:
    (folder / "customers.csv").write_text(
        "source_id,email,phone,first_name,last_name,city,country\n"
        f"z1,{ZEPH['email']},{ZEPH['phone']},Zephyrine,{ZEPH['name']},Lyon,FR\n"
        "b1,bob@example.com,+33699999999,Bob,Martin,Paris,FR\n"
    )
    (folder / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,channel,total_amount\n"
        "o1,z1,2026-01-05,web,40\no2,b1,2026-01-06,web,20\no3,z1,2026-02-05,web,15\n"
    )
    (folder / "events.csv").write_text(
        "event_id,occurred_at,type,channel,customer_id,anonymous_id,url\n"
        "e1,2026-01-05 09:00,page_view,web,,anon-zeph-123,/p\n"
        "e2,2026-01-05 09:05,identify,web,z1,anon-zeph-123,/login\n"
        "e3,2026-01-06 09:00,page_view,web,b1,,/q\n"
    )


@pytest.fixture(scope="module")
def _run_workspace(tmp_path_factory):
    """Zephyrine's and Bob's records ingested from files outside the workspace, then run."""
    root = tmp_path_factory.mktemp("people")
    source = root / "in"
    source.mkdir()
    _person_files(source)
    ws = root / "ws"
    assert main(["init", str(ws)]) == 0
    for kind in ("customers", "orders", "events"):
        done = _cli(ws, "ingest", kind, str(source / f"{kind}.csv"), "--source", "web")
        assert done.returncode == 0, done.stderr
    done = _cli(ws, "run")
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def people(_run_workspace, tmp_path):
    """A copy of the run workspace of Zephyrine and Bob, and the folder of its input files."""
    shutil.copytree(_run_workspace, tmp_path / "people")
    return tmp_path / "people" / "ws", tmp_path / "people" / "in"


def _files_holding(ws: Path, needles: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in ws.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [n for n in needles if n.encode() in data]
            if hits:
                found[str(path.relative_to(ws))] = hits
    return found


def test_erase_leaves_no_byte_of_the_person_and_keeps_them_out(people):
    ws, source = people
    _configure(ws, load_interval_seconds=3600)  # collected messages stay in the log
    admin, write = _key(ws, "admin"), _key(ws)
    server = Server(ws)
    try:
        batch = [
            {
                "type": "identify",
                "userId": "z1",
                "messageId": "zi",
                "traits": {"email": ZEPH["email"]},
            },
            {"type": "page", "anonymousId": "anon-zeph-123", "messageId": "zp"},
            {"type": "track", "userId": "b1", "event": "Product Viewed", "messageId": "bob-view"},
        ]
        r = httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, auth=(write, ""))
        assert r.status_code == 200
        needles = [ZEPH["email"], ZEPH["phone"], ZEPH["name"], "anon-zeph-123"]
        before = _files_holding(ws, needles)
        assert set(before["parcours.duckdb"]) >= {ZEPH["email"], ZEPH["name"]}
        assert any(p.startswith("service/log/") for p in before)
        auth = {"Authorization": f"Bearer {admin}"}
        r = httpx.get(f"{server.url}/v1/profiles", params={"email": ZEPH["email"]}, headers=auth)
        key = r.json()["customer_key"]
        r = httpx.post(
            f"{server.url}/v1/privacy/{key}/erase", headers={"Authorization": f"Bearer {write}"}
        )
        assert r.status_code == 403
        r = httpx.post(f"{server.url}/v1/privacy/{key}/erase", headers=auth, timeout=120)
        assert r.status_code == 200, r.text
        erased = r.json()
        assert erased["orders_deidentified"] == 2 and erased["log_messages"] == 2
        assert {"customers", "events", "identity_map", "customers_golden"} <= set(erased["rows"])
        assert _files_holding(ws, needles) == {}
        r = httpx.get(f"{server.url}/v1/profiles/{key}", headers=auth)
        assert r.status_code == 404
        # A later event about the person is dropped before the log.
        again = [{**batch[0], "messageId": "zi2"}, {**batch[1], "messageId": "zp2"}]
        r = httpx.post(f"{server.url}/v1/batch", json={"batch": again}, auth=(write, ""))
        assert r.json()["suppressed"] == 2
        assert _files_holding(ws, needles) == {}
    finally:
        server.stop()
    # Bob's message is still waiting in the log; a later ingest does not bring Zephyrine back.
    assert "bob-view" in "".join(p.read_text() for p in (ws / "service" / "log").glob("*.jsonl"))
    for kind in ("customers", "orders", "events"):
        assert (
            _cli(ws, "ingest", kind, str(source / f"{kind}.csv"), "--source", "web").returncode == 0
        )
    assert _sql(ws, "select source_id from customers") == [{"source_id": "b1"}]
    assert _sql(ws, "select event_id from events") == [{"event_id": "e3"}]
    orders = _sql(ws, "select order_id, customer_id from orders order by order_id")
    assert orders == [
        {"order_id": "o1", "customer_id": None},
        {"order_id": "o2", "customer_id": "b1"},
        {"order_id": "o3", "customer_id": None},
    ]
    assert _files_holding(ws, [ZEPH["email"], ZEPH["name"]]) == {}


def test_an_order_and_an_identify_update_the_profile_without_a_run(people):
    ws, _ = people
    write, read = _key(ws), _key(ws, "read")
    auth = {"Authorization": f"Bearer {read}"}
    server = Server(ws)
    try:
        url = f"{server.url}/v1/profiles"
        bob = httpx.get(url, params={"email": "bob@example.com"}, headers=auth, timeout=60).json()
        assert (bob["profile"]["orders"], bob["profile"]["revenue"]) == (1, 20.0)
        order = {
            **ORDER,
            "userId": "b1",
            "messageId": "live-o9",
            "timestamp": "2026-01-20T10:00:00Z",
            "properties": {"order_id": "o9", "total": 30, "products": [{"sku": "s1", "price": 30}]},
        }
        app_login = {  # a new record of Bob's, known by his email
            "type": "identify",
            "userId": "w-bob",
            "messageId": "live-i1",
            "traits": {"email": "BOB@example.com"},
        }
        stranger = {"type": "identify", "userId": "n1", "traits": {"email": "new@example.com"}}
        batch = [order, app_login, {**stranger, "messageId": "live-i2"}]
        r = httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, auth=(write, ""))
        assert r.status_code == 200
        server.wait_loaded()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            after = httpx.get(f"{url}/{bob['customer_key']}", headers=auth, timeout=60).json()
            if after["profile"]["orders"] == 2:
                break
            time.sleep(0.2)
        p = after["profile"]
        assert (p["orders"], p["revenue"]) == (2, 50.0)
        assert p["last_order_at"].startswith("2026-01-20") and p["lifecycle_segment"]
        assert {"source": "web", "source_id": "w-bob", "method": "email"} in after["identifiers"]
        new = httpx.get(url, params={"email": "new@example.com"}, headers=auth, timeout=60).json()
        assert new["identifiers"] == [{"source": "web", "source_id": "n1", "method": "single"}]
        assert new["customer_key"] != bob["customer_key"]
    finally:
        server.stop()


def test_sql_during_a_run_answers_from_the_read_snapshot(people):
    from parcours.lock import WorkspaceLock

    ws, _ = people
    run = subprocess.Popen(
        [sys.executable, "-m", "parcours", "run", "-w", str(ws)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = WorkspaceLock(ws / "parcours.duckdb.lock")
    try:
        deadline = time.monotonic() + 60
        while lock.holder() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "parcours run" in (lock.holder() or "")
        done = _cli(ws, "sql", "select source_id from customers order by 1", "--format", "json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == [{"source_id": "b1"}, {"source_id": "z1"}]
        assert "in use by 'parcours run" in done.stderr and "lock" not in done.stderr.lower()
        assert run.poll() is None  # the answer came while the run was still writing
    finally:
        _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err


def test_segment_routes_serve_the_demo_audiences_page_by_page(demo_world, tmp_path):
    from parcours.pipeline import run_stage

    ws = demo_world.keyed_copy(tmp_path / "demo")
    for name in ("profile", "segments"):
        run_stage(ws, name)
    sizes = {
        r["lifecycle_segment"]: r["n"]
        for r in ws.engine.query(
            "select lifecycle_segment, count(*) as n from customer_profile group by 1"
        ).to_pylist()
    }
    vip = sorted(
        r["customer_key"]
        for r in ws.engine.query(
            "select customer_key from customer_profile where lifecycle_segment = 'vip'"
        ).to_pylist()
    )
    ws.close()
    read = _key(ws.dir, "read")
    auth = {"Authorization": f"Bearer {read}"}
    server = Server(ws.dir)
    try:
        r = httpx.get(f"{server.url}/v1/segments", headers=auth, timeout=60)
        served = {s["name"]: s["members"] for s in r.json()["data"]}
        assert {k: v for k, v in served.items() if k.startswith("lifecycle.")} == {
            f"lifecycle.{k}": v for k, v in sizes.items()
        }
        assert len(vip) > 100
        members, offset = [], 0
        while True:
            page = httpx.get(
                f"{server.url}/v1/segments/lifecycle.vip/members",
                params={"limit": 1000, "offset": offset},
                headers=auth,
                timeout=60,
            ).json()
            assert page["total"] == len(vip)
            members += [m["customer_key"] for m in page["data"]]
            if page["count"] < 1000:
                break
            offset += 1000
        assert members == vip
        r = httpx.get(
            f"{server.url}/v1/segments/lifecycle.vip/members",
            params={"limit": 5, "format": "csv"},
            headers=auth,
            timeout=60,
        )
        lines = r.text.splitlines()
        assert lines[0] == "customer_key" and len(lines) == 6  # no golden records: keys only
        assert [line.split(",")[0] for line in lines[1:]] == vip[:5]
        r = httpx.get(f"{server.url}/v1/segments/lifecycle.nobody/members", headers=auth)
        assert r.status_code == 404 and set(r.json()) == {"code", "message"}
    finally:
        server.stop()
