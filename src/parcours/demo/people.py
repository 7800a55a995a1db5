"""The demo's people and the records each source holds about them.

``make_persons`` draws who the people are (name, birth date, address, e-mail, phone) and
plants the hard identity cases (twins, siblings, a shared e-mail, a married name, a move).
``make_records`` writes one source's view of some of them, with that source's mess: typos,
dropped accents, swapped names, another e-mail, a phone in another format, a missing field.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parcours.demo import formats, names
from parcours.demo.behaviours import (
    BEHAVIOURS,
    IDENTITY_CASES,
    IDENTITY_NOISE,
    ORDER_CHANNELS,
    TouristBehaviour,
)
from parcours.demo.catalogue import AREAS, STORE_INDEX, STORES, TOURIST_STORES
from parcours.demo.chunk import SourceRecords
from parcours.demo.columns import Columns

BEHAVIOUR_NAMES = tuple(BEHAVIOURS)
GENDERS = ("f", "m", "x")
CASES = ("none", "twin", "sibling", "shared_email_owner", "shared_email_partner")
EMAIL_KINDS = ("personal", "pro", "shared", "missing", "second_address")
PHONE_FORMATS = ("spaced", "compact", "dotted", "e164", "e164_spaced", "intl00")

POSTAL_CODES = pa.array([pc_ for a in AREAS for pc_ in a.postal_codes], pa.string())
POSTAL_AREA = np.array([i for i, a in enumerate(AREAS) for _ in a.postal_codes], np.int16)
_POSTAL_START = np.cumsum([0] + [len(a.postal_codes) for a in AREAS])[:-1]
_POSTAL_COUNT = np.array([len(a.postal_codes) for a in AREAS])
AREA_CITY = pa.array([a.city for a in AREAS], pa.string())
AREA_REGION = pa.array([a.region for a in AREAS], pa.string())
AREA_STORE = np.array([STORE_INDEX[a.store] for a in AREAS], np.int16)
AREA_LOCAL = np.array([a.local_store for a in AREAS])
AREA_WEIGHT = np.array([a.weight for a in AREAS])
STORE_REGION = np.array([s.region for s in STORES])
_EPOCH = date(1970, 1, 1)


def _choice(rng: np.random.Generator, probs: dict, size: int, order: tuple) -> np.ndarray:
    p = np.array([probs.get(k, 0.0) for k in order], np.float64)
    return rng.choice(len(order), size=size, p=p / p.sum()).astype(np.int8)


def _areas(rng: np.random.Generator, size: int, local_only: bool) -> np.ndarray:
    w = AREA_WEIGHT * (AREA_LOCAL if local_only else 1.0)
    return rng.choice(len(AREAS), size=size, p=w / w.sum()).astype(np.int16)


def make_persons(
    rng: np.random.Generator, first_gid: int, behaviour: np.ndarray, as_of: date
) -> Columns:
    """Draw the people of one chunk.

    Parameters
    ----------
    rng : numpy.random.Generator
        The chunk's random source.
    first_gid : int
        Global index of the chunk's first person.
    behaviour : numpy.ndarray
        Behaviour index of each person (into ``BEHAVIOURS``).
    as_of : datetime.date
        End of the history, for ages.

    Returns
    -------
    Columns
        One row per person: identity, address, contact means, household and case.
    """
    n = len(behaviour)
    beh = [BEHAVIOURS[name] for name in BEHAVIOUR_NAMES]
    p = Columns(gid=first_gid + np.arange(n, dtype=np.int64), behaviour=behaviour.astype(np.int8))

    main = np.zeros(n, np.int8)
    age_mean = np.empty(n)
    age_sd = np.empty(n)
    for b, spec in enumerate(beh):
        sel = np.flatnonzero(behaviour == b)
        main[sel] = _choice(rng, spec.channels, len(sel), ORDER_CHANNELS)
        age_mean[sel], age_sd[sel] = spec.age_mean, spec.age_sd
    p["main"] = main

    u = rng.random(n)
    p["gender"] = np.where(u < 0.505, 0, np.where(u < 0.99, 1, 2)).astype(np.int8)
    f_idx = rng.choice(names.N_FIRST_F, size=n, p=_renorm(names.FIRST.weights[: names.N_FIRST_F]))
    m_idx = names.N_FIRST_F + rng.choice(
        len(names.FIRST.names) - names.N_FIRST_F,
        size=n,
        p=_renorm(names.FIRST.weights[names.N_FIRST_F :]),
    )
    p["first"] = np.where(
        p["gender"] == 0,
        f_idx,
        np.where(p["gender"] == 1, m_idx, np.where(u > 0.995, f_idx, m_idx)),
    ).astype(np.int32)
    p["last"] = rng.choice(len(names.LAST.names), size=n, p=names.LAST.weights).astype(np.int32)
    age = np.clip(rng.normal(age_mean, age_sd), 18, 90)
    today = (as_of - _EPOCH).days
    p["birth"] = (today - age * 365.25).astype(np.int32)

    # Where they live: store-goers near a store, online customers anywhere, tourists far
    # from the tourist store they visit.
    store_main = (main == 0) | (main == 3)
    area = np.where(store_main, _areas(rng, n, True), _areas(rng, n, False))
    store = AREA_STORE[area].copy()
    for b, spec in enumerate(beh):
        if not isinstance(spec, TouristBehaviour):
            continue
        sel = np.flatnonzero(behaviour == b)
        codes = list(spec.store_weights)
        w = np.array([spec.store_weights[c] for c in codes])
        visit = np.array([STORE_INDEX[c] for c in codes])[
            rng.choice(len(codes), len(sel), p=w / w.sum())
        ]
        store[sel] = visit
        for s in TOURIST_STORES:
            here = sel[visit == s]
            if len(here):
                mask = np.array([a.region != STORES[s].region for a in AREAS], np.float64)
                area[here] = rng.choice(len(AREAS), size=len(here), p=_renorm(AREA_WEIGHT * mask))
    p["area"] = area.astype(np.int16)
    p["store"] = store.astype(np.int16)
    p["local"] = AREA_LOCAL[area] & (store == AREA_STORE[area])
    _draw_address(rng, p, "")

    p["email_pattern"] = rng.integers(0, 5, n).astype(np.int8)
    p["email_domain"] = rng.choice(
        len(names.EMAIL_DOMAINS), size=n, p=_renorm(np.array(names.EMAIL_DOMAIN_WEIGHTS))
    ).astype(np.int8)
    p["pro_domain"] = np.where(
        rng.random(n) < IDENTITY_CASES.pro_email,
        rng.integers(0, len(names.COMPANY_DOMAINS), n),
        -1,
    ).astype(np.int8)
    p["mobile_prefix"] = np.where(rng.random(n) < 0.75, 6, 7).astype(np.int8)
    p["has_mobile"] = rng.random(n) < IDENTITY_CASES.mobile

    # A move: the store card keeps the old address.
    p["moved"] = rng.random(n) < IDENTITY_CASES.moved
    _draw_address(rng, p, "old_")
    # A married name: the store card keeps the maiden name.
    maiden_ok = (p["gender"] == 0) & (age >= 25) & (age <= 50)
    maiden = rng.choice(len(names.LAST.names), size=n, p=names.LAST.weights)
    maiden = np.where(maiden == p["last"], (maiden + 1) % len(names.LAST.names), maiden)
    p["maiden"] = np.where(
        maiden_ok & (rng.random(n) < IDENTITY_CASES.married_name), maiden, -1
    ).astype(np.int32)
    _plant_households(rng, p)
    return p


def _renorm(w: np.ndarray) -> np.ndarray:
    w = np.asarray(w, np.float64)
    return w / w.sum()


def _draw_address(rng: np.random.Generator, p: Columns, prefix: str) -> None:
    n = p.rows
    if prefix:
        area = _areas(rng, n, False)
        same = rng.random(n) < 0.5  # half of the moves stay in the same area
        area = np.where(same, p["area"], area).astype(np.int16)
        p[prefix + "area"] = area
    else:
        area = p["area"]
    p[prefix + "postal"] = (
        _POSTAL_START[area] + (rng.random(n) * _POSTAL_COUNT[area]).astype(np.int64)
    ).astype(np.int16)
    p[prefix + "street_no"] = (1 + rng.geometric(1 / 25, n)).clip(1, 240).astype(np.int16)
    p[prefix + "street_type"] = rng.choice(
        len(names.STREET_TYPES), size=n, p=_renorm(np.array(names.STREET_TYPE_WEIGHTS))
    ).astype(np.int8)
    p[prefix + "street"] = rng.integers(0, len(names.STREET_NAMES), n).astype(np.int16)
    p[prefix + "complement"] = np.where(
        rng.random(n) < 0.1, rng.integers(0, len(names.ADDRESS_COMPLEMENTS), n), -1
    ).astype(np.int8)


def _plant_households(rng: np.random.Generator, p: Columns) -> None:
    """Pairs at one address: twins, siblings, and couples sharing one e-mail.

    The second person of a pair takes the first one's last name, address and store; twins
    also take the birth date. Only store-goers are paired, so both have a store card.
    """
    n = p.rows
    p["case"] = np.zeros(n, np.int8)
    p["household"] = np.full(n, -1, np.int64)
    p["partner"] = np.full(n, -1, np.int64)
    tourist = [
        i for i, b in enumerate(BEHAVIOUR_NAMES) if isinstance(BEHAVIOURS[b], TouristBehaviour)
    ]
    candidates = np.flatnonzero(
        (p["main"] == 0) & ~np.isin(p["behaviour"], tourist) & ~p["moved"] & (p["maiden"] < 0)
    )
    candidates = rng.permutation(candidates)
    pairs = {
        1: int(round(IDENTITY_CASES.twins * n / 2)),
        2: int(round(IDENTITY_CASES.siblings * n / 2)),
        3: int(round(IDENTITY_CASES.shared_email * n / 2)),
    }
    at = 0
    for case, k in pairs.items():
        k = min(k, (len(candidates) - at) // 2)
        a = candidates[at : at + k]
        b = candidates[at + k : at + 2 * k]
        at += 2 * k
        if not k:
            continue
        for col in (
            "area",
            "postal",
            "street_no",
            "street_type",
            "street",
            "complement",
            "store",
            "local",
        ):
            p[col][b] = p[col][a]
        same_name = np.ones(k, bool) if case != 3 else rng.random(k) < 0.7
        p["last"][b] = np.where(same_name, p["last"][a], p["last"][b])
        if case == 1:
            p["birth"][b] = p["birth"][a]
        elif case == 2:
            gap = rng.integers(400, 3000, k) * np.where(rng.random(k) < 0.5, -1, 1)
            p["birth"][b] = p["birth"][a] + gap
        else:
            # Partners are adults of about the same age, of the other gender mostly.
            p["birth"][b] = p["birth"][a] + rng.integers(-2500, 2500, k)
        # Different first names, within the partner's gender list.
        same = p["first"][b] == p["first"][a]
        p["first"][b] = np.where(same, _other_first(p["first"][b]), p["first"][b])
        p["case"][a] = 3 if case == 3 else case
        p["case"][b] = 4 if case == 3 else case
        p["household"][a] = p["gid"][a]
        p["household"][b] = p["gid"][a]
        p["partner"][a] = b
        p["partner"][b] = a


def _other_first(first: np.ndarray) -> np.ndarray:
    f = names.N_FIRST_F
    total = len(names.FIRST.names)
    return np.where(first < f, (first + 1) % f, f + (first - f + 1) % (total - f))


# -- formatted fields ---------------------------------------------------------------------
def personal_email(
    p: Columns, idx: np.ndarray, num: np.ndarray, domain: np.ndarray | None = None
) -> pa.Array:
    """The personal e-mail of people ``idx``: a name pattern, a number, a domain.

    The number is unique per person and the pattern has no digit, so two people never
    share an e-mail by chance.

    Parameters
    ----------
    p : Columns
        The people.
    idx : numpy.ndarray
        Positions of the people.
    num : numpy.ndarray
        Each person's e-mail number.
    domain : numpy.ndarray, optional
        Domain positions to use instead of the person's own.

    Returns
    -------
    pyarrow.Array
        Lower-case e-mail addresses.
    """
    first = names.FIRST.token.take(pa.array(p["first"][idx], pa.int64()))
    last = names.LAST.token.take(pa.array(p["last"][idx], pa.int64()))
    initial = names.FIRST.initial.take(pa.array(p["first"][idx], pa.int64()))
    pattern = p["email_pattern"][idx]
    local = first
    for k, parts in enumerate(
        (
            (first, ".", last),
            (first, last),
            (initial, ".", last),
            (last, ".", first),
            (first, "_", last),
        )
    ):
        local = pc.if_else(pa.array(pattern == k), formats.join(*parts), local)
    dom = p["email_domain"][idx] if domain is None else domain
    domains = pa.array(names.EMAIL_DOMAINS).take(pa.array(dom, pa.int64()))
    local = pc.replace_substring(local, "-", "")
    return formats.join(local, pc.cast(pa.array(num), pa.string()), "@", domains)


def pro_email(p: Columns, idx: np.ndarray, num: np.ndarray) -> pa.Array:
    """The work e-mail of people ``idx`` (null for those without one)."""
    first = names.FIRST.initial.take(pa.array(p["first"][idx], pa.int64()))
    last = names.LAST.token.take(pa.array(p["last"][idx], pa.int64()))
    dom = p["pro_domain"][idx]
    domains = pa.array(names.COMPANY_DOMAINS).take(pa.array(np.maximum(dom, 0), pa.int64()))
    out = formats.join(
        first,
        ".",
        pc.replace_substring(last, "-", ""),
        pc.cast(pa.array(num), pa.string()),
        "@",
        domains,
    )
    return pc.if_else(pa.array(dom >= 0), out, pa.nulls(len(idx), pa.string()))


def allocated_mobile_prefix(prefix: np.ndarray, number: np.ndarray) -> np.ndarray:
    """The mobile prefix (6 or 7) with ``number`` in a range France allocates to mobiles.

    Ingestion validates phones with libphonenumber: 06 39, 06 90-94, 06 96-97 and 07 00-29
    are not mobile numbers. Every eight digits are valid after one of the two prefixes, so
    switching the prefix keeps each person's number unique.
    """
    first, second = number // 10_000_000, (number // 1_000_000) % 10
    bad6 = ((first == 3) & (second == 9)) | ((first == 9) & np.isin(second, [0, 1, 2, 3, 4, 6, 7]))
    bad7 = first < 3
    return np.where((prefix == 6) & bad6, 7, np.where((prefix == 7) & bad7, 6, prefix))


def phone_text(prefix: np.ndarray, number: np.ndarray, fmt: np.ndarray) -> pa.Array:
    """A French mobile written in one of ``PHONE_FORMATS`` (null where ``fmt`` is -1).

    Parameters
    ----------
    prefix : numpy.ndarray
        6 or 7, the digit after the trunk 0.
    number : numpy.ndarray
        The last eight digits, as integers.
    fmt : numpy.ndarray
        Format positions in ``PHONE_FORMATS``, -1 for no phone.

    Returns
    -------
    pyarrow.Array
        The phone numbers as text.
    """
    prefix = allocated_mobile_prefix(prefix, number)
    digits = formats.join(
        pc.cast(pa.array(prefix.astype(np.int64)), pa.string()),
        pc.utf8_lpad(pc.cast(pa.array(number), pa.string()), 8, "0"),
    )
    a, b, c, d, e = (
        pc.utf8_slice_codeunits(digits, s, s + w)
        for s, w in ((0, 1), (1, 2), (3, 2), (5, 2), (7, 2))
    )
    forms = {
        "spaced": formats.join("0", a, " ", b, " ", c, " ", d, " ", e),
        "compact": formats.join("0", digits),
        "dotted": formats.join("0", a, ".", b, ".", c, ".", d, ".", e),
        "e164": formats.join("+33", digits),
        "e164_spaced": formats.join("+33 ", a, " ", b, " ", c, " ", d, " ", e),
        "intl00": formats.join("0033", digits),
    }
    out = pa.nulls(len(fmt), pa.string())
    for k, name in enumerate(PHONE_FORMATS):
        out = pc.if_else(pa.array(fmt == k), forms[name], out)
    return out


def street_line(p: Columns, idx: np.ndarray, prefix: np.ndarray, short: np.ndarray) -> pa.Array:
    """Street address of people ``idx``; ``prefix`` true takes the old address."""

    def col(name: str) -> np.ndarray:
        return np.where(prefix, p["old_" + name][idx], p[name][idx])

    types = pa.array(names.STREET_TYPES).take(pa.array(col("street_type"), pa.int64()))
    shorts = pa.array(names.STREET_TYPE_SHORT).take(pa.array(col("street_type"), pa.int64()))
    kind = pc.if_else(pa.array(short), shorts, types)
    street = pa.array(names.STREET_NAMES).take(pa.array(col("street"), pa.int64()))
    number = pc.cast(pa.array(col("street_no").astype(np.int64)), pa.string())
    return formats.join(number, " ", kind, " ", street)


# -- source records -----------------------------------------------------------------------
def make_records(
    rng: np.random.Generator,
    p: Columns,
    who: np.ndarray,
    role: np.ndarray,
    created: np.ndarray,
    source: str,
    noise,
    email_num: np.ndarray,
    mobile: np.ndarray,
) -> Columns:
    """One source's records of people ``who``, with the source's mess.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    p : Columns
        The people.
    who : numpy.ndarray
        Person position of each record.
    role : numpy.ndarray
        0 for a person's main record in the source, 1 for a duplicate.
    created : numpy.ndarray
        Creation time of each record, in days.
    source : str
        Source name (``store``, ``web``, ``app``, ``emailing``, ``service``).
    noise : behaviours.SourceNoise
        The source's noise probabilities.
    email_num : numpy.ndarray
        E-mail number of every person of ``p``.
    mobile : numpy.ndarray
        Last eight mobile digits of every person of ``p``.

    Returns
    -------
    Columns
        Canonical-meaning fields (``first_name``, ``email``, ``phone``...) as text, and the
        truth of what was done to each record (``typo``, ``email_kind``...).
    """
    n = len(who)
    r = Columns(person=who, role=role.astype(np.int8), created=created)
    store = source == "store"
    maiden = store & (p["maiden"][who] >= 0) if store else np.zeros(n, bool)
    last_idx = np.where(maiden, p["maiden"][who], p["last"][who])
    first_idx = p["first"][who]

    typo = np.where(rng.random(n) < noise.typo, rng.integers(1, 3, n), 0).astype(np.int8)
    variant = rng.integers(1, names.TYPO_VARIANTS + 1, n)
    first = names.FIRST.spell(first_idx, np.where(typo == 1, variant, 0))
    last = names.LAST.spell(last_idx, np.where(typo == 2, variant, 0))
    drop = rng.random(n) < noise.drop_accents
    first = pc.if_else(pa.array(drop), names.ascii_text(first), first)
    last = pc.if_else(pa.array(drop), names.ascii_text(last), last)
    # A swap happens when the names are typed in, before the system's own casing.
    swap = rng.random(n) < noise.swap_names
    first, last = (pc.if_else(pa.array(swap), last, first), pc.if_else(pa.array(swap), first, last))
    if store:
        last = pc.utf8_upper(last)
    elif source == "web":
        lower = rng.random(n) < 0.08
        first = pc.if_else(pa.array(lower), pc.utf8_lower(first), first)
        last = pc.if_else(pa.array(lower), pc.utf8_lower(last), last)
    if source == "app":
        last = pc.if_else(pa.array(rng.random(n) < 0.2), pa.nulls(n, pa.string()), last)
    elif source == "emailing":
        first = pc.if_else(pa.array(rng.random(n) < 0.3), pa.nulls(n, pa.string()), first)
        last = pc.if_else(pa.array(rng.random(n) < 0.4), pa.nulls(n, pa.string()), last)
    r.update(
        first_name=first,
        last_name=last,
        typo=typo,
        swapped=swap,
        accents_dropped=drop,
        maiden_name=maiden,
    )

    # E-mail.
    partner = p["partner"][who]
    shared = store & (p["case"][who] == 4) if store else np.zeros(n, bool)
    owner = np.where(shared, partner, who)
    personal = personal_email(p, owner, email_num[owner])
    pro = pro_email(p, who, email_num[who])
    second = personal_email(
        p, who, email_num[who], domain=(p["email_domain"][who] + 1) % len(names.EMAIL_DOMAINS)
    )
    has_pro = p["pro_domain"][who] >= 0
    u = rng.random(n)
    kind = np.where(
        shared,
        2,
        np.where(
            u < noise.email_missing, 3, np.where(has_pro & (rng.random(n) < noise.email_pro), 1, 0)
        ),
    )
    kind = np.where((role == 1) & ~shared, np.where(has_pro, 1, 4), kind).astype(np.int8)
    email = pc.if_else(pa.array(kind == 1), pro, personal)
    email = pc.if_else(pa.array(kind == 4), second, email)
    email = pc.if_else(pa.array(kind == 3), pa.nulls(n, pa.string()), email)
    upper = rng.random(n) < noise.email_upper
    spaces = rng.random(n) < noise.email_spaces
    email = pc.if_else(pa.array(upper), pc.utf8_upper(email), email)
    email = pc.if_else(pa.array(spaces), formats.join(" ", email, " "), email)
    r.update(
        email=email,
        email_kind=kind,
        email_upper=upper & (kind != 3),
        email_spaces=spaces & (kind != 3),
    )

    # Phone.
    forms = list(noise.phone_formats)
    probs = _renorm(np.array([noise.phone_formats[f] for f in forms]))
    fmt = np.array([PHONE_FORMATS.index(f) for f in forms])[rng.choice(len(forms), n, p=probs)]
    missing = (~p["has_mobile"][who]) | (rng.random(n) < noise.phone_missing) | shared
    fmt = np.where(missing, -1, fmt).astype(np.int8)
    r["phone"] = phone_text(p["mobile_prefix"][who], mobile[who], fmt)
    r["phone_format"] = fmt

    # Birth date, gender.
    r["birth"] = np.where(rng.random(n) < noise.birth_missing, -1, p["birth"][who]).astype(np.int32)
    r["gender"] = p["gender"][who]

    # Address: the store card of someone who moved keeps the old one.
    old = store & p["moved"][who] if store else np.zeros(n, bool)
    short = rng.random(n) < noise.address_short
    line1 = street_line(p, who, old, short)
    if store:
        line1 = pc.utf8_upper(pc.if_else(pa.array(drop), names.ascii_text(line1), line1))
    comp = np.where(old, p["old_complement"][who], p["complement"][who])
    line2 = pa.array(names.ADDRESS_COMPLEMENTS).take(pa.array(np.maximum(comp, 0), pa.int64()))
    line2 = pc.if_else(pa.array(comp >= 0), line2, pa.nulls(n, pa.string()))
    area = np.where(old, p["old_area"][who], p["area"][who])
    postal = np.where(old, p["old_postal"][who], p["postal"][who])
    city = AREA_CITY.take(pa.array(area, pa.int64()))
    if store:
        city = pc.utf8_upper(names.ascii_text(city))
        line2 = pc.utf8_upper(line2)
    r.update(
        address_line1=line1,
        address_line2=line2,
        postal_code=POSTAL_CODES.take(pa.array(postal, pa.int64())),
        city=city,
        region=AREA_REGION.take(pa.array(area, pa.int64())),
        old_address=old,
    )
    return r


def _mix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def permute(key: np.ndarray, space: int, salt: int) -> np.ndarray:
    """A keyed pseudo-random permutation of ``[0, space)``, applied to ``key``.

    A four-round Feistel network on the smallest even number of bits that holds ``space``,
    with cycle walking: values that fall outside are encrypted again until they are inside.
    Distinct keys below ``space`` give distinct values below ``space``.

    Parameters
    ----------
    key : numpy.ndarray
        Distinct integers in ``[0, space)``.
    space : int
        Size of the domain.
    salt : int
        Selects the permutation.

    Returns
    -------
    numpy.ndarray
        The permuted values, as int64.
    """
    bits = max(2, int(space - 1).bit_length())
    bits += bits % 2
    half = np.uint64(bits // 2)
    mask = np.uint64((1 << (bits // 2)) - 1)
    out = np.asarray(key).astype(np.uint64)
    todo = np.arange(len(out))
    while len(todo):
        x = out[todo]
        left, right = x >> half, x & mask
        for r in range(4):
            f = _mix(right + np.uint64(salt * 8 + r + 1)) & mask
            left, right = right, left ^ f
        x = (left << half) | right
        out[todo] = x
        todo = todo[x >= np.uint64(space)]
    return out.astype(np.int64)


def mobile_numbers(gid: np.ndarray) -> np.ndarray:
    """Last eight digits of each person's mobile, unique per person (a permutation)."""
    return permute(gid, 100_000_000, 1)


