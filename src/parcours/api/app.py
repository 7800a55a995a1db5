"""The FastAPI application of ``parcours serve``: ``create_app(workspace)``."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from parcours.api.collect_log import CollectLog
from parcours.api.collector import Collector
from parcours.api.errors import install_handlers
from parcours.api.keys import KeyRing
from parcours.api.live import update_persons
from parcours.api.loader import load_segments
from parcours.api.paths import hold_served
from parcours.api.warehouse import Warehouse, WarehouseBusy
from parcours.suppression import Suppression
from parcours.workspace import Workspace

log = logging.getLogger(__name__)

SINGLE_CALLS = ("identify", "track", "page", "screen", "group", "alias")
MB = 1024 * 1024


class Service:
    """The state one server shares between its routes and its loader."""

    def __init__(self, workspace: Workspace) -> None:
        self.dir = workspace.dir
        self.config = workspace.config.service
        self.keys = KeyRing(self.dir)
        self.log = CollectLog(
            self.dir, int(self.config.max_log_mb * MB), int(self.config.min_free_disk_mb * MB)
        )
        self.collector = Collector(self.keys, self.log, Suppression(self.dir))
        self.warehouse = Warehouse(self.dir)
        self.loads = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._served: int | None = None

    def load_once(self) -> bool:
        """Load the log into the warehouse; False when a command holds the warehouse."""
        if self.log.size() == 0:
            return True
        try:
            with self.warehouse.writing() as ws:
                loaded = load_segments(ws, self.log)
                # A separate batch: the load is committed even if the update fails.
                update_persons(ws, loaded.records)
        except WarehouseBusy:
            return False
        self.loads += 1
        return True

    def _run_loader(self) -> None:
        while not self._stop.is_set():
            try:
                self.load_once()
                self.last_error = None
            except Exception as e:  # the log keeps the data; the next turn retries
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("loading the collection log failed")
            self._wake.wait(self.config.load_interval_seconds)
            self._wake.clear()

    def start(self, loader: bool = True) -> None:
        self._served = hold_served(self.dir)
        if not loader:
            return
        self._thread = threading.Thread(target=self._run_loader, name="loader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.log.close()
        if self._served is not None:
            os.close(self._served)
            self._served = None


def create_app(workspace: Workspace | str | Path, *, loader: bool = True) -> FastAPI:
    """The service of one workspace.

    Parameters
    ----------
    workspace
        The workspace (or its folder).
    loader
        Run the background loader that moves the collection log into the tables.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    service = Service(ws)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.start(loader)
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(
        title="parcours",
        summary="Customer data and journeys: collection, profiles, audiences, privacy.",
        lifespan=lifespan,
    )
    app.state.service = service
    install_handlers(app, service.config.retry_after_seconds)

    async def collect(request: Request, single: str | None) -> dict[str, Any]:
        raw = await request.body()
        counts = await run_in_threadpool(
            service.collector.accept,
            raw,
            request.headers.get("content-encoding"),
            request.headers.get("authorization"),
            single,
        )
        return {"success": True, **counts}

    @app.post("/v1/batch", tags=["collection"], summary="Segment batch of messages")
    async def batch(request: Request) -> dict[str, Any]:
        return await collect(request, None)

    def single_call(kind: str):
        async def single(request: Request) -> dict[str, Any]:
            return await collect(request, kind)

        return single

    for kind in SINGLE_CALLS:
        app.add_api_route(
            f"/v1/{kind}",
            single_call(kind),
            methods=["POST"],
            tags=["collection"],
            summary=f"Segment {kind} call",
            name=f"collect_{kind}",
        )

    @app.get("/v1/health", tags=["service"])
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "log_bytes": service.log.size(),
            "loads": service.loads,
            "last_error": service.last_error,
        }

    from parcours.api.routes import add_routes

    add_routes(app, service)
    return app
