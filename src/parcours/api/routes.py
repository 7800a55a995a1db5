"""The profile and audience routes: personal data only with a ``read`` key, every access logged."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from parcours.api import profiles
from parcours.api.auth import authenticate, presented_key
from parcours.api.keys import ApiKey
from parcours.api.paths import service_dir

ACCESS_LOG = "access.log"
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def add_routes(app: FastAPI, service: Any) -> None:
    """Register the read routes on ``app``."""

    def caller(request: Request, scope: str) -> ApiKey:
        presented = presented_key(request.headers.get("authorization"))
        return authenticate(service.keys.keys(), presented, scope)

    def logged(key: ApiKey, request: Request, customer_key: str | None) -> None:
        # Who, when, which key and which person; never the identifier a lookup was made with.
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "key_id": key.key_id,
                "source": key.source,
                "route": request.url.path if customer_key else request.scope["route"].path,
                "customer_key": customer_key,
            }
        )
        fd = os.open(
            service_dir(service.dir) / ACCESS_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
        )
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)

    def read(fn, *args):
        def run():
            with service.warehouse.reading() as engine:
                return fn(engine, *args)

        return run_in_threadpool(run)

    @app.get("/v1/profiles", tags=["profiles"])
    async def lookup(
        request: Request, email: str | None = None, record: str | None = None
    ) -> dict[str, Any]:
        """The profile of the person an email or a ``SOURCE:ID`` record belongs to."""
        key = caller(request, "read")
        if email is None and (record is None or ":" not in record):
            from parcours.api.errors import NotFoundError

            raise NotFoundError("give email= or record=SOURCE:ID")

        def find(engine):
            customer_key = profiles.key_of(engine, email=email, source_id=record)
            return profiles.profile(engine, customer_key)

        found = await read(find)
        logged(key, request, found["customer_key"])
        return found

    @app.get("/v1/profiles/{customer_key}", tags=["profiles"])
    async def profile(request: Request, customer_key: str) -> dict[str, Any]:
        """Golden record, identifiers, KPIs, segments, predictions and consents of a person."""
        key = caller(request, "read")
        found = await read(profiles.profile, customer_key)
        logged(key, request, customer_key)
        return found

    @app.get("/v1/profiles/{customer_key}/timeline", tags=["profiles"])
    async def timeline(
        request: Request, customer_key: str, limit: Limit = 100, offset: Offset = 0
    ) -> dict[str, Any]:
        """The person's touchpoints, oldest first, one page at a time."""
        key = caller(request, "read")
        rows = await read(profiles.timeline, customer_key, limit, offset)
        logged(key, request, customer_key)
        return {"data": rows, "count": len(rows), "limit": limit, "offset": offset}

    @app.get("/v1/segments", tags=["audiences"])
    async def segments(request: Request) -> dict[str, Any]:
        """Every audience of the latest profile with its size."""
        caller(request, "read")
        rows = await read(profiles.segments)
        return {"data": rows, "count": len(rows)}

    @app.get("/v1/segments/{name}/members", tags=["audiences"])
    async def members(
        request: Request,
        name: str,
        limit: Limit = 100,
        offset: Offset = 0,
        format: Literal["json", "csv"] = "json",
    ) -> Any:
        """One page of an audience's members with their contact fields, as JSON or CSV."""
        key = caller(request, "read")
        rows, total = await read(profiles.members, name, limit, offset)
        logged(key, request, None)
        if format == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["customer_key"])
            writer.writeheader()
            writer.writerows(rows)
            return Response(out.getvalue(), media_type="text/csv")
        return {"data": rows, "count": len(rows), "total": total, "offset": offset}

    @app.get("/v1/privacy/{customer_key}/export", tags=["privacy"])
    async def privacy_export(request: Request, customer_key: str) -> dict[str, Any]:
        """Everything parcours holds about a person, from every table (scope ``admin``)."""
        from parcours.api.privacy import export

        key = caller(request, "admin")
        found = await read(export, customer_key)
        logged(key, request, customer_key)
        return found

    @app.post("/v1/privacy/{customer_key}/erase", tags=["privacy"])
    async def privacy_erase(request: Request, customer_key: str) -> dict[str, Any]:
        """Erase a person from every table, the collection log and the files (scope ``admin``)."""
        from parcours.api.privacy import erase

        key = caller(request, "admin")

        def run() -> dict[str, Any]:
            with service.warehouse.writing() as ws:
                return asdict(erase(ws, customer_key, service.log))

        done = await run_in_threadpool(run)
        logged(key, request, customer_key)
        return done
