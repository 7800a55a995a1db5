"""Probabilistic matching with Splink (Fellegi-Sunter), for what identifiers cannot join.

The model is built from the columns the records hold: first and last name (exact with term
frequencies, swapped, a known nickname, Jaro-Winkler), birth date (exact, one digit off or two
swapped, day and month transposed, same year), email, phone, and the place as one comparison
(street address, postal code and city together, since they are not independent evidence).
Each disagreement lowers the match weight by what the data say it is worth; only two rules
veto a pair: two cards of one source with different loyalty numbers, and twins (one address,
one birth date, first names that differ beyond a typo or a nickname).

Parameters are estimated from the data on each full run (the share of matching pairs from
deterministic rules, u by random sampling, m by expectation maximisation on blockings where
matches dominate); whatever the data cannot estimate falls back to a documented prior and is
reported. The threshold is chosen from the fitted model unless the configuration forces one.
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa

from parcours.engine import Engine
from parcours.identity.nicknames import full_forms
from parcours.identity.records import RID

log = logging.getLogger(__name__)

MATCH_COLUMNS = (
    RID,
    "source",
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "email_local",
    "phone",
    "loyalty_id",
    "postal_code",
    "city",
    "address",
)
COMPARED = (
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "phone",
    "postal_code",
    "city",
    "address",
)
U_PAIRS = 1e6  # random pairs for u: Splink's default, plenty for these few levels
# Blocked pairs per EM session: at 1 million records, sessions of 300,000 pairs and sessions
# of every pair (up to 88 million) gave the same persons; more only costs time.
EM_PAIRS_TARGET = 3e5
MIN_EM_PAIRS = 100  # fewer pairs estimate nothing: the session is skipped, priors stay
MIN_RANDOM_PAIRS = 1_000  # fewer possible pairs: u keeps its prior
PREDICT_FLOOR = 0.001  # pairs below are neither joined nor counted as expected matches
LOWEST_THRESHOLD = 0.5  # never join a pair the model finds more likely two people
DETERMINISTIC_RECALL = 0.7  # share of true pairs the deterministic rules are assumed to find
DUPLICATES_PRIOR = 0.1  # matching records per record assumed when no rule can count them
TWIN_NAMES_JW = 0.75  # below this Jaro-Winkler, two first names are not one name mistyped

# A key is (column, prefix length or None). Rules whose columns a shape lacks are left out.
Key = tuple[str, int | None]
BLOCKING_RULES: tuple[tuple[Key, ...], ...] = (
    (("first_name", 1), ("last_name", None), ("postal_code", None)),
    (("first_name", None), ("last_name", 1), ("postal_code", None)),
    (("last_name", None), ("birth_date", None)),
    (("first_name", None), ("birth_date", None)),
    (("birth_date", None), ("postal_code", None)),
    (("first_name", 3), ("last_name", 3), ("birth_date", 4)),
    (("postal_code", None), ("address", None)),
    (("email_local", None),),
    (("phone", None),),
)
# Broader rules, each kept only when the pairs it generates stay within the budget: on small
# and mid-sized data they catch a typo in every field the narrow rules need (a postal code
# with two digits swapped and the names swapped, say), at scale they drop out on their own.
BROAD_RULES: tuple[tuple[Key, ...], ...] = (
    (("first_name", None), ("last_name", None)),
    (("birth_date", None),),
    (("address", None),),
    (("last_name", None),),
    (("first_name", None),),
    (("postal_code", None),),
)
PAIR_BUDGET = 1e6  # pairs a broad rule may add, or 2 per record when there are more
# A narrow rule over the budget keeps its place with longer name prefixes (first_name[:1] to
# [:2], ...; beyond MAX_PREFIX the whole name): where names are few and records many, the
# first letter of a name no longer narrows anything, while a typo after the prefix is still
# caught.
GROWING_PREFIXES = ("first_name", "last_name")
MAX_PREFIX = 6
DETERMINISTIC_RULES: tuple[tuple[Key, ...], ...] = (
    (("email", None),),
    (("phone", None),),
    (("first_name", None), ("last_name", None), ("birth_date", None)),
    (("first_name", None), ("last_name", None), ("postal_code", None)),
)
# Splink leaves out of an EM session every comparison that reads a column the session
# blocks on: between them, these sessions estimate every comparison.
EM_RULES: tuple[tuple[Key, ...], ...] = (
    (("email", None),),
    (("phone", None),),
    (("birth_date", None),),
    (("first_name", None), ("last_name", None)),
)


# Priors for m (the share of true pairs at each level) where the data cannot estimate it:
# most true pairs agree exactly, a few hold a typo, fewer still differ outright. Keys are
# matched against the levels' labels; each comparison's priors are normalised to sum to one.
PRIOR_M: dict[str, dict[str, float]] = {
    "first_name": {
        "Exact": 0.88,
        "nickname": 0.01,
        ">= 0.92": 0.06,
        ">= 0.8": 0.03,
        "All other": 0.02,
    },
    "last_name": {
        "Exact": 0.88,
        "swapped": 0.01,
        ">= 0.92": 0.06,
        ">= 0.8": 0.03,
        "All other": 0.02,
    },
    "birth_date": {
        "Exact": 0.9,
        "one digit": 0.04,
        "transposed": 0.01,
        "same year": 0.02,
        "All other": 0.03,
    },
    "email": {"email_local": 0.03, "one edit": 0.02, "Exact": 0.9, "All other": 0.05},
    "phone": {"Exact": 0.9, "All other": 0.1},
    "place": {
        "same address": 0.8,
        "same place": 0.08,
        "other place": 0.02,
        "Exact": 0.04,
        "near": 0.02,
        "All other": 0.04,
    },
}


def _prior_m(comparison: str, label: str) -> float:
    return next(v for k, v in PRIOR_M[comparison].items() if k in label)


@dataclass
class MatchReport:
    """What probabilistic matching did, for the summary and the docs' promises."""

    threshold: float | None = None
    threshold_reason: str = ""
    estimated_precision: float | None = None
    estimated_recall: float | None = None
    unblocked_share: float | None = None  # estimated share of true pairs no rule compares
    expected_true_pairs: float | None = None  # in the data, by the model
    compared: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    training: list[str] = field(default_factory=list)  # each step, and each fallback
    priors: list[str] = field(default_factory=list)  # parameters the data could not estimate

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> MatchReport:
        return cls(**json.loads(text))


