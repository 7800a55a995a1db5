import re

from parcours.cli import main
from parcours.workspace import Workspace
from tests.conftest import write

CUSTOMERS = """source_id,email,first_name,last_name
c1,ann@example.com,Ann,Lee
c2,bob@example.com,Bob,Ray
c3,ann@example.com,Ann,Lee
"""
# c1 and c3 are one person (same email): 2 persons from 3 records.
ORDERS = """order_id,customer_id,ordered_at,channel,total_amount,status
o1,c1,2026-01-10,store,100,completed
o2,c3,2026-02-10,web,300,completed
o3,c2,2026-02-15,store,50,completed
o4,c2,2026-03-01,store,-5,completed
"""


def _visible(html: str) -> str:
    body = re.sub(r"<script>.*?</script>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_report_of_a_hand_made_workspace_in_both_languages(tmp_path):
    ws_dir = tmp_path / "ws"
    assert main(["init", str(ws_dir)]) == 0
    main(
        [
            "ingest",
            "customers",
            str(write(tmp_path / "customers.csv", CUSTOMERS)),
            "-w",
            str(ws_dir),
        ]
    )
    main(["ingest", "orders", str(write(tmp_path / "orders.csv", ORDERS)), "-w", str(ws_dir)])
    assert main(["resolve", "-w", str(ws_dir)]) == 0
    for lang in ("en", "fr"):
        out = tmp_path / f"report-{lang}.html"
        assert main(["report", "--lang", lang, "--out", str(out), "-w", str(ws_dir)]) == 0
        html = out.read_text("utf-8")
        text = _visible(html)
        assert not re.search(r"\b(nan|None|inf)\b", text)
        # Nothing loaded from the network: no src or href to http(s) outside Plotly's own code.
        assert not re.search(
            r'(src|href)="https?:', re.sub(r"<script>.*?</script>", "", html, flags=re.S)
        )
        assert "Plotly.newPlot" in html
        if lang == "fr":
            assert "3 fiches clients correspondent à 2 personnes distinctes" in text
            # 1 of the 5 rows read (4 orders + ... ) is quarantined: the negative amount.
            assert "en quarantaine" in text
            # No profile yet: the stage registry names what is missing, in French, and the
            # command; no events: the journeys section says so.
            assert "Section absente : aucun profil client (parcours profile)" in text
            assert "Section absente : aucun événement chargé" in text
            # Reasons and joining methods are translated by their code, per file.
            assert "orders.csv total_amount : inférieur à 0 1" in text
            assert "même e-mail 2" in text and "fiche seule 1" in text
        else:
            assert "3 customer records are 2 distinct persons: 1 records joined" in text
            assert "Left out" in text
            assert "orders.csv total_amount: below 0 1" in text
            assert "same email 2" in text
    with Workspace.open(ws_dir) as ws:
        loaded = ws.engine.execute(ws.engine.table("orders").count())
    assert loaded == 3


def test_report_after_a_run_shows_kpis_equal_to_their_table(tmp_path):
    ws_dir = tmp_path / "ws"
    main(["init", str(ws_dir)])
    main(
        [
            "ingest",
            "customers",
            str(write(tmp_path / "customers.csv", CUSTOMERS)),
            "-w",
            str(ws_dir),
        ]
    )
    main(["ingest", "orders", str(write(tmp_path / "orders.csv", ORDERS)), "-w", str(ws_dir)])
    assert main(["run", "-w", str(ws_dir)]) == 0
    out = tmp_path / "r.html"
    assert main(["report", "--lang", "en", "--out", str(out), "-w", str(ws_dir)]) == 0
    text = _visible(out.read_text("utf-8"))
    # Persons: Ann (store 100 then web 300: multichannel), Bob (store 50): 2 buyers, basket
    # over the active period from kpi_segments.
    with Workspace.open(ws_dir) as ws:
        t = ws.engine.table("kpi_segments")
        a = ws.engine.to_pyarrow(t.filter(t.dimension == "all")).to_pylist()[0]
    assert a["customers"] == 2
    assert "of the 2 customers with a purchase bought in the last period" in text
    assert f"€{a['average_basket']:,.2f}" in text
    assert "Customer knowledge" in text and "Segments and personas" in text
