import ibis
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parcours.ingest import normalize

con = ibis.duckdb.connect()


def run(expr):
    return con.to_pyarrow(expr).as_py()


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from("67"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.sampled_from(["0{}", "+33 {}", "0033{}", "+33 (0){}"]),
    st.sampled_from(["", " ", ".", "-"]),
)
def test_french_mobiles_normalise_to_the_e164_form_of_libphonenumber(first, rest, form, sep):
    national = first + rest
    spaced = sep.join([national[0]] + [national[i : i + 2] for i in range(1, 9, 2)])
    text = form.format(spaced)
    expected = phonenumbers.format_number(
        phonenumbers.parse("0" + national, "FR"), phonenumbers.PhoneNumberFormat.E164
    )
    assert run(normalize.phone(ibis.literal(text), "FR")) == expected


@settings(max_examples=100, deadline=None)
# NUL and lone surrogates cannot be written in a SQL literal.
@given(st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=30))
def test_phone_is_either_null_or_e164(text):
    value = run(normalize.phone(ibis.literal(text), "FR"))
    assert value is None or (
        value.startswith("+") and value[1:].isdigit() and 8 <= len(value) - 1 <= 15
    )


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(r"[A-Za-z0-9._]{1,10}@[A-Za-z0-9]{1,10}\.[A-Za-z]{2,4}", fullmatch=True),
    st.sampled_from(["", " ", "  "]),
)
def test_email_is_trimmed_lower_cased_and_idempotent(address, pad):
    once = run(normalize.email(ibis.literal(pad + address + pad)))
    assert once == address.lower()
    assert run(normalize.email(ibis.literal(once))) == once


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("1 234,50", ",", 1234.5),
        ("1.234,50", ",", 1234.5),
        ("12,5", ",", 12.5),
        ("1,234.50", ".", 1234.5),
        ("-3", ".", -3.0),
        ("abc", ".", None),
        ("NaN", ".", None),
        ("", ".", None),
        ("inf", ".", None),
    ],
)
def test_decimal_numbers(text, decimal, expected):
    assert run(normalize.decimal_number(ibis.literal(text), decimal)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Oui", True), ("N", False), ("1", True), ("false", False), ("peut-être", None)],
)
def test_booleans_in_english_and_french(text, expected):
    assert run(normalize.boolean(ibis.literal(text))) == expected
