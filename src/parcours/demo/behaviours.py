"""The planted behaviours and every parameter of the demo's ground truth, as data.

Each customer of the demo follows exactly one behaviour. The values here are what the
generator draws from, and what tests compare the measured KPIs against: basket sizes,
purchase rhythms, channel probabilities, category preferences, the delay to the second
purchase by first channel, the renewal cycle of each consumable category, the funnel and its
friction step, the moment of truth, and the identity noise of each source.

Times are in days, amounts in euros (taxes included), probabilities in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

ORDER_CHANNELS = ("store", "web", "app", "phone")  # the demo's channels, in code order


def _frozen(mapping: dict) -> MappingProxyType:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Behaviour:
    """What every behaviour has.

    Attributes
    ----------
    name : str
        Identifier, as in the ground truth.
    label : str
        The persona's French name, as a marketer would say it.
    share : float
        Share of the population.
    channels : Mapping[str, float]
        Probability of each channel (store, web, app, phone) for an order; the person's
        main channel is drawn from it, and the first order is always on the main channel.
    channel_loyalty : float
        Probability that an order after the first uses the main channel; otherwise it is
        drawn from ``channels`` again.
    basket_eur : float
        Mean target amount of an order, before the durable and festive extra lines.
    basket_sigma : float
        Log-normal spread of the target amount.
    lines_mean : float
        Mean number of regular lines per order (at least one).
    categories : Mapping[str, float]
        Category preferences of the regular lines.
    durable_prob : float
        Probability that an order also holds one durable product; each durable category is
        bought at most once per person.
    age_mean, age_sd : float
        Age distribution of the persona.
    research_online_prob : float
        For people without web orders: probability to have a web account and look at
        products online before buying in store.
    app_loyalty_prob : float
        For people without app orders: probability to use the app as a loyalty card.
    """

    name: str
    label: str
    share: float
    channels: MappingProxyType
    channel_loyalty: float
    basket_eur: float
    basket_sigma: float
    lines_mean: float
    categories: MappingProxyType
    durable_prob: float = 0.0
    age_mean: float = 45.0
    age_sd: float = 13.0
    research_online_prob: float = 0.0
    app_loyalty_prob: float = 0.0

    @property
    def kind(self) -> str:
        """How the purchase dates are drawn."""
        return "rhythm"

    def as_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready data."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = dict(value) if isinstance(value, MappingProxyType) else value
        return out


@dataclass(frozen=True)
class RhythmBehaviour(Behaviour):
    """Purchases at a regular rhythm from a recruitment date to the end of the history.

    Attributes
    ----------
    gap_days : float
        Mean days between two purchases (gamma distributed).
    gap_shape : float
        Gamma shape of the gaps; the coefficient of variation is ``1 / sqrt(gap_shape)``.
    recent_days : int or None
        When set, the first purchase falls in the last ``recent_days`` days of the history;
        otherwise it is uniform over the history, at least ``30`` days before its end.
    second_purchase_rule : bool
        When true, the delay between the first and second purchases follows
        ``SECOND_PURCHASE`` (it depends on the channel of the first purchase).
    """

    gap_days: float = 30.0
    gap_shape: float = 2.0
    recent_days: int | None = None
    second_purchase_rule: bool = False


@dataclass(frozen=True)
class LapsingBehaviour(RhythmBehaviour):
    """A rhythm that stops at a planted lapse date (a décrocheur).

    The truth's ``lapse_date`` is a midnight: the customer buys nothing from then on.

    Attributes
    ----------
    active_min_days : int
        The lapse date is at least this many days after the first purchase.
    silent_min_days : int
        ... and at least this many days before the end of the history.
    """

    active_min_days: int = 120
    silent_min_days: int = 120

    @property
    def kind(self) -> str:
        return "lapsing"


@dataclass(frozen=True)
class ReplenishmentBehaviour(Behaviour):
    """Buys one consumable category again and again, on that category's renewal cycle.

    The gap between two orders is ``RENEWAL_DAYS[category]`` times a gamma variable of mean
    1 and coefficient of variation ``renewal_cv``. Each order holds one line of the
    favourite category plus ``lines_mean - 1`` lines (on average) of ``categories``.

    Attributes
    ----------
    favourites : Mapping[str, float]
        Probability of each consumable category to be the person's favourite.
    renewal_cv : float
        Coefficient of variation of the renewal gaps.
    favourite_share : float
        Share of the basket target spent on the favourite category.
    """

    favourites: MappingProxyType = field(default_factory=lambda: _frozen({}))
    renewal_cv: float = 0.25
    favourite_share: float = 0.75

    @property
    def kind(self) -> str:
        return "replenishment"


@dataclass(frozen=True)
class FestiveBehaviour(Behaviour):
    """Active only in the festive windows, with large premium baskets.

    The person is recruited in one Christmas or Easter window (drawn uniformly among those
    of the history) and takes part in each later festive window with ``participation`` of
    its kind; a window they take part in holds one order, two with ``extra_order_prob``.
    """

    participation: MappingProxyType = field(default_factory=lambda: _frozen({}))
    extra_order_prob: float = 0.25

    @property
    def kind(self) -> str:
        return "festive"


@dataclass(frozen=True)
class PromoBehaviour(Behaviour):
    """Buys only in the promotion windows, always with a discount.

    Recruited in one promotion window (uniform among those of the history), then takes part
    in each later one with ``participation``; one order per window, two with
    ``extra_order_prob``. The discount rate follows ``PROMOTIONS``.
    """

    participation: float = 0.45
    extra_order_prob: float = 0.1

    @property
    def kind(self) -> str:
        return "promo"


@dataclass(frozen=True)
class TouristBehaviour(Behaviour):
    """One purchase in a tourist-area store, during the holidays, living elsewhere.

    Attributes
    ----------
    summer_share : float
        Probability the visit is in July-August rather than other school holidays.
    store_weights : Mapping[str, float]
        Which tourist store is visited.
    """

    summer_share: float = 0.7
    store_weights: MappingProxyType = field(default_factory=lambda: _frozen({}))

    @property
    def kind(self) -> str:
        return "tourist"


_EVERYDAY = {"epicerie": 0.3, "cave": 0.2, "decoration": 0.25, "plantes": 0.25}

WEEKLY_REGULAR = RhythmBehaviour(
    name="weekly_regular",
    label="Habitué urbain du samedi",
    share=0.10,
    channels=_frozen({"store": 1.0}),
    channel_loyalty=1.0,
    basket_eur=35.0,
    basket_sigma=0.3,
    lines_mean=3.5,
    categories=_frozen({"epicerie": 0.62, "cave": 0.25, "plantes": 0.08, "decoration": 0.05}),
    age_mean=38,
    age_sd=11,
    research_online_prob=0.05,
    app_loyalty_prob=0.2,
    gap_days=7.0,
    gap_shape=4.0,
)
FESTIVE = FestiveBehaviour(
    name="festive",
    label="Gourmet des fêtes",
    share=0.10,
    channels=_frozen({"store": 0.72, "web": 0.23, "phone": 0.05}),
    channel_loyalty=0.85,
    basket_eur=160.0,
    basket_sigma=0.35,
    lines_mean=4.0,
    categories=_frozen({"foie_gras": 0.3, "chocolat": 0.3, "coffrets": 0.25, "cave": 0.15}),
    age_mean=56,
    age_sd=12,
    research_online_prob=0.15,
    participation=_frozen({"christmas": 0.9, "easter": 0.65, "mothers_day": 0.3}),
    extra_order_prob=0.25,
)
MULTICHANNEL = RhythmBehaviour(
    name="multichannel",
    label="Omnicanal engagé",
    share=0.10,
    channels=_frozen({"store": 0.45, "web": 0.35, "app": 0.2}),
    channel_loyalty=0.0,
    basket_eur=85.0,
    basket_sigma=0.45,
    lines_mean=3.0,
    categories=_frozen({"epicerie": 0.25, "cave": 0.15, "plantes": 0.25, "decoration": 0.35}),
    durable_prob=0.03,
    age_mean=41,
    age_sd=10,
    gap_days=21.0,
    gap_shape=2.0,
    second_purchase_rule=True,
)
WEB_REPLENISHMENT = ReplenishmentBehaviour(
    name="web_replenishment",
    label="Réassort en ligne",
    share=0.10,
    channels=_frozen({"web": 1.0}),
    channel_loyalty=1.0,
    basket_eur=48.0,
    basket_sigma=0.25,
    lines_mean=1.6,
    categories=_frozen({"epicerie": 0.6, "decoration": 0.2, "plantes": 0.2}),
    age_mean=44,
    age_sd=12,
    favourites=_frozen({"cafe": 0.4, "croquettes": 0.35, "engrais": 0.25}),
    renewal_cv=0.25,
    favourite_share=0.75,
)
PROMO_HUNTER = PromoBehaviour(
    name="promo_hunter",
    label="Chasseur de promotions",
    share=0.10,
    channels=_frozen({"store": 0.5, "web": 0.4, "app": 0.1}),
    channel_loyalty=0.8,
    basket_eur=70.0,
    basket_sigma=0.45,
    lines_mean=2.5,
    categories=_frozen(_EVERYDAY),
    durable_prob=0.05,
    age_mean=33,
    age_sd=10,
    research_online_prob=0.3,
    participation=0.45,
    extra_order_prob=0.1,
)
LAPSING = LapsingBehaviour(
    name="lapsing",
    label="Décrocheur",
    share=0.10,
    channels=_frozen({"store": 0.6, "web": 0.3, "app": 0.1}),
    channel_loyalty=0.85,
    basket_eur=55.0,
    basket_sigma=0.4,
    lines_mean=3.0,
    categories=_frozen({"epicerie": 0.35, "cave": 0.2, "decoration": 0.2, "plantes": 0.25}),
    age_mean=45,
    age_sd=14,
    research_online_prob=0.1,
    app_loyalty_prob=0.1,
    gap_days=21.0,
    gap_shape=3.0,
    second_purchase_rule=True,
    active_min_days=120,
    silent_min_days=120,
)
TOURIST = TouristBehaviour(
    name="tourist",
    label="Touriste de passage",
    share=0.08,
    channels=_frozen({"store": 1.0}),
    channel_loyalty=1.0,
    basket_eur=45.0,
    basket_sigma=0.45,
    lines_mean=2.5,
    categories=_frozen({"epicerie": 0.5, "cave": 0.3, "decoration": 0.2}),
    age_mean=50,
    age_sd=14,
    summer_share=0.7,
    store_weights=_frozen({"M09": 0.3, "M10": 0.25, "M11": 0.25, "M12": 0.2}),
)
NEW_CUSTOMER = RhythmBehaviour(
    name="new_customer",
    label="Nouveau client",
    share=0.08,
    channels=_frozen({"store": 0.45, "web": 0.4, "app": 0.15}),
    channel_loyalty=0.85,
    basket_eur=50.0,
    basket_sigma=0.4,
    lines_mean=2.5,
    categories=_frozen(_EVERYDAY),
    age_mean=36,
    age_sd=11,
    research_online_prob=0.2,
    gap_days=30.0,
    gap_shape=2.0,
    recent_days=90,
    second_purchase_rule=True,
)
DISCREET_PREMIUM = RhythmBehaviour(
    name="discreet_premium",
    label="Client discret à forte valeur",
    share=0.05,
    channels=_frozen({"store": 0.47, "web": 0.47, "phone": 0.06}),
    channel_loyalty=0.5,
    basket_eur=480.0,
    basket_sigma=0.3,
    lines_mean=3.0,
    categories=_frozen({"decoration": 0.3, "plantes": 0.2, "cave": 0.3, "epicerie": 0.2}),
    durable_prob=0.35,
    age_mean=52,
    age_sd=10,
    gap_days=91.0,
    gap_shape=4.0,
)
OCCASIONAL = RhythmBehaviour(
    name="occasional",
    label="Occasionnel",
    share=0.19,
    channels=_frozen({"store": 0.55, "web": 0.35, "app": 0.1}),
    channel_loyalty=0.9,
    basket_eur=60.0,
    basket_sigma=0.45,
    lines_mean=2.5,
    categories=_frozen(_EVERYDAY),
    durable_prob=0.02,
    age_mean=46,
    age_sd=15,
    research_online_prob=0.3,
    app_loyalty_prob=0.1,
    gap_days=75.0,
    gap_shape=1.5,
    second_purchase_rule=True,
)

BEHAVIOURS: MappingProxyType = _frozen(
    {
        b.name: b
        for b in (
            WEEKLY_REGULAR,
            FESTIVE,
            MULTICHANNEL,
            WEB_REPLENISHMENT,
            PROMO_HUNTER,
            LAPSING,
            TOURIST,
            NEW_CUSTOMER,
            DISCREET_PREMIUM,
            OCCASIONAL,
        )
    }
)
"""Every behaviour by name; their shares sum to 1."""

RENEWAL_DAYS: MappingProxyType = _frozen({"cafe": 30, "croquettes": 45, "engrais": 60})
"""Renewal cycle of each consumable category, in days. Consumable categories are bought only
by ``web_replenishment`` customers, one line per order, so the mean gap between two
purchases of a category by one customer measures this cycle. Durable categories
(outillage, motoculture, mobilier) are bought at most once per customer."""


@dataclass(frozen=True)
class SecondPurchase:
    """Delay from the first to the second purchase, by channel of the first purchase.

    Gamma distributed with mean ``mean_days[channel]`` and shape ``shape``, for the
    behaviours in ``applies_to`` (the others keep their own rhythm). Web- and app-first
    customers come back faster than store-first ones.
    """

    mean_days: MappingProxyType
    shape: float
    applies_to: tuple[str, ...]


SECOND_PURCHASE = SecondPurchase(
    mean_days=_frozen({"store": 42.0, "web": 21.0, "app": 14.0, "phone": 42.0}),
    shape=1.5,
    applies_to=tuple(
        b.name for b in BEHAVIOURS.values() if getattr(b, "second_purchase_rule", False)
    ),
)


@dataclass(frozen=True)
class Promotions:
    """Discounts: promotion hunters always get one; others in a window with ``other_prob``."""

    rates: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4)
    rate_probs: tuple[float, ...] = (0.2, 0.4, 0.3, 0.1)
    other_prob: float = 0.3


PROMOTIONS = Promotions()


@dataclass(frozen=True)
class Festive:
    """Festive products in others' baskets.

    One festive line with ``extra_line_prob`` for an order placed in a festive window
    (festive categories sell only in those windows).
    """

    extra_line_prob: float = 0.25
    categories: tuple[str, ...] = ("foie_gras", "chocolat", "coffrets")


FESTIVE_SEASON = Festive()


@dataclass(frozen=True)
class Statuses:
    """Cancelled and returned orders, by channel; never a person's first two orders."""

    cancelled: MappingProxyType
    returned: MappingProxyType