def email_numbers(gid: np.ndarray, total: int) -> np.ndarray:
    """Each person's e-mail number, unique, from 1 to a power of ten above ``total``."""
    space = 10 ** max(4, len(str(max(total, 1))))
    return permute(gid, space, 2) + 1


def id_numbers(key: np.ndarray, total: int, salt: int, min_digits: int) -> np.ndarray:
    """Unique identifiers of a fixed number of digits for keys in ``[0, total)``.

    A permutation (``permute``) of ``9 * 10**k`` values shifted by ``10**k``, so every id
    has ``k + 1`` digits and none starts with 0.

    Parameters
    ----------
    key : numpy.ndarray
        Distinct non-negative integers below ``total``.
    total : int
        Upper bound of the keys.
    salt : int
        Varies the permutation between id spaces.
    min_digits : int
        Smallest number of digits.

    Returns
    -------
    numpy.ndarray
        The identifiers, as int64.
    """
    k = max(min_digits - 1, len(str(max(total, 1))))
    space = 9 * 10**k
    return 10**k + permute(key, space, salt)


def hex_ids(key: np.ndarray, salt: int, width: int = 16) -> pa.Array:
    """Random-looking hexadecimal identifiers, unique per key (a bijective 64-bit mix).

    Parameters
    ----------
    key : numpy.ndarray
        Distinct non-negative integers.
    salt : int
        Varies the ids between id spaces.
    width : int
        Number of hexadecimal digits kept; unique only with all 16.

    Returns
    -------
    pyarrow.Array
        The identifiers as text.
    """
    x = key.astype(np.uint64) + np.uint64((salt * 0x9E3779B97F4A7C15) % 2**64)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    pairs = np.array([list(f"{i:02x}".encode()) for i in range(256)], np.uint8)
    octets = x.astype(">u8").view(np.uint8).reshape(len(x), 8)
    return formats.fixed_width(pairs[octets].reshape(len(x), 16)[:, :width])


