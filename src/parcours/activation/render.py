"""Messages: the plan's Jinja2 templates rendered per person, in the person's language.

Only those who receive a message are rendered (and a sample in ``plan preview``); the
templates run sandboxed, since a workspace's config may come from anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from jinja2.sandbox import SandboxedEnvironment

from parcours.config import PlanConfig, PlansConfig

FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    body: str


@lru_cache(maxsize=256)
def _template(text: str):
    return SandboxedEnvironment(autoescape=False).from_string(text)


def language(country: str | None, config: PlansConfig, default_country: str) -> str:
    """The message language of a person: by country, else by the workspace's country."""
    code = (country or default_country or "").upper()
    return config.languages.get(code, FALLBACK_LANGUAGE)


def _pick(texts: dict[str, str], lang: str) -> str:
    if lang in texts:
        return texts[lang]
    if FALLBACK_LANGUAGE in texts:
        return texts[FALLBACK_LANGUAGE]
    return next(iter(texts.values()), "")


def render(plan: PlanConfig, lang: str, fields: dict) -> Rendered:
    """The subject and body of ``plan`` for one person.

    ``fields`` holds the personalisation: ``first_name``, ``store`` (its name, when the offer
    points to a store), ``category``, ``offer_family``; the plan's ``offer`` is added.
    """
    context = {**fields, "offer": _pick(plan.offer, lang)}
    subject = _template(_pick(plan.subject, lang)).render(context).strip()
    body = _template(_pick(plan.body, lang)).render(context)
    return Rendered(lang, subject, body)