STATUSES = Statuses(
    cancelled=_frozen({"store": 0.01, "web": 0.03, "app": 0.03, "phone": 0.02}),
    returned=_frozen({"store": 0.02, "web": 0.04, "app": 0.04, "phone": 0.02}),
)


@dataclass(frozen=True)
class AnonymousSales:
    """Store tickets with no customer card: ``share`` of all store tickets."""

    share: float = 0.2
    basket_eur: float = 28.0
    basket_sigma: float = 0.5
    lines_mean: float = 2.0
    categories: MappingProxyType = field(
        default_factory=lambda: _frozen({"epicerie": 0.5, "cave": 0.25, "decoration": 0.25})
    )


ANONYMOUS_SALES = AnonymousSales()


@dataclass(frozen=True)
class ClickAndCollect:
    """Web and app orders picked up in the person's store (when they live near one)."""

    prob: float = 0.2


CLICK_AND_COLLECT = ClickAndCollect()


@dataclass(frozen=True)
class Funnel:
    """The web or app purchase funnel, step by step.

    Every order placed on the channel is the end of a session page_view -> product_view ->
    add_to_cart -> checkout_start -> purchase. Sessions that stop earlier are added so that
    ``cart_to_checkout`` = P(checkout_start | add_to_cart) and ``checkout_to_purchase`` =
    P(purchase | checkout_start), in expectation. Cart abandonment (sessions with an
    add_to_cart and no purchase) is ``1 - cart_to_checkout * checkout_to_purchase``.
    """

    channel: str
    cart_to_checkout: float
    checkout_to_purchase: float
    anonymous_start_prob: float = 0.35
    anonymous_abandon_prob: float = 0.5
    browse_sessions_per_order: float = 0.3

    @property
    def abandonment(self) -> float:
        """Planted cart-abandonment rate."""
        return 1.0 - self.cart_to_checkout * self.checkout_to_purchase


