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
def test_french_mobiles_in_any_written_form_give_one_e164_form(first, rest, form, sep):
    national = first + rest
    spaced = sep.join([national[0]] + [national[i : i + 2] for i in range(1, 9, 2)])
    number = phonenumbers.parse("0" + national, "FR")
    expected = (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(number)
        else None
    )
    assert normalize.phone_e164(form.format(spaced), "FR") == expected


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("0033 6 98 76 54 32", "FR", "+33698765432"),
        ("+44 20 7946 0958", "FR", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("06 12 34", "FR", None),  # too short
        ("01 00 00 00 00 00 00", "FR", None),  # too long for France
        ("+33 0 12 34 56 78", "FR", None),  # length right, not a French number
        ("not a phone", "FR", None),
        ("  ", "FR", None),
    ],
)
def test_phone_numbers_are_parsed_and_validated_by_libphonenumber(text, country, expected):
    assert normalize.phone_e164(text, country) == expected


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
        ("1\u202f234,5", ",", 1234.5),
        ("1'234.5", ".", 1234.5),
        ("-3", ".", -3.0),
        ("1e-07", ".", 1e-07),
        # The other convention is not a number, never a value 100 or 1000 times too large.
        ("12.50", ",", None),
        ("12,5", ".", None),
        ("12,90", ".", None),
        ("1.2345,6", ",", None),
        ("1,23,456", ".", None),
        ("1 23", ",", None),
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