def _source_column(column: str) -> str:
    return "email" if column == "email_local" else column


def _rule_fields(rule: tuple[Key, ...]) -> set[str]:
    return {_source_column(c) for c, _ in rule}


def _rule_sql(rule: tuple[Key, ...]) -> list[str]:
    return [c if n is None else f"substr({c}, 1, {n})" for c, n in rule]


def _rule_label(rule: tuple[Key, ...]) -> str:
    return " + ".join(c if n is None else f"{c}[:{n}]" for c, n in rule)


def _block(rule: tuple[Key, ...]):
    from splink import block_on

    return block_on(*_rule_sql(rule))


def present_columns(engine: Engine, records: ibis.Table) -> set[str]:
    """Compared columns with at least two values: the others cannot be evidence."""
    counts = engine.execute(records.aggregate(**{c: records[c].count() for c in COMPARED}))
    return {c for c in COMPARED if int(counts[c].iloc[0]) >= 2}


def null_shares(engine: Engine, records: ibis.Table) -> dict[str, float]:
    n = records.count()
    row = engine.execute(
        records.aggregate(**{c: 1 - records[c].count() / n for c in COMPARED})
    ).iloc[0]
    return {c: float(row[c]) for c in COMPARED}


def pair_count(engine: Engine, records: ibis.Table, rule: tuple[Key, ...]) -> int:
    """Pairs a blocking rule generates, counted in the engine."""
    keys = {
        f"k{i}": (records[c] if n is None else records[c].substr(0, n))
        for i, (c, n) in enumerate(rule)
    }
    t = records.select(**keys)
    t = t.filter(ibis.and_(*[t[k].notnull() for k in keys]))
    g = t.group_by(list(keys)).aggregate(n=t.count())
    total = engine.execute((g.n * (g.n - 1) / 2).sum())
    return int(total or 0)


def _longer_prefixes(rule: tuple[Key, ...]) -> tuple[Key, ...] | None:
    """The rule with every name prefix one character longer; None when none is left."""
    if not any(c in GROWING_PREFIXES and k is not None for c, k in rule):
        return None
    return tuple(
        (c, (k + 1 if k < MAX_PREFIX else None) if c in GROWING_PREFIXES and k else k)
        for c, k in rule
    )