FUNNELS: MappingProxyType = _frozen(
    {
        "web": Funnel("web", cart_to_checkout=0.7, checkout_to_purchase=0.85),
        # The friction point: the app's payment page loses more than half of its visitors.
        "app": Funnel("app", cart_to_checkout=0.65, checkout_to_purchase=0.45),
    }
)
FRICTION = _frozen(
    {
        "channel": "app",
        "from_step": "checkout_start",
        "to_step": "purchase",
        "page": "app://paiement",
        "drop_off": round(1 - FUNNELS["app"].checkout_to_purchase, 4),
        "reference_drop_off": round(1 - FUNNELS["web"].checkout_to_purchase, 4),
    }
)


@dataclass(frozen=True)
class Delivery:
    """Home delivery of web and app orders (not picked up in store)."""

    promised_days: tuple[int, ...] = (2, 3, 5)
    promised_probs: tuple[float, ...] = (0.2, 0.6, 0.2)
    late_prob: float = 0.06
    late_days: tuple[int, int] = (2, 9)  # how late, uniform
    early_prob: float = 0.3  # delivered a day before the promise


DELIVERY = Delivery()


@dataclass(frozen=True)
class Support:
    """Customer-service tickets about an order."""

    ticket_prob: MappingProxyType = field(
        default_factory=lambda: _frozen({"store": 0.01, "web": 0.02, "app": 0.02, "phone": 0.01})
    )
    ticket_prob_late: float = 0.45
    resolved_prob: float = 0.8
    resolved_prob_late: float = 0.65


