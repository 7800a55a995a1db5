"""Data-driven personas: clusters of homogeneous behaviour, described as cards.

The per-customer behaviour features are built in the engine; only that table (one row per
customer, a few dozen numbers) comes to Python, where scikit-learn's k-means runs on the
standardised features. The number of personas is the one with the best silhouette between
``personas.min_clusters`` and ``max_clusters``, fitted on a fixed sample; the same data and
seed give the same personas, numbered by decreasing size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import sqlglot
from babel.numbers import format_decimal, format_percent
from sqlglot import exp
from threadpoolctl import threadpool_limits

from parcours.config import CONFIG_FILE, PersonasConfig
from parcours.engine import Engine, conform
from parcours.errors import ConfigError, MissingInputError, UserInputError
from parcours.facts import PROFILE, purchases, with_profile_columns
from parcours.metrics.categories import families, family_shares
from parcours.metrics.kpis import read_profile
from parcours.metrics.profile import attach
from parcours.schema import (
    CUSTOMER_CATEGORIES,
    CUSTOMER_KEY,
    ORDER_CHANNELS,
    PERSONA_CROSSING,
    PERSONA_SELECTION,
    PERSONA_TRAITS,
    PERSONAS,
)
from parcours.workspace import Workspace

if TYPE_CHECKING:
    from sklearn.cluster import KMeans

STAGE = "personas"
CRITERION = "silhouette"
NONE = "none"
FLAGS = ("new", "tourist")  # 0/1 features: cards show their mean, a share
AGE_MIDPOINTS = {"18-24": 21, "25-34": 30, "35-44": 40, "45-54": 50, "55-64": 60, "65+": 70}
# Counts and durations are skewed: clustering sees their logarithm, cards show the raw value.
# log(1 + x) for counts and amounts; log(month + x) for durations, so that 2 and 40 days (two
# new customers) stay closer than 40 and 700 days (a new customer and an old one).
LOGGED = {
    "orders": 1.0,
    "average_basket": 1.0,
    "overdue_ratio": 1.0,
    "days_since_last_order": 30.0,
    "tenure_days": 30.0,
    "usual_interval_days": 30.0,
}
# How a trait reads in a persona's name: feature -> ((high EN, high FR), (low EN, low FR)).
PHRASES: dict[str, tuple[tuple[str, str] | None, tuple[str, str] | None]] = {
    "orders": (("frequent", "fréquents"), ("one-off", "ponctuels")),
    "average_basket": (("big-basket", "gros panier"), ("small-basket", "petit panier")),
    "days_since_last_order": (("dormant", "endormis"), ("recent", "récents")),
    "tenure_days": (("long-standing", "anciens"), None),  # the `new` flag says the opposite
    "usual_interval_days": (("infrequent", "espacés"), ("regular", "réguliers")),
    "overdue_ratio": (("lapsing", "décrocheurs"), None),
    "channels_used": (("multichannel", "omnicanaux"), None),
    "festive_share": (("festive", "des fêtes"), None),
    "discount_share": (("promo-driven", "promophiles"), None),
    "new": (("newly recruited", "nouvellement recrutés"), None),
    "tourist": (("tourist", "touristes"), None),
    "age": (("senior", "seniors"), ("young", "jeunes")),
    "store_share": (("in-store", "en magasin"), None),
    "web_share": (("online", "en ligne"), None),
    "app_share": (("app", "sur l'appli"), None),
    "phone_share": (("phone", "par téléphone"), None),
}

# How a trait reads on a persona's card: feature -> (EN, FR).
TRAITS: dict[str, tuple[str, str]] = {
    "orders": ("orders", "commandes"),
    "average_basket": ("average basket (€)", "panier moyen (€)"),
    "days_since_last_order": ("days since the last order", "jours depuis la dernière commande"),
    "tenure_days": ("days since the first order", "jours depuis la première commande"),
    "usual_interval_days": ("usual days between orders", "jours habituels entre deux commandes"),
    "overdue_ratio": (
        "time since the last order / usual interval",
        "délai depuis la dernière commande / délai habituel",
    ),
    "channels_used": ("channels used", "canaux utilisés"),
    "festive_share": ("share of orders in the festive season", "part des commandes des fêtes"),
    "discount_share": ("share of orders with a discount", "part des commandes avec remise"),
    "new": ("newly recruited", "nouvellement recrutés"),
    "tourist": ("tourists", "touristes"),
    "age": ("age", "âge"),
    "store_share": ("share of orders in store", "part des commandes en magasin"),
    "web_share": ("share of orders on the web", "part des commandes sur le web"),
    "app_share": ("share of orders on the app", "part des commandes sur l'appli"),
    "phone_share": ("share of orders by phone", "part des commandes par téléphone"),
}


@dataclass(frozen=True)
class PersonasReport:
    """What ``write_personas`` wrote: the number of personas and how it was chosen."""

    clusters: int
    criterion: str
    criterion_value: float
    customers: int


def behaviour_features(
    engine: Engine, profile: ibis.Table, bought: ibis.Table, new_days: int
) -> ibis.Table:
    """One row per buyer: the behaviour features personas are clustered on.

    Parameters
    ----------
    engine : Engine
        Reads the product families present.
    profile : ibis.Table
        ``customer_profile``.
    bought : ibis.Table
        The purchases up to the profile's date.
    new_days : int
        A customer recruited less than this many days ago is new (``lifecycle.new_days``).

    Returns
    -------
    ibis.Table
        ``customer_key``, RFM-like figures, channel shares (``store_share``...), family shares
        (``family_<name>``), seasonality, promotion share, tourist flag, age band and region.
    """
    p = profile.filter(profile.orders > 0)
    ch = bought.group_by(CUSTOMER_KEY).aggregate(
        **{
            f"{c}_share": (bought.channel == c).cast("float64").mean()
            for c in ORDER_CHANNELS
            if c in ("store", "web", "app", "phone")
        }
    )
    interval = ibis.coalesce(p.usual_interval_days, p.tenure_days.cast("float64"))
    f = p.select(
        CUSTOMER_KEY,
        "orders",
        "average_basket",
        "days_since_last_order",
        "tenure_days",
        usual_interval_days=interval,
        overdue_ratio=p.days_since_last_order / ibis.greatest(interval, 1.0),
        channels_used="channels_used",
        festive_share=p.festive_share.fill_null(0),
        discount_share=p.discount_share.fill_null(0),
        # A flag, as for tourists: on a log scale alone, a few weeks of tenure weigh too
        # little against the other traits for the newly recruited to form their own persona.
        new=(p.tenure_days < new_days).cast("float64"),
        tourist=(p.tourist_store.fill_null(False) & ~p.local_customer.fill_null(True)).cast(
            "float64"
        ),
        age_band="age_band",
        region="region",
        favourite_family="favourite_family",
        preferred_channel="preferred_channel",
        revenue="revenue",
    )
    f = attach(f, ch)
    if engine.has_table(CUSTOMER_CATEGORIES.name):
        categories = engine.table(CUSTOMER_CATEGORIES.name)
        f = attach(f, family_shares(categories, families(engine, categories)))
    return f.order_by(CUSTOMER_KEY)


def _design(features: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """The standardised matrix k-means sees, and the names of its numeric features."""
    numeric = [
        c
        for c in features.columns
        if c
        not in (
            CUSTOMER_KEY,
            "age_band",
            "region",
            "favourite_family",
            "preferred_channel",
            "revenue",
        )
    ]
    x = features[numeric].astype("float64").copy()
    for c, offset in LOGGED.items():
        x[c] = np.log(offset + x[c].clip(lower=0))
    age = features["age_band"].map(AGE_MIDPOINTS).astype("float64")
    if age.notna().any():
        x["age"] = age.fillna(age.mean())
    x = x.fillna(0.0)
    std = x.std(ddof=0).replace(0, 1.0)
    z = (x - x.mean()) / std
    blocks = [z.to_numpy()]
    region = features["region"]
    if region.notna().mean() >= 0.5:
        # One region is one trait: its one-hot block weighs as much as a single feature.
        dummies = pd.get_dummies(region, dtype="float64")
        blocks.append(dummies.to_numpy() / math.sqrt(max(dummies.shape[1], 1)))
    return np.hstack(blocks), list(x.columns)


@dataclass(frozen=True)
class Selection:
    """The number of personas chosen, the silhouette at each number tried, the model kept."""

    clusters: int
    scores: list[tuple[int, float]]
    model: KMeans

    @property
    def value(self) -> float:
        """The silhouette at the chosen number."""
        return dict(self.scores)[self.clusters]


def choose_clusters(x: np.ndarray, settings: PersonasConfig) -> Selection:
    """Fit k-means for each number of personas on a fixed sample; keep the best silhouette."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(settings.seed)
    n = len(x)
    sample = (
        x[np.sort(rng.choice(n, settings.sample_size, replace=False))]
        if n > settings.sample_size
        else x
    )
    top = min(settings.max_clusters, len(sample) - 1)
    if top < settings.min_clusters:
        raise UserInputError(
            f"too few customers ({n}) for {settings.min_clusters} personas",
            hint="lower personas.min_clusters",
        )
    models, scores = {}, []
    for k in range(settings.min_clusters, top + 1):
        models[k] = KMeans(k, n_init=4, random_state=settings.seed).fit(sample)
        score = silhouette_score(
            sample,
            models[k].labels_,
            sample_size=min(len(sample), 5_000),
            random_state=settings.seed,
        )
        scores.append((k, float(score)))
    chosen = max(scores, key=lambda s: (round(s[1], 3), -s[0]))[0]
    return Selection(chosen, scores, models[chosen])


