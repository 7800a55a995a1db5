import datetime as dt
from types import SimpleNamespace

from parcours.terminal import cell
from parcours.views.locale import MESSAGES, fmt, text
from parcours.views.model import Column
from parcours.views.quality import ingest_view

NNBSP, NBSP = "\u202f", "\u00a0"


def test_amounts_dates_and_shares_read_as_each_language_writes_them():
    assert fmt(1452.3, "money", "fr", 2) == f"1{NNBSP}452,30{NBSP}€"
    assert fmt(1452.3, "money", "en", 2) == "€1,452.30"
    assert fmt(1452.3, "money", "fr") == f"1{NNBSP}452{NBSP}€"
    assert fmt(dt.date(2026, 10, 31), "date", "fr") == "31/10/2026"
    assert fmt(0.153, "pct", "en", 1) == "15.3%"
    assert fmt(0.153, "pct", "fr", 1).startswith("15,3")


def test_missing_values_are_empty_never_nan_or_none():
    for value in (None, float("nan"), float("inf")):
        assert fmt(value, "money", "fr") == ""
        assert cell(value, Column("x", text("col.rows"), "float")) == ""


def test_finding_carries_its_numbers_in_both_languages():
    t = text(
        "kpi.finding.multichannel",
        ratio=(2.05, "float", 1),
        multi=(1452.3, "money"),
        mono=(707.0, "money"),
    )
    assert t.fr == (
        f"Les clients multicanaux dépensent 2,0 fois plus que les clients monocanaux "
        f"(1{NNBSP}452{NBSP}€ contre 707{NBSP}€ par client actif)."
    )
    assert t.en.startswith("Multichannel customers spend 2.0 times as much")
    assert "€1,452 against €707" in t.en


def test_every_message_has_both_languages_with_the_same_placeholders():
    import string

    for key, (en, fr) in MESSAGES.items():
        names = {f[1] for f in string.Formatter().parse(en) if f[1]}
        assert names == {f[1] for f in string.Formatter().parse(fr) if f[1]}, key


def test_ingest_view_keeps_counts_and_warns_on_quarantine():
    f = SimpleNamespace(
        file="orders.csv",
        kind="orders",
        source="web",
        read=3,
        loaded=2,
        new=2,
        updated=0,
        quarantined=1,
        findings=[],
        duplicates=0,
        duplicate_examples=[],
        ignored_columns=[],
        examples=[],
        suppressed=0,
    )
    view = ingest_view(SimpleNamespace(files=[f], failures=[]))
    assert view.tables[0].rows == (("orders.csv", "orders", "web", 3, 2, 2, 0, 1),)
    assert [n.level for n in view.notes] == ["warn"]
    assert "1 rows quarantined, 2 loaded" in view.notes[0].text.en