SUPPORT = Support()


@dataclass(frozen=True)
class Survey:
    """Satisfaction survey after a delivery: score 1-5, lower when the delivery was late."""

    response_prob: float = 0.3
    score_probs_on_time: tuple[float, ...] = (0.02, 0.03, 0.1, 0.35, 0.5)
    score_probs_late: tuple[float, ...] = (0.25, 0.3, 0.25, 0.15, 0.05)

    @staticmethod
    def mean(probs: tuple[float, ...]) -> float:
        """Expected score."""
        return sum((i + 1) * p for i, p in enumerate(probs))


SURVEY = Survey()


@dataclass(frozen=True)
class MomentOfTruth:
    """A late delivery or an unresolved ticket: the customer leaves with ``churn_prob``.

    After the first such event, the customer stops buying with ``churn_prob`` (all their
    later orders are removed); otherwise they go on as before. ``horizon_days`` is the window
    of the realised repurchase rates recorded in ``planted.json``.
    """

    churn_prob: float = 0.5
    horizon_days: int = 90


MOMENT_OF_TRUTH = MomentOfTruth()


@dataclass(frozen=True)
class Consents:
    """Opt-in at record creation, per source and contact channel, then later opt-outs."""

    opt_in: MappingProxyType
    opt_out_prob: MappingProxyType