def _name(traits: list[tuple[str, float]]) -> tuple[str, str]:
    """A name from the two leading traits: "Online jardin lovers", "Amateurs de jardin en ligne"."""
    en, fr, family = [], [], None
    for feature, z in traits:
        if len(en) + (family is not None) == 2:
            break
        if feature.startswith("family_"):
            if z > 0 and family is None:
                family = feature.removeprefix("family_").replace("_", " ")
            continue
        high, low = PHRASES.get(feature, (None, None))
        phrase = high if z > 0 else low
        if phrase:
            en.append(phrase[0])
            fr.append(phrase[1])
    if family is not None:
        of = "d'" if family[0].lower() in "aeiouyéèh" else "de "
        return (
            " ".join([*en, f"{family} lovers"]).capitalize(),
            " ".join([f"Amateurs {of}{family}", *fr]),
        )
    if not en:
        return "Typical customers", "Clients typiques"
    return ", ".join(en).capitalize() + " customers", "Clients " + ", ".join(fr)


def _mode(s: pd.Series) -> str | None:
    s = s.dropna()
    return None if s.empty else str(s.value_counts().sort_index().idxmax())


def persona_cards(
    features: pd.DataFrame, labels: np.ndarray, names: list[str], chosen: tuple[int, float]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The persona cards and the trait table, from the features and the cluster of each row.

    Parameters
    ----------
    features : pandas.DataFrame
        ``behaviour_features`` rows.
    labels : numpy.ndarray
        Persona id of each row.
    names : list of str
        The numeric features (``age`` derived from the band).
    chosen : (int, float)
        Number of clusters and its criterion value.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Rows of ``personas`` and of ``persona_traits``.
    """
    f = features.copy()
    f["age"] = f["age_band"].map(AGE_MIDPOINTS).astype("float64")
    f["persona"] = labels
    mean, std = f[names].mean(), f[names].std(ddof=0).replace(0, 1.0)
    total_rev = f["revenue"].sum() or 1.0
    cards, traits = [], []
    for persona, g in f.groupby("persona", sort=True):
        z = (g[names].mean() - mean) / std
        ranked = sorted(z.items(), key=lambda kv: -abs(kv[1]))
        for feature in names:
            is_share = _is_share(feature)
            value = g[feature].mean() if is_share else g[feature].median()
            pop = f[feature].mean() if is_share else f[feature].median()
            traits.append(
                {
                    "persona": persona,
                    "feature": feature,
                    "persona_value": float(value) if pd.notna(value) else 0.0,
                    "population_value": float(pop) if pd.notna(pop) else 0.0,
                    "z_score": float(z[feature]) if pd.notna(z[feature]) else 0.0,
                }
            )
        top = [(k, v) for k, v in ranked if pd.notna(v)][:4]
        name_en, name_fr = _name(top)
        fams = g["favourite_family"].dropna().value_counts()
        cards.append(
            {
                "persona": persona,
                "name_en": name_en,
                "name_fr": name_fr,
                "customers": len(g),
                "customer_share": len(g) / len(f),
                "revenue_share": float(g["revenue"].sum() / total_rev),
                "preferred_channel": _mode(g["preferred_channel"]) or NONE,
                "favourite_families": ", ".join(fams.index[:2]) if len(fams) else None,
                "age_band": _mode(g["age_band"]),
                "region": _mode(g["region"]),
                "traits_en": "; ".join(_trait_text(k, g, f, en=True) for k, _ in top),
                "traits_fr": "; ".join(_trait_text(k, g, f, en=False) for k, _ in top),
                "clusters": chosen[0],
                "criterion": CRITERION,
                "criterion_value": chosen[1],
            }
        )
    cards_df = pd.DataFrame(cards)
    _dedupe_names(cards_df)
    return cards_df, pd.DataFrame(traits)


def _is_share(feature: str) -> bool:
    """Whether the feature is a share or a flag, shown as its mean rather than its median."""
    return feature.endswith("_share") or feature.startswith("family_") or feature in FLAGS


def _trait_text(feature: str, g: pd.DataFrame, f: pd.DataFrame, *, en: bool) -> str:
    """``share of orders in store: 96% (all customers: 57%)``, in English or French."""
    if feature.startswith("family_"):
        family = feature.removeprefix("family_").replace("_", " ")
        label = f"{family} share of spend" if en else f"part des dépenses en {family}"
    else:
        label = TRAITS.get(feature, (feature, feature))[0 if en else 1]
    if _is_share(feature):
        a, b = (_number(v, "pct", en) for v in (g[feature].mean(), f[feature].mean()))
    else:
        a, b = (_number(v, "num", en) for v in (g[feature].median(), f[feature].median()))
    return f"{label}: {a} (all customers: {b})" if en else f"{label} : {a} (ensemble : {b})"


def _number(value: float, kind: str, en: bool) -> str:
    locale = "en_GB" if en else "fr_FR"
    if pd.isna(value):
        return "-"
    if kind == "pct":
        return format_percent(value, locale=locale)
    return format_decimal(value, "#,##0" if abs(value) >= 10 else "#,##0.#", locale=locale)


def _dedupe_names(cards: pd.DataFrame) -> None:
    for col, joiner in (("name_en", " ({})"), ("name_fr", " ({})")):
        seen: dict[str, int] = {}
        for i, name in cards[col].items():
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                cards.loc[i, col] = name + joiner.format(seen[name])


def cluster_personas(
    features: pd.DataFrame, settings: PersonasConfig
) -> tuple[np.ndarray, list[str], Selection]:
    """Cluster the customers; personas are numbered by decreasing size.

    The model is fitted on the selection sample and every customer goes to the nearest
    persona: a second fit on all customers would cost more and move the centres little.

    Returns
    -------
    (labels, feature names, selection)
    """
    x, names = _design(features)
    # Threaded BLAS on a small machine is ten times slower than one thread for k-means.
    with threadpool_limits(limits=1):
        selection = choose_clusters(x, settings)
        raw = selection.model.predict(x)
    k = selection.clusters
    sizes = np.bincount(raw, minlength=k)
    # Ties in size are broken by the cluster's first customer, itself fixed by the key order;
    # a persona the sample found may attract nobody in the whole population.
    first = np.array([np.flatnonzero(raw == c)[0] if sizes[c] else len(raw) for c in range(k)])
    order = sorted(range(k), key=lambda c: (-sizes[c], first[c]))
    ids = np.empty(k, dtype=object)
    for rank, c in enumerate(order):
        ids[c] = f"persona_{rank + 1:02d}"
    return ids[raw], names, selection


# What a marketing rule may contain: the profile's columns, literals, and comparison, boolean
# and arithmetic operators with a few plain functions. A rule is interpolated into SQL, so
# anything else (a subquery, a table function, a file read) is refused before it runs.
_RULE_NODES = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Tuple,
    exp.Not,
    exp.And,
    exp.Or,
    exp.Neg,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.Coalesce,
    exp.Abs,
    exp.Round,
    exp.Floor,
    exp.Ceil,
    exp.Least,
    exp.Greatest,
    exp.Lower,
    exp.Upper,
    exp.Length,
)


def rule_problem(condition: str, columns: set[str], dialect: str) -> tuple[str, str | None]:
    """The rule as engine SQL and ``None``, or ``''`` and what is wrong with it."""
    try:
        tree = sqlglot.parse_one(condition, read=dialect)
    except sqlglot.errors.SqlglotError as e:
        return "", f"the condition does not parse: {str(e).splitlines()[0]}"
    for node in tree.walk():
        if not isinstance(node, _RULE_NODES):
            what = node.sql(dialect=dialect) or type(node).__name__
            return "", (
                f"`{what}` is not allowed in a condition (columns, values, comparisons, "
                "and/or/not, arithmetic and coalesce, abs, round, floor, ceil, least, greatest, "
                "lower, upper, length)"
            )
        if isinstance(node, exp.Column) and (node.table or node.name not in columns):
            return "", f"unknown column `{node.sql(dialect=dialect)}` of customer_profile"
    return tree.sql(dialect=dialect), None


def with_marketing_personas(profile: ibis.Table, rules: dict[str, str], dialect: str) -> ibis.Table:
    """``profile`` with ``marketing_persona``: the first rule of ``personas.marketing`` to match.

    Raises
    ------
    ConfigError
        When a rule does not parse, names a column the profile does not have, or holds
        anything but a condition over the profile's columns (see ``_RULE_NODES``).
    """
    if "marketing_persona" in profile.columns:
        profile = profile.drop("marketing_persona")
    columns = set(profile.columns)
    cases, problems = [], []
    for name, condition in rules.items():
        sql, problem = rule_problem(condition, columns, dialect)
        if problem:
            problems.append(f"personas.marketing.{name}: {problem}")
            continue
        label = name.replace("'", "''")
        cases.append(f"WHEN ({sql}) THEN '{label}'")
    if problems:
        raise ConfigError(
            CONFIG_FILE,
            problems,
            hint=f"columns of customer_profile: {', '.join(sorted(columns))}",
        )
    case = f"CASE {' '.join(cases)} ELSE '{NONE}' END" if cases else f"'{NONE}'"
    sql = f"SELECT *, {case} AS marketing_persona FROM {PROFILE}"
    try:
        return profile.alias(PROFILE).sql(sql, dialect=dialect)
    except Exception as e:
        raise UserInputError(
            f"personas.marketing: a condition failed: {str(e).splitlines()[0]}"
        ) from None


def persona_crossing(profile: ibis.Table) -> ibis.Table:
    """Marketing personas crossed with the data personas and segments."""
    p = profile.filter(profile.orders > 0)
    parts = []
    for dim in ("persona", "lifecycle_segment", "rfm_segment"):
        if dim not in p.columns:
            continue
        g = p.mutate(segment=p[dim].fill_null(NONE), dimension=ibis.literal(dim))
        parts.append(
            g.group_by("marketing_persona", "dimension", "segment").aggregate(customers=g.count())
        )
    t = ibis.union(*parts)
    total = t.customers.sum().over(group_by=[t.marketing_persona, t.dimension])
    return t.mutate(customers=t.customers.cast("int64"), share=t.customers.cast("float64") / total)


def write_personas(ws: Workspace) -> PersonasReport:
    """Cluster the customers into personas; write the cards and the ``persona`` column.

    Parameters
    ----------
    ws : Workspace
        The workspace; ``parcours profile`` must have run (``parcours segments`` too for the
        crossing with lifecycle and RFM segments).

    Returns
    -------
    PersonasReport
        The number of personas and the criterion that chose it.
    """
    engine = ws.engine
    settings = ws.config.personas
    if settings.min_clusters > settings.max_clusters:
        raise UserInputError(
            "personas.min_clusters is above personas.max_clusters",
            hint="set min_clusters <= max_clusters in parcours.yaml",
        )
    profile, as_of = read_profile(engine)
    features = engine.execute(
        behaviour_features(engine, profile, purchases(engine, as_of), ws.config.lifecycle.new_days)
    )
    if len(features) <= settings.min_clusters:
        raise MissingInputError(
            f"too few customers with a purchase ({len(features)}) for personas",
            hint="lower personas.min_clusters or ingest more orders",
        )
    labels, names, selection = cluster_personas(features, settings)
    k = selection.clusters
    chosen = (k, selection.value)
    cards, traits = persona_cards(features, labels, names, chosen)
    assigned = pa.table(
        {
            CUSTOMER_KEY: pa.array(features[CUSTOMER_KEY].astype(str), pa.string()),
            "persona": pa.array(list(labels), pa.string()),
        }
    )
    engine.write("personas__assigned", engine.from_arrow(assigned, "personas__rows"), stage=STAGE)
    # One rewrite of the profile: the marketing rules may read the new persona column.
    profile = with_profile_columns(engine, engine.table("personas__assigned"))
    dialect = "duckdb" if engine.name == "duckdb" else "spark"
    profile = with_marketing_personas(profile, settings.marketing, dialect)
    engine.write(PROFILE, profile, stage=STAGE)
    engine.drop("personas__assigned")

    tried = pa.Table.from_pylist(
        [
            {"clusters": n, "criterion": CRITERION, "value": value, "chosen": n == k}
            for n, value in selection.scores
        ]
    )
    for spec, data in (
        (PERSONAS, pa.Table.from_pandas(cards, preserve_index=False)),
        (PERSONA_TRAITS, pa.Table.from_pandas(traits, preserve_index=False)),
        (PERSONA_SELECTION, tried),
    ):
        table = engine.from_arrow(data, f"{spec.name}__rows")
        engine.write(spec.name, conform(table, spec), stage=STAGE)
    engine.write(
        PERSONA_CROSSING.name,
        persona_crossing(engine.table("customer_profile")).select(*PERSONA_CROSSING.column_names),
        stage=STAGE,
    )
    return PersonasReport(k, CRITERION, selection.value, len(features))