def _within_budget(
    engine: Engine, records: ibis.Table, rule: tuple[Key, ...], budget: float
) -> tuple[Key, ...]:
    """The rule, its name prefixes lengthened until its pairs fit the budget (or are whole)."""
    while pair_count(engine, records, rule) > budget:
        longer = _longer_prefixes(rule)
        if longer is None:
            break
        rule = longer
    return rule


def chosen_rules(
    engine: Engine, records: ibis.Table, present: set[str], n: int
) -> list[tuple[Key, ...]]:
    """The blocking rules for the columns present, with the broad ones the budget allows."""
    budget = max(PAIR_BUDGET, 2 * n)
    rules = [
        _within_budget(engine, records, r, budget)
        for r in BLOCKING_RULES
        if _rule_fields(r) <= present
    ]
    for rule in BROAD_RULES:
        if _rule_fields(rule) <= present and pair_count(engine, records, rule) <= budget:
            rules.append(rule)
    return rules


def _comparisons(present: set[str]) -> list:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    comps = []
    for name, other in (("first_name", "last_name"), ("last_name", "first_name")):
        if name not in present:
            continue
        levels = [cll.NullLevel(name), cll.ExactMatchLevel(name, term_frequency_adjustments=True)]
        if name == "last_name" and other in present:
            levels.append(
                cll.ColumnsReversedLevel(name, other).configure(label_for_charts="names swapped")
            )
        if name == "first_name":
            levels.append(
                cll.ExactMatchLevel("first_name_full").configure(label_for_charts="nickname")
            )
        levels += [
            cll.JaroWinklerLevel(name, 0.92),
            cll.JaroWinklerLevel(name, 0.8),
            cll.ElseLevel(),
        ]
        comps.append(cl.CustomComparison(levels, output_column_name=name))
    if "birth_date" in present:
        d = "birth_date"
        comps.append(
            cl.CustomComparison(
                [
                    cll.NullLevel(d),
                    cll.ExactMatchLevel(d),
                    cll.CustomLevel(
                        f"damerau_levenshtein({d}_l, {d}_r) <= 1", "one digit off or two swapped"
                    ),
                    cll.CustomLevel(
                        f"substr({d}_l, 1, 4) = substr({d}_r, 1, 4) "
                        f"and substr({d}_l, 6, 2) = substr({d}_r, 9, 2) "
                        f"and substr({d}_l, 9, 2) = substr({d}_r, 6, 2)",
                        "day and month transposed",
                    ),
                    cll.CustomLevel(f"substr({d}_l, 1, 4) = substr({d}_r, 1, 4)", "same year"),
                    cll.ElseLevel(),
                ],
                output_column_name=d,
            )
        )
    if "email" in present:
        # Numbered addresses (marie.martin123@) look alike to Jaro-Winkler: beyond an equal
        # address or local part, only a local part one typo apart (a digit added, dropped or
        # swapped) is evidence, and the data weigh it.
        comps.append(
            cl.CustomComparison(
                [
                    cll.NullLevel("email"),
                    cll.ExactMatchLevel("email"),
                    cll.ExactMatchLevel("email_local"),
                    cll.CustomLevel(
                        "damerau_levenshtein(email_local_l, email_local_r) <= 1",
                        "local part one edit apart",
                    ),
                    cll.ElseLevel(),
                ],
                output_column_name="email",
            )
        )
    if "phone" in present:
        comps.append(cl.ExactMatch("phone"))
    if {"postal_code", "city", "address"} & present:
        comps.append(_place_comparison())
    return comps