CONSENTS = Consents(
    opt_in=_frozen(
        {
            "store": _frozen({"email": 0.55, "sms": 0.35, "post": 0.5}),
            "web": _frozen({"email": 0.65, "sms": 0.3}),
            "app": _frozen({"push": 0.6}),
        }
    ),
    opt_out_prob=_frozen({"email": 0.15, "sms": 0.15, "post": 0.1, "push": 0.25}),
)


@dataclass(frozen=True)
class Emails:
    """The e-mail programme: a weekly campaign sent to a share of the opted-in contacts."""

    every_days: int = 7
    target_prob: float = 0.2
    open_prob: float = 0.22
    open_prob_festive: float = 0.45  # festive customers opening a festive-season campaign
    click_prob: float = 0.18  # of the opens


EMAILS = Emails()


@dataclass(frozen=True)
class SourceNoise:
    """How one source writes a person: probabilities of each kind of mess.

    ``phone_formats`` names the formats of ``people.PHONE_FORMATS`` with their probability.
    """

    typo: float
    swap_names: float
    drop_accents: float
    email_missing: float
    email_upper: float
    email_spaces: float
    email_pro: float
    phone_missing: float
    phone_formats: MappingProxyType
    birth_missing: float
    address_short: float = 0.0
    duplicate: float = 0.0


