"""Cleaning rules as Ibis expressions, so they run in the engine on any number of rows.

Each builder takes a text column and returns the cleaned value, null when the value cannot
be made valid.
"""

from __future__ import annotations

import ibis
import phonenumbers

_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$"


def blank_to_null(text: ibis.StringValue) -> ibis.StringValue:
    """Trim white space; empty text becomes null."""
    # Not StringValue.strip(): on Spark, ibis 12 spells its character set with escapes
    # Spark does not know ('\\f', '\\v'), so 'f' and 'v' get trimmed too.
    return text.re_replace(r"^\s+|\s+$", "").nullif("")


def email(text: ibis.StringValue) -> ibis.StringValue:
    """Trimmed, lower-cased email; null when it is not an address."""
    value = blank_to_null(text).lower()
    return ibis.ifelse(value.re_search(_EMAIL), value, ibis.null("string"))


def phone(text: ibis.StringValue, country: str) -> ibis.StringValue:
    """A phone number in E.164 (``+33612345678``); null when it cannot be one.

    Numbers with an international prefix (``+`` or ``00``) keep their country; national
    numbers take ``country``'s calling code and lose its trunk prefix (the leading 0 in most
    of Europe). E.164 allows 8 to 15 digits after the ``+``.
    """
    calling_code = str(phonenumbers.country_code_for_region(country.upper()) or "")
    trunk = _national_prefix(country)
    cleaned = blank_to_null(text).re_replace(r"\(0\)", "").re_replace(r"[^0-9+]", "")
    international = cleaned.startswith("+") | cleaned.startswith("00")
    digits = cleaned.re_replace(r"\+", "")
    international_digits = ibis.ifelse(cleaned.startswith("00"), digits.substr(2), digits)
    national = ibis.ifelse(
        (ibis.literal(trunk) != "") & digits.startswith(trunk), digits.substr(len(trunk)), digits
    )
    e164 = ibis.ifelse(international, "+" + international_digits, "+" + calling_code + national)
    return ibis.ifelse(e164.re_search(r"^\+[1-9][0-9]{7,14}$"), e164, ibis.null("string"))


def _national_prefix(country: str) -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country.upper())
    return (metadata.national_prefix or "") if metadata else ""


def decimal_number(text: ibis.StringValue, decimal: str) -> ibis.FloatingValue:
    """A number written with ``decimal`` as decimal mark, thousands separators allowed."""
    value = blank_to_null(text).re_replace("[\\s\u00a0']", "")
    if decimal == ",":
        value = value.replace(".", "").replace(",", ".")
    else:
        value = value.replace(",", "")
    number = value.try_cast("float64")
    # 'NaN' and 'inf' cast on some engines; they are not amounts.
    return ibis.ifelse(number.isnan() | number.isinf(), ibis.null("float64"), number)


TRUE_WORDS = ("true", "t", "1", "yes", "y", "oui", "o", "vrai")
FALSE_WORDS = ("false", "f", "0", "no", "n", "non", "faux")


def boolean(text: ibis.StringValue) -> ibis.BooleanValue:
    """true/false in English or French, 1/0, y/n, o/n."""
    value = blank_to_null(text).lower()
    return ibis.cases(
        (value.isin(TRUE_WORDS), True), (value.isin(FALSE_WORDS), False), else_=ibis.null("boolean")
    )
