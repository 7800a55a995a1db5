"""The one translator from errors to HTTP answers: every error body is ``{code, message}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from parcours.api.collect_log import BackPressure
from parcours.api.segment import PayloadError
from parcours.api.warehouse import WarehouseBusy
from parcours.errors import AuthError, ForbiddenError, MissingInputError, ParcoursError

log = logging.getLogger(__name__)


class NotFoundError(ParcoursError):
    """The profile, segment or page asked for does not exist."""

    code = "not_found"


def error_body(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def install_handlers(app: FastAPI, retry_after: int) -> None:
    """Register the handlers; ``retry_after`` is the Retry-After of 429 and 503 answers."""

    def answer(status: int, code: str, message: str, **headers: str) -> JSONResponse:
        return JSONResponse(error_body(code, message), status_code=status, headers=headers)

    @app.exception_handler(PayloadError)
    async def payload(_: Request, e: PayloadError) -> JSONResponse:
        return answer(400, e.code, e.message)

    @app.exception_handler(BackPressure)
    async def pressure(_: Request, e: BackPressure) -> JSONResponse:
        return answer(429, "too_many_requests", str(e), **{"Retry-After": str(retry_after)})

    @app.exception_handler(WarehouseBusy)
    async def busy(_: Request, e: WarehouseBusy) -> JSONResponse:
        return answer(503, e.code, str(e), **{"Retry-After": str(retry_after)})

    @app.exception_handler(ParcoursError)
    async def parcours(_: Request, e: ParcoursError) -> JSONResponse:
        if isinstance(e, ForbiddenError):
            status = 403
        elif isinstance(e, AuthError):
            status = 401
        elif isinstance(e, NotFoundError | MissingInputError):
            status = 404
        elif isinstance(e, ValueError):
            status = 400
        else:
            log.error("request failed: %s", e)
            status = 500
        return answer(status, e.code, str(e.problem))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        return answer(422, "invalid_request", problems)

    @app.exception_handler(HTTPException)
    async def http(_: Request, e: HTTPException) -> JSONResponse:
        return answer(e.status_code, "http_error", str(e.detail))

    @app.exception_handler(Exception)
    async def internal(_: Request, e: Exception) -> JSONResponse:
        log.exception("internal error")
        return answer(500, "internal_error", f"{type(e).__name__}: {e}")