IDENTITY_NOISE: MappingProxyType = _frozen(
    {
        "store": SourceNoise(
            typo=0.04,
            swap_names=0.02,
            drop_accents=0.5,
            email_missing=0.25,
            email_upper=0.1,
            email_spaces=0.03,
            email_pro=0.05,
            phone_missing=0.2,
            phone_formats=_frozen({"spaced": 0.5, "compact": 0.3, "dotted": 0.2}),
            birth_missing=0.3,
            address_short=0.3,
            duplicate=0.015,
        ),
        "web": SourceNoise(
            typo=0.03,
            swap_names=0.01,
            drop_accents=0.1,
            email_missing=0.0,
            email_upper=0.05,
            email_spaces=0.02,
            email_pro=0.05,
            phone_missing=0.3,
            phone_formats=_frozen({"e164": 0.5, "spaced": 0.3, "intl00": 0.2}),
            birth_missing=0.4,
            address_short=0.1,
            duplicate=0.03,
        ),
        "app": SourceNoise(
            typo=0.02,
            swap_names=0.0,
            drop_accents=0.2,
            email_missing=0.0,
            email_upper=0.0,
            email_spaces=0.0,
            email_pro=0.03,
            phone_missing=0.6,
            phone_formats=_frozen({"e164_spaced": 1.0}),
            birth_missing=0.7,
        ),
        "emailing": SourceNoise(
            typo=0.01,
            swap_names=0.0,
            drop_accents=0.3,
            email_missing=0.0,
            email_upper=0.05,
            email_spaces=0.0,
            email_pro=0.0,
            phone_missing=1.0,
            phone_formats=_frozen({"e164": 1.0}),
            birth_missing=1.0,
        ),
        "service": SourceNoise(
            typo=0.05,
            swap_names=0.03,
            drop_accents=0.3,
            email_missing=0.2,
            email_upper=0.0,
            email_spaces=0.0,
            email_pro=0.1,
            phone_missing=0.3,
            phone_formats=_frozen({"compact": 0.7, "spaced": 0.3}),
            birth_missing=1.0,
        ),
    }
)


@dataclass(frozen=True)
class IdentityCases:
    """The hard cases of identity, as shares of the population.

    Twins and siblings live at one address with one last name and different first names
    and e-mails (twins share their birth date, siblings do not). In a couple sharing an
    e-mail, the partner's store card holds the other's e-mail and no phone. A married name
    change shows the maiden name on the store card; a move shows the old address there. A
    pro e-mail appears in some records instead of the personal one.
    """

    twins: float = 0.004
    siblings: float = 0.004
    shared_email: float = 0.01
    married_name: float = 0.03  # of women aged 25-50
    moved: float = 0.05
    pro_email: float = 0.12
    mobile: float = 0.9


IDENTITY_CASES = IdentityCases()


@dataclass(frozen=True)
class BadRows:
    """Rows of the store export that must go to quarantine, as a share of its tickets."""

    rate: float = 0.001
    ticket_reasons: tuple[str, ...] = (
        "negative amount",
        "impossible date",
        "unknown channel code",
        "missing ticket number",
    )
    line_reasons: tuple[str, ...] = ("negative quantity", "missing product code")


BAD_ROWS = BadRows()


def planted_parameters() -> dict[str, Any]:
    """Every planted parameter as JSON-ready data (the static part of ``planted.json``).

    Returns
    -------
    dict
        Behaviours, renewal cycles, delays, funnels, moment of truth and noise settings.
    """

    def plain(value: Any) -> Any:
        if isinstance(value, MappingProxyType | dict):
            return {k: plain(v) for k, v in value.items()}
        if hasattr(value, "__dataclass_fields__"):
            return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value

    return {
        "behaviours": {name: plain(b.as_dict()) for name, b in BEHAVIOURS.items()},
        "renewal_days": dict(RENEWAL_DAYS),
        "second_purchase_delay": plain(SECOND_PURCHASE),
        "promotions": plain(PROMOTIONS),
        "festive_season": plain(FESTIVE_SEASON),
        "statuses": plain(STATUSES),
        "anonymous_sales": plain(ANONYMOUS_SALES),
        "click_and_collect": plain(CLICK_AND_COLLECT),
        "funnels": {
            k: {**plain(f), "abandonment": round(f.abandonment, 4)} for k, f in FUNNELS.items()
        },
        "friction": dict(FRICTION),
        "delivery": plain(DELIVERY),
        "support": plain(SUPPORT),
        "survey": {
            **plain(SURVEY),
            "mean_on_time": SURVEY.mean(SURVEY.score_probs_on_time),
            "mean_late": SURVEY.mean(SURVEY.score_probs_late),
        },
        "moment_of_truth": plain(MOMENT_OF_TRUTH),
        "consents": plain(CONSENTS),
        "emails": plain(EMAILS),
        "identity_noise": plain(IDENTITY_NOISE),
        "identity_cases": plain(IDENTITY_CASES),
        "bad_rows": plain(BAD_ROWS),
    }