def _place_comparison():
    """Street address, postal code and city as one piece of evidence: where the person lives."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    # Two houses of one street differ by their number only: a similar address keeps it.
    similar = (
        "jaro_winkler_similarity(address_l, address_r) >= 0.88 and "
        "regexp_extract(address_l, '[0-9]+') = regexp_extract(address_r, '[0-9]+')"
    )

    return cl.CustomComparison(
        [
            cll.CustomLevel(
                " and ".join(
                    f"({c}_l is null or {c}_r is null)" for c in ("postal_code", "city", "address")
                )
            ).configure(is_null_level=True),
            cll.CustomLevel(
                "address_l = address_r and (postal_code_l = postal_code_r or city_l = city_r)",
                "same address",
            ),
            cll.CustomLevel(
                f"{similar} and (postal_code_l = postal_code_r or city_l = city_r)",
                "similar address, same place",
            ),
            cll.CustomLevel(similar, "similar address, other place"),
            cll.ExactMatchLevel("postal_code", term_frequency_adjustments=True),
            cll.CustomLevel(
                "levenshtein(postal_code_l, postal_code_r) <= 1 or city_l = city_r", "near"
            ),
            cll.ElseLevel(),
        ],
        output_column_name="place",
    )


def _settings(present: set[str], rules: list[tuple[Key, ...]]) -> dict:
    from splink import SettingsCreator

    blocking = [_block(r) for r in rules]
    if {"first_name", "last_name", "postal_code"} <= present:
        blocking.append(
            "l.first_name = r.last_name and l.last_name = r.first_name "
            "and l.postal_code = r.postal_code"
        )
    return (
        SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name=RID,
            comparisons=_comparisons(present),
            blocking_rules_to_generate_predictions=blocking,
            additional_columns_to_retain=[
                "source",
                "loyalty_id",
                "first_name",
                "last_name",
                "first_name_full",
                "address",
                "birth_date",
            ],
            retain_intermediate_calculation_columns=False,
        )
        .get_settings("duckdb")
        .as_dict()
    )


def _db_api():
    from splink.backends.duckdb import DuckDBAPI

    # Scoring runs in an in-process DuckDB on either engine: its work tables stay out of the
    # workspace, and Splink's Spark backend would need its UDF jar on the cluster.
    return DuckDBAPI()


def _register(db_api, engine: Engine, records: ibis.Table, name: str):
    data = engine.to_pyarrow(records.select(*MATCH_COLUMNS))
    data = data.append_column("first_name_full", full_forms(data["first_name"]))
    return db_api.register(data, table_name=name)


def _train(linker, engine: Engine, records: ibis.Table, present: set[str], report) -> None:
    """Estimate the model; every step the data cannot support falls back and says so."""
    n = int(engine.execute(records.count()))
    possible = n * (n - 1) / 2
    settings = linker._settings_obj

    rules = [r for r in DETERMINISTIC_RULES if _rule_fields(r) <= present]
    found = sum(pair_count(engine, records, r) for r in rules)
    if found:
        linker.training.estimate_probability_two_random_records_match(
            [_block(r) for r in rules], recall=DETERMINISTIC_RECALL
        )
        report.training.append(
            "share of matching pairs estimated from pairs equal on "
            + ", ".join(_rule_label(r) for r in rules)
        )
    else:
        settings._probability_two_random_records_match = min(
            0.5, DUPLICATES_PRIOR * n / max(possible, 1)
        )
        report.priors.append(
            f"share of matching pairs: no pair shares an email, a phone or a full name and "
            f"birth date or postal code; prior of {DUPLICATES_PRIOR} matching records per record"
        )

    if possible >= MIN_RANDOM_PAIRS:
        linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=1)
        sampled = min(U_PAIRS, possible)
        unseen = []
        for comparison in settings.comparisons:
            for level in comparison.comparison_levels:
                # A level no random pair fell in keeps no u from Splink (None, or its "not
                # observed" mark) and would score with a generic default instead, which makes
                # the rarest agreement (an email one typo apart) weak evidence: at most about
                # one random pair in as many as sampled falls in it.
                if not level.is_null_level and not level._u_is_trained:
                    level.u_probability = min(1.0 / sampled, level.default_u_probability or 1)
                    unseen.append(f"{comparison.output_column_name}: {level.label_for_charts}")
        report.training.append(f"u from {int(sampled):,} random pairs")
        if unseen:
            report.priors.append(
                f"u of levels no random pair fell in, 1 / {int(sampled):,}: " + ", ".join(unseen)
            )
    else:
        report.priors.append(f"u of every comparison: only {int(possible):,} possible pairs")

    for rule in EM_RULES:
        if not _rule_fields(rule) <= present:
            continue
        pairs = pair_count(engine, records, rule)
        label = _rule_label(rule)
        if pairs < MIN_EM_PAIRS:
            report.training.append(f"m on pairs equal on {label}: skipped, {pairs:,} pairs")
            continue
        try:
            # Splink samples records so that about `max_pairs` blocked pairs remain; its
            # `record_sample_proportion` alone only sizes the probe and samples nothing.
            linker.training.estimate_parameters_using_expectation_maximisation(
                _block(rule), max_pairs=EM_PAIRS_TARGET
            )
        except Exception as e:  # EM may still find nothing to learn in a sample
            report.training.append(f"m on pairs equal on {label}: failed ({type(e).__name__})")
            continue
        report.training.append(f"m on pairs equal on {label} ({pairs:,} pairs)")

    for comparison in settings.comparisons:
        levels = [lv for lv in comparison.comparison_levels if not lv.is_null_level]
        name = comparison.output_column_name
        untrained = [lv for lv in levels if not lv._m_is_trained]
        if untrained:
            report.priors.append(
                f"m of {name}: {', '.join(lv.label_for_charts for lv in untrained)}"
            )
            priors = {id(lv): _prior_m(name, lv.label_for_charts) for lv in levels}
            scale = 1 - sum(lv.m_probability for lv in levels if lv._m_is_trained)
            total = sum(priors[id(lv)] for lv in untrained)
            for lv in untrained:
                lv.m_probability = max(scale, 0.01) * priors[id(lv)] / total


# Which state (exact, close, differ) each comparison level puts a field in, for the estimate
# of the true pairs no blocking rule compares.
_LEVEL_STATES = {
    "first_name": ("exact", "close", "close", "close", "differ"),
    "last_name": ("exact", "differ", "close", "close", "differ"),
    "birth_date": ("exact", "close", "close", "close", "differ"),
    "email": ("exact", "differ", "differ", "differ"),
    "phone": ("exact", "differ"),
}
_PLACE_STATES = (  # (postal_code, address)
    ("exact", "exact"),
    ("exact", "close"),
    ("differ", "close"),
    ("exact", "differ"),
    ("differ", "differ"),
    ("differ", "differ"),
)


def unblocked_share(
    linker, present: set[str], rules: list[tuple[Key, ...]], nulls: dict[str, float]
) -> float:
    """Estimated share of true pairs that no blocking rule compares.

    Under the model's own assumption (fields independent given a match), each compared field
    of a true pair is equal, close (a typo: its prefix or year still agrees) or different
    with the fitted m probabilities, or missing with the data's share of nulls; the share is
    the total probability of the combinations no rule accepts.
    """
    fields: dict[str, list[tuple[dict[str, str], float]]] = {}
    for comparison in linker._settings_obj.comparisons:
        name = comparison.output_column_name
        levels = [lv for lv in comparison.comparison_levels if not lv.is_null_level]
        ms = np.array([lv.m_probability or 0.0 for lv in levels])
        ms = ms / ms.sum() if ms.sum() else ms
        if name == "place":
            missing = 1 - (1 - nulls["postal_code"]) ** 2
            outcomes = [
                ({"postal_code": p, "address": a}, (1 - missing) * m)
                for (p, a), m in zip(_PLACE_STATES, ms, strict=False)
            ]
            outcomes.append(({"postal_code": "null", "address": "null"}, missing))
        else:
            states = _LEVEL_STATES[name]
            if name == "last_name" and "first_name" not in present:
                states = tuple(s for i, s in enumerate(states) if i != 1)
            missing = 1 - (1 - nulls[name]) ** 2
            outcomes = [({name: s}, (1 - missing) * m) for s, m in zip(states, ms, strict=False)]
            outcomes.append(({name: "null"}, missing))
        fields[name] = outcomes
    missed = 0.0
    for combo in itertools.product(*fields.values()):
        state: dict[str, str] = {}
        p = 1.0
        for s, q in combo:
            state.update(s)
            p *= q
        if p and not any(_accepts(rule, state) for rule in rules):
            missed += p
    return float(missed)


def _accepts(rule: tuple[Key, ...], state: dict[str, str]) -> bool:
    for column, prefix in rule:
        s = state.get(_source_column(column), "null")
        if not (s == "exact" or (prefix is not None and s == "close")):
            return False
    return True


def choose_threshold(
    probabilities: np.ndarray, target_precision: float, weights: np.ndarray | None = None
) -> tuple[float, float, float]:
    """The lowest threshold whose expected pairwise precision reaches the target.

    Each scored pair is a match with its probability; joined, it makes ``weight`` pairs of
    records one person (the product of the sizes of the two groups identifiers already
    formed, 0 when they are one group). The expected precision above a threshold is the
    weighted mean of the probabilities, the expected recall their weighted sum over that of
    every scored pair. Returns the threshold, the expected precision and recall (before
    blocking losses and vetoes).
    """
    w = np.ones(len(probabilities)) if weights is None else np.asarray(weights, float)
    order = np.argsort(-probabilities, kind="stable")
    p, w = probabilities[order], w[order]
    if not len(p) or not w.sum():
        return 1.0, 1.0, 1.0
    hits = np.cumsum(p * w)
    made = np.cumsum(w)
    precision = np.divide(hits, made, out=np.ones_like(hits), where=made > 0)
    ok = np.flatnonzero((precision >= target_precision) & (p >= LOWEST_THRESHOLD))
    if not len(ok):
        return float(max(p[0], LOWEST_THRESHOLD)), 1.0, 0.0
    k = ok[-1]
    return float(p[k]), float(precision[k]), float(hits[k] / hits[-1])


def estimates_at(
    probabilities: np.ndarray, threshold: float, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Expected precision and recall of the pairs at or above ``threshold``."""
    w = np.ones(len(probabilities)) if weights is None else np.asarray(weights, float)
    above = probabilities >= threshold
    made, hits, total = w[above].sum(), (probabilities * w)[above].sum(), (probabilities * w).sum()
    return (float(hits / made) if made else 1.0), (float(hits / total) if total else 1.0)


