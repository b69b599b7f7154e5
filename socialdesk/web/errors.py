"""Every error leaves as JSON ``{"error": {"status", "reason", "code"?, "details"?}}``;
``code`` names a refusal a client can act on (``second_reply``, ``role_refused``...)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from socialdesk.actions.recording import ActionError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status_code: int, reason: str, details: Any = None) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason
        self.details = details


def error_response(
    status_code: int, reason: str, details: Any = None, code: str | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"status": status_code, "reason": reason}
    if code is not None:
        body["code"] = code
    if details is not None:
        body["details"] = details
    headers = {"WWW-Authenticate": "Bearer"} if status_code == 401 else None
    return JSONResponse({"error": body}, status_code=status_code, headers=headers)


def _describe(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    details = []
    for err in errors:
        location = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        details.append({"field": location, "problem": err.get("msg", "invalid")})
    first = details[0] if details else {"field": "", "problem": "invalid request"}
    reason = f"{first['field']}: {first['problem']}" if first["field"] else first["problem"]
    return reason, details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.reason, exc.details)

    @app.exception_handler(ActionError)
    async def _action_error(_: Request, exc: ActionError) -> JSONResponse:
        return error_response(exc.status_code, exc.message, exc.details, exc.code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        reason, details = _describe(list(exc.errors()))
        return error_response(422, reason, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal error; the event was logged")
