"""Identity resolution: the single customer view (``parcours resolve``)."""

from parcours.identity.resolve import ResolveSummary, resolve

__all__ = ["ResolveSummary", "resolve"]