_GUARD_SQL = """
select least({rid}_l, {rid}_r) as left_rid, greatest({rid}_l, {rid}_r) as right_rid,
       match_probability
from {pred}
where match_probability >= {threshold} - 1e-9
  -- two cards of one source with different numbers are two people
  and not coalesce(source_l = source_r and loyalty_id_l <> loyalty_id_r, false)
  -- twins: one address, one birth date, one family name, first names that are not one
  -- name mistyped, a nickname of it, or swapped with the family name
  and not coalesce(
      address_l = address_r and birth_date_l = birth_date_r
      and (last_name_l = last_name_r or {same}(last_name_l, last_name_r))
      and not {same}(first_name_l, first_name_r)
      and first_name_full_l <> first_name_full_r
      and not coalesce({same}(first_name_l, last_name_r), false)
      and not coalesce({same}(last_name_l, first_name_r), false),
      false)
"""
_ONE_NAME_SQL = """
create or replace macro {same}(a, b) as
    a = b or damerau_levenshtein(a, b) <= 1 or jaro_winkler_similarity(a, b) >= {jw}
"""


def _scored_with_weights(db_api, predictions, groups: pa.Table | None) -> dict:
    """Each scored pair's match weight and the pairs of records joining it would make."""
    pred = predictions.physical_name
    if groups is None:
        sql = f"select {RID}_l, {RID}_r, match_weight, 1.0 as pairs, 1.0 as apart from {pred}"
    else:
        db_api._con.register("parcours_groups", groups)
        # Two groups become one person through their strongest scored pair: it alone carries
        # the pairs of records the join makes.
        sql = f"""
            with s as (
                select p.{RID}_l, p.{RID}_r, p.match_weight, a.component as ca, b.component as cb,
                       coalesce(a.size, 1) * coalesce(b.size, 1) as made
                from {pred} p
                left join parcours_groups a on p.{RID}_l = a.{RID}
                left join parcours_groups b on p.{RID}_r = b.{RID}
            )
            select {RID}_l, {RID}_r, match_weight,
                   case when ca = cb then 0.0
                        when row_number() over (
                            partition by least(ca, cb), greatest(ca, cb)
                            order by match_weight desc) = 1 then made
                        else 0.0 end as pairs,
                   case when ca = cb then 0.0 else 1.0 end as apart
            from s
        """
    # The pairs stay in DuckDB; only numbers come to Python (record ids of tens of millions of
    # pairs would not fit), and the links that can make pairs come out as Arrow when asked.
    db_api._con.execute(f"create or replace temp table parcours_scored as {sql}")
    out = db_api._con.sql("select match_weight, pairs, apart from parcours_scored").fetchnumpy()
    return {k: np.asarray(v, float) for k, v in out.items()}