def source_records(
    rng: np.random.Generator,
    p: Columns,
    has: np.ndarray,
    created: np.ndarray,
    source: str,
    days: float,
    email_num: np.ndarray,
    mobile: np.ndarray,
) -> SourceRecords:
    """One source's records of a chunk: a main record per person it knows, a few duplicates.

    A duplicate (a second account or card, ``IDENTITY_NOISE[source].duplicate``) is created
    at least 30 days after the main record.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    p : Columns
        The people.
    has : numpy.ndarray
        Per person, true when the source knows them.
    created : numpy.ndarray
        Per person, when their main record was created (days).
    source : str
        Source name.
    days : float
        Length of the history.
    email_num, mobile : numpy.ndarray
        Per person, their e-mail number and mobile digits.

    Returns
    -------
    SourceRecords
        The records, sorted by person then role, and each person's record positions.
    """
    n = p.rows
    who = np.flatnonzero(has)
    c = created[who]
    noise = IDENTITY_NOISE[source]
    dup_t = c + 30 + rng.random(len(who)) * (days - c - 30)
    dup = (rng.random(len(who)) < noise.duplicate) & (dup_t < days) & (days - c > 30)
    all_who = np.concatenate([who, who[dup]])
    role = np.concatenate([np.zeros(len(who), np.int8), np.ones(dup.sum(), np.int8)])
    when = np.floor(np.concatenate([c, dup_t[dup]]) * 86400) / 86400  # whole seconds
    order = np.lexsort((role, all_who))
    all_who, role, when = all_who[order], role[order], when[order]
    rec = make_records(rng, p, all_who, role, when, source, noise, email_num, mobile)
    primary = np.full(n, -1, np.int64)
    duplicate = np.full(n, -1, np.int64)
    dup_created = np.full(n, np.inf)
    pos = np.arange(len(all_who))
    primary[all_who[role == 0]] = pos[role == 0]
    duplicate[all_who[role == 1]] = pos[role == 1]
    dup_created[all_who[role == 1]] = when[role == 1]
    return SourceRecords(rec, primary, duplicate, dup_created)
