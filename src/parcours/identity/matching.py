"""Probabilistic matching with Splink (Fellegi-Sunter), for what identifiers cannot join.

The model compares names (typos, swapped, accents folded), birth date, email, phone, postal
code, city and address; its parameters are estimated from the data each full run (u by random
sampling, m by expectation maximisation on two independent blockings) and saved in the
workspace, so that an incremental run scores only the pairs that involve new records.

Guards against over-merging apply after scoring: two records with different birth dates, or
two cards of one source with different loyalty numbers, are never joined by fuzzy evidence.
"""

from __future__ import annotations

import logging
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa

from parcours.engine import Engine
from parcours.identity.graph import compatible_names
from parcours.identity.records import RID

log = logging.getLogger(__name__)

MATCH_COLUMNS = (
    RID,
    "source",
    "first_name",
    "last_name",
    "full_name",
    "birth_date",
    "email",
    "email_local",
    "phone",
    "loyalty_id",
    "postal_code",
    "city",
    "address",
)
TF_COLUMNS = ("first_name", "last_name", "full_name", "postal_code")
U_PAIRS = 1e6  # random pairs for u: Splink's default, plenty for these few levels
EM_PAIRS_TARGET = 2e6  # blocked pairs per EM session: enough to estimate m, bounded at scale


def _settings() -> dict:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return (
        SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name=RID,
            comparisons=[
                cl.ForenameSurnameComparison(
                    "first_name", "last_name", forename_surname_concat_col_name="full_name"
                ),
                cl.DateOfBirthComparison("birth_date", input_is_string=True),
                # Numbered addresses (marie.martin123@) look alike to string distances: only
                # an equal address or an equal local part is evidence.
                cl.CustomComparison(
                    output_column_name="email",
                    comparison_levels=[
                        cll.NullLevel("email"),
                        cll.ExactMatchLevel("email"),
                        cll.ExactMatchLevel("email_local"),
                        cll.ElseLevel(),
                    ],
                ),
                cl.ExactMatch("phone"),
                cl.ExactMatch("postal_code").configure(term_frequency_adjustments=True),
                cl.LevenshteinAtThresholds("address", [1, 3]),
            ],
            # Each rule keeps blocks small at a million records even when names and postal
            # codes are few: a name alone, or a name and a postal code, would not.
            blocking_rules_to_generate_predictions=[
                block_on("substr(first_name, 1, 1)", "last_name", "postal_code"),
                block_on("first_name", "substr(last_name, 1, 1)", "postal_code"),
                block_on("last_name", "birth_date"),
                block_on("first_name", "birth_date"),
                block_on("birth_date", "postal_code"),
                block_on("email_local"),
                block_on("phone"),
                "l.first_name = r.last_name and l.last_name = r.first_name "
                "and l.postal_code = r.postal_code",
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
    return db_api.register(engine.to_pyarrow(records.select(*MATCH_COLUMNS)), table_name=name)


def _train(linker, n: int) -> None:
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("phone")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=1)
    sample = min(1.0, EM_PAIRS_TARGET / max(n, 1) / 10)
    # Blockings where matches dominate teach m well; each leaves out what it blocks on.
    for rule in (block_on("email"), block_on("phone"), block_on("last_name", "birth_date")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, record_sample_proportion=max(sample, 0.05)
        )


def scored_pairs(
    engine: Engine,
    records: ibis.Table,
    model_path: Path,
    threshold: float,
    new: ibis.Table | None = None,
) -> pa.Table:
    """Pairs above ``threshold`` (``left_rid`` < ``right_rid``), as Arrow; see ``guarded``.

    Without ``new``, the model is estimated on ``records`` and saved to ``model_path`` first,
    then every blocked pair is scored. With ``new`` (records not scored before), the saved
    model scores only the pairs involving a new record: new against old, and new against new.
    """
    from splink import Linker

    db_api = _db_api()
    if new is None:
        frame = _register(db_api, engine, records, "records")
        linker = Linker(frame, _settings(), log_level=logging.ERROR)
        _train(linker, int(engine.execute(records.count())))
        model_path.parent.mkdir(parents=True, exist_ok=True)
        linker.misc.save_model_to_json(str(model_path), overwrite=True)
        parts = [linker.inference.predict(threshold_match_probability=threshold)]
    else:
        old = records.anti_join(new, RID)
        old_frame = _register(db_api, engine, old, "old_records")
        new_frame = _register(db_api, engine, new, "new_records")
        linker = Linker(old_frame, str(model_path), log_level=logging.ERROR)
        for column in TF_COLUMNS:  # frequencies of the known records weigh rare names up
            linker.table_management.compute_tf_table(column)
        parts = [
            linker.inference.predict_between(
                old_frame, new_frame, threshold_match_probability=threshold, warning_mode="never"
            ),
            linker.inference.predict_within(
                new_frame, threshold_match_probability=threshold, warning_mode="never"
            ),
        ]
    tables = [p.as_pandas_dataframe() for p in parts]
    pairs = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if pairs.empty:  # no candidate pair at all
        return pa.table(
            {"left_rid": [], "right_rid": [], "match_probability": []},
            schema=pa.schema(
                [
                    ("left_rid", pa.string()),
                    ("right_rid", pa.string()),
                    ("match_probability", pa.float64()),
                ]
            ),
        )
    lo = pairs[[f"{RID}_l", f"{RID}_r"]].min(axis=1)
    hi = pairs[[f"{RID}_l", f"{RID}_r"]].max(axis=1)
    return pa.table(
        {
            "left_rid": pa.array(lo, pa.string()),
            "right_rid": pa.array(hi, pa.string()),
            "match_probability": pa.array(pairs.match_probability, pa.float64()),
        }
    )


def guarded(pairs: ibis.Table, records: ibis.Table) -> ibis.Table:
    """Scored pairs minus those fuzzy evidence must never join.

    Records with different birth dates, two cards of one source with different loyalty
    numbers, and first names that cannot be one person's (the identifier graph's rule).
    """
    cols = [RID, "source", "first_name", "last_name", "birth_date", "loyalty_id"]
    left = records.select(*cols).rename(lambda c: f"{c}_l")
    right = records.select(*cols).rename(lambda c: f"{c}_r")
    j = pairs.join(left, pairs.left_rid == left.rid_l).join(right, pairs.right_rid == right.rid_r)
    different_birth = (
        j.birth_date_l.notnull() & j.birth_date_r.notnull() & (j.birth_date_l != j.birth_date_r)
    )
    two_cards = (
        (j.source_l == j.source_r)
        & j.loyalty_id_l.notnull()
        & j.loyalty_id_r.notnull()
        & (j.loyalty_id_l != j.loyalty_id_r)
    )
    names = compatible_names(j.first_name_l, j.first_name_r, j.last_name_r)
    ok = j.filter(~different_birth & ~two_cards & names)
    return ok.select(pairs.columns)