def _links_that_make_pairs(db_api, shift: float) -> pa.Table:
    """The scored links that would join two groups, with their probability and pairs made."""
    return db_api._con.sql(
        f"select {RID}_l as left_rid, {RID}_r as right_rid, "
        f"1 / (1 + pow(2, -(match_weight + {shift}))) as match_probability, pairs "
        "from parcours_scored where pairs > 0"
    ).to_arrow_table()


def _identifier_pairs(groups: pa.Table | None) -> float:
    """Pairs of records the identifiers alone make one person."""
    if groups is None or not groups.num_rows:
        return 0.0
    sizes = groups.group_by("component").aggregate([("size", "max")])["size_max"]
    s = np.asarray(sizes.to_numpy(), float)
    return float((s * (s - 1) / 2).sum())


def _logit2(p: float) -> float:
    return float(np.log2(p / (1 - p)))


def refit_match_share(weights: np.ndarray, prior: float, possible: float, blocked: float) -> float:
    """The share of matching pairs consistent with the scored pairs' own probabilities.

    The deterministic estimate assumes how many true pairs its rules find; here the share is
    the expected number of matches (the sum of the match probabilities, scaled up by the
    pairs no blocking rule compares) over all possible pairs, iterated to a fixed point: the
    expectation step of EM for this one parameter.
    """
    if not len(weights) or possible <= 0:
        return prior
    bayes = weights - _logit2(prior)
    share = prior
    for _ in range(100):
        p = 1 / (1 + np.exp2(-(bayes + _logit2(share))))
        new = float(min(0.5, max(p.sum() / max(blocked, 1e-9) / possible, 1e-12)))
        if abs(new - share) <= 1e-4 * share:
            return new
        share = new
    return share


