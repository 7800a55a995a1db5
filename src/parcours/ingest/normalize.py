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


def phone_e164(text: str | None, country: str) -> str | None:
    """A phone number in E.164 (``+33612345678``); None when libphonenumber finds it invalid.

    Numbers with an international prefix (``+`` or the country's, such as ``00``) keep their
    country; national numbers belong to ``country``. Plain Python: it runs once per distinct
    value (see ``validate``), never once per row.
    """
    if text is None or not text.strip():
        return None
    try:
        number = phonenumbers.parse(text, country.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Thousands separators each decimal mark allows: a group of three digits, always the same
# separator within one number (spaces include the no-break spaces of French locales).
_GROUPS = {".": [",", "'", " ", "\u00a0", "\u202f"], ",": ["\\.", "'", " ", "\u00a0", "\u202f"]}
_MARK = {".": "\\.", ",": ","}


def number_pattern(decimal: str) -> str:
    """The regular expression a number written with ``decimal`` as decimal mark matches whole.

    ``1 234,50``, ``1.234,50`` and ``12,5`` with a comma; ``1,234.50``, ``12.5`` and ``1e-07``
    (machine-written) with a dot. ``12.50`` is not a number with a comma mark, nor ``12,5``
    with a dot: the separators must form groups of three digits.
    """
    mark = _MARK[decimal]
    grouped = "|".join(f"\\d{{1,3}}(?:{sep}\\d{{3}})+" for sep in _GROUPS[decimal])
    body = f"(?:\\d+|{grouped})(?:{mark}\\d+)?|{mark}\\d+"
    if decimal == ".":
        body += "|(?:\\d+(?:\\.\\d*)?|\\.\\d+)[eE][+-]?\\d+"
    return f"^[+-]?(?:{body})$"


def decimal_number(text: ibis.StringValue, decimal: str) -> ibis.FloatingValue:
    """A number written with ``decimal`` as decimal mark; null unless it matches whole.

    Strict: thousands groups are checked, so a number of the other convention is null rather
    than a value a hundred or a thousand times too large.
    """
    value = blank_to_null(text)
    separators = "[" + "".join(_GROUPS[decimal]).replace("\\.", ".") + "]"
    digits = value.re_replace(separators, "")
    if decimal == ",":
        digits = digits.replace(",", ".")
    number = digits.try_cast("float64")
    valid = value.re_search(number_pattern(decimal)) & ~number.isinf()
    return ibis.ifelse(valid, number, ibis.null("float64"))


def number_shape(text: ibis.StringValue) -> dict[str, ibis.BooleanValue]:
    """Which decimal mark a value shows: only a dot, only a comma, or either with two values.

    ``12,90`` shows a comma, ``12.90`` a dot; ``1,250`` is ambiguous (1.25 or 1250); ``125``
    shows nothing.
    """
    value = blank_to_null(text)
    dot = value.re_search(number_pattern("."))
    comma = value.re_search(number_pattern(","))
    differ = decimal_number(text, ".") != decimal_number(text, ",")
    return {
        "dot": (dot & ~comma).fill_null(False),
        "comma": (comma & ~dot).fill_null(False),
        "ambiguous": (dot & comma & differ).fill_null(False),
    }


TRUE_WORDS = ("true", "t", "1", "yes", "y", "oui", "o", "vrai")
FALSE_WORDS = ("false", "f", "0", "no", "n", "non", "faux")


def boolean(text: ibis.StringValue) -> ibis.BooleanValue:
    """true/false in English or French, 1/0, y/n, o/n."""
    value = blank_to_null(text).lower()
    return ibis.cases(
        (value.isin(TRUE_WORDS), True), (value.isin(FALSE_WORDS), False), else_=ibis.null("boolean")
    )
