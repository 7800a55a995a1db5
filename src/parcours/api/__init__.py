"""The HTTP service: Segment-compatible collection, profiles, audiences and privacy requests."""

from parcours.api.app import create_app

__all__ = ["create_app"]