def _guarded(db_api, predictions, threshold: float, shift: float = 0.0) -> pa.Table:
    same = "parcours_one_name"
    db_api._con.execute(_ONE_NAME_SQL.format(same=same, jw=TWIN_NAMES_JW))
    scored = (
        f"(select * exclude (match_probability), "
        f"1 / (1 + pow(2, -(match_weight + {shift}))) as match_probability "
        f"from {predictions.physical_name})"
    )
    sql = _GUARD_SQL.format(rid=RID, pred=scored, threshold=threshold, same=same)
    return db_api._con.sql(sql).to_arrow_table()


def _threshold_file(model_path: Path) -> Path:
    return model_path.with_name(model_path.stem + "-run.json")


def save_run_report(model_path: Path, report: MatchReport) -> None:
    """The run's threshold and estimates, beside the model: incremental runs reuse them."""
    _threshold_file(model_path).write_text(report.to_json())


def person_estimates(
    engine: Engine, components: ibis.Table, scored: ibis.Table, report: MatchReport
) -> None:
    """The run's precision and recall estimated on the persons formed, in the engine.

    Every pair of records in one person counts as made. A scored pair inside one person is
    false with one minus its probability, times the pairs of records its link makes; pairs
    the identifiers joined and pairs only a chain of links joined count as true. Recall is
    the expected true pairs made over the expected true pairs in the data (identifier pairs,
    the scored pairs' probabilities, scaled up by the pairs no blocking rule compares). A
    link a veto dropped still counts when other links put its two records in one person.
    """
    sizes = components.group_by("component").aggregate(n=components.count())
    made = float(engine.execute((sizes.n * (sizes.n - 1) / 2).sum()) or 0)
    a = components.select(left_rid=components[RID], ca=components.component)
    b = components.select(right_rid=components[RID], cb=components.component)
    inside = scored.join(a, "left_rid").join(b, "right_rid")
    inside = inside.filter(inside.ca == inside.cb)
    false = float(engine.execute(((1 - inside.match_probability) * inside.pairs).sum()) or 0)
    true = max(made - false, 0.0)
    report.estimated_precision = true / made if made else 1.0
    expected = report.expected_true_pairs or 0.0
    report.estimated_recall = min(true / expected, 1.0) if expected else 1.0


EMPTY_PAIRS = pa.schema(
    [("left_rid", pa.string()), ("right_rid", pa.string()), ("match_probability", pa.float64())]
)


