"""Who is calling: the API key from Basic auth, a Bearer token or the body's ``writeKey``.

Segment's libraries send the write key as Basic auth user name (``key:``, some without the
colon) or only in the body (``writeKey``); other callers use a Bearer token.
"""

from __future__ import annotations

import base64
import binascii

from parcours.api.keys import ApiKey, find_key
from parcours.errors import AuthError, ForbiddenError


def presented_key(authorization: str | None, body_key: object = None) -> str | None:
    """The key the request presents, or None."""
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "basic" and value:
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            user = decoded.partition(":")[0]
            if user:
                return user
        elif scheme.lower() == "bearer" and value:
            return value
    if isinstance(body_key, str) and body_key.strip():
        return body_key.strip()
    return None


def authenticate(keys: list[ApiKey], presented: str | None, scope: str) -> ApiKey:
    """The stored key, when it exists and grants ``scope``; else AuthError."""
    if presented is None:
        raise AuthError(
            "no API key", hint="send it as Basic auth user name, a Bearer token or writeKey"
        )
    key = find_key(keys, presented)
    if key is None:
        raise AuthError("unknown API key", hint="create one with: parcours keys create")
    if not key.allows(scope):
        raise ForbiddenError(
            f"the key {key.key_id} has scope {key.scope}, not {scope}",
            hint=f"use a key created with --scope {scope}",
        )
    return key