def scored_pairs(
    engine: Engine,
    records: ibis.Table,
    model_path: Path,
    threshold: float | str,
    target_precision: float,
    new: ibis.Table | None = None,
    groups: pa.Table | None = None,
) -> tuple[pa.Table, MatchReport, pa.Table | None]:
    """Pairs to join (``left_rid`` < ``right_rid``), what matching did, and every scored pair.

    The scored pairs (a full run only, else None: those whose link would join two groups)
    carry their probability and the pairs of records their link would make, for
    :func:`person_estimates`, which makes the run's estimates; the caller saves the report
    with :func:`save_run_report`.

    Without ``new``, the model is estimated on ``records`` and saved to ``model_path``, every
    blocked pair is scored and the threshold is chosen (``threshold="auto"``) or taken as
    given. With ``new`` (records not scored before), the saved model and threshold score only
    the pairs involving a new record: new against old, and new against new. The vetoes (two
    loyalty cards of one source, twins) are applied here.
    """
    from splink import Linker

    db_api = _db_api()
    if new is None:
        report = MatchReport()
        present = present_columns(engine, records)
        report.compared = sorted(present)
        if not present:
            report.threshold_reason = "no column to compare"
            return EMPTY_PAIRS.empty_table(), report, None
        n = int(engine.execute(records.count()))
        rules = chosen_rules(engine, records, present, n)
        settings = _settings(present, rules)
        report.blocking = [_rule_label(r) for r in rules]
        frame = _register(db_api, engine, records, "records")
        linker = Linker(frame, settings, log_level=logging.ERROR)
        _train(linker, engine, records, present, report)
        report.unblocked_share = unblocked_share(
            linker, present, rules, null_shares(engine, records)
        )
        blocked = 1 - report.unblocked_share
        predictions = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR)
        scored = _scored_with_weights(db_api, predictions, groups)
        weights, pair_weights = scored["match_weight"], scored["pairs"]
        prior = linker._settings_obj._probability_two_random_records_match
        share = refit_match_share(np.asarray(weights), prior, n * (n - 1) / 2, blocked)
        shift = _logit2(share) - _logit2(prior)
        probs = 1 / (1 + np.exp2(-(np.asarray(weights) + shift)))
        linker._settings_obj._probability_two_random_records_match = share
        report.training.append(
            f"share of matching pairs refitted to the scored pairs: {share:.3g} "
            f"(first estimate {prior:.3g})"
        )
        model_path.parent.mkdir(parents=True, exist_ok=True)
        linker.misc.save_model_to_json(str(model_path), overwrite=True)
        if threshold == "auto":
            t, _, _ = choose_threshold(probs, target_precision, pair_weights)
            report.threshold_reason = (
                f"lowest with an expected precision of fuzzy links of at least {target_precision}"
            )
        else:
            t = float(threshold)
            report.threshold_reason = "set by identity.match_threshold"
        report.threshold = t
        kept = _guarded(db_api, predictions, t, shift).cast(EMPTY_PAIRS)
        # Expected true pairs of records: the pairs joined by identifiers, and each scored pair
        # that identifiers left apart with its own probability. Not its link's probability
        # times the pairs the link would make: the strongest of many weak pairs between two
        # large groups is no evidence that every pair between them is true, and weighting it
        # so counted thousands of pairs of strangers as missed matches on the demo. The
        # estimates themselves are made on the persons formed (person_estimates).
        apart = scored["apart"]
        report.expected_true_pairs = _identifier_pairs(groups) + float((probs * apart).sum()) / max(
            blocked, 1e-9
        )
        return kept, report, _links_that_make_pairs(db_api, shift)

    saved = _threshold_file(model_path)
    report = MatchReport.from_json(saved.read_text()) if saved.exists() else MatchReport()
    if threshold != "auto" or report.threshold is None:
        report.threshold = 0.99 if threshold == "auto" else float(threshold)
    old = records.anti_join(new, RID)
    old_frame = _register(db_api, engine, old, "old_records")
    new_frame = _register(db_api, engine, new, "new_records")
    linker = Linker(old_frame, str(model_path), log_level=logging.ERROR)
    # Frequencies of the known records weigh rare names up.
    for column in linker._settings_obj._term_frequency_columns:
        linker.table_management.compute_tf_table(column.unquote().name)
    parts = [
        linker.inference.predict_between(
            old_frame, new_frame, threshold_match_probability=report.threshold, warning_mode="never"
        ),
        linker.inference.predict_within(
            new_frame, threshold_match_probability=report.threshold, warning_mode="never"
        ),
    ]
    tables = [_guarded(db_api, p, report.threshold).cast(EMPTY_PAIRS) for p in parts]
    return pa.concat_tables(tables), report, None
