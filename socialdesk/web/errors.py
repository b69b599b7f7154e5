"""Every error leaves as JSON ``{"error": {"status", "reason", "code"?, "details"?}}``;
``code`` names a refusal a client can act on (``second_reply``, ``role_refused``...)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
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
        # Our own validators raise ValueError; pydantic prefixes its message with this.
        problem = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        details.append({"field": location, "problem": problem})
    first = details[0] if details else {"field": "", "problem": "invalid request"}
    reason = f"{first['field']}: {first['problem']}" if first["field"] else first["problem"]
    return reason, details


# SQLSTATE classes (PostgreSQL) and SQLite messages of a constraint the request broke.
_UNIQUE = ("23505", "UNIQUE constraint failed")
_FOREIGN_KEY = ("23503", "FOREIGN KEY constraint failed")


def integrity_status(exc: IntegrityError) -> tuple[int, str] | None:
    """409 for a duplicate, 422 for a reference to a row that does not exist; None for
    the rest (NOT NULL, CHECK): those mean our validation missed something, a bug."""
    code = str(getattr(exc.orig, "sqlstate", "") or "")
    text = str(exc.orig)
    if code == _UNIQUE[0] or _UNIQUE[1] in text:
        return 409, "conflicts with an existing record (changed meanwhile?); reload and retry"
    if code == _FOREIGN_KEY[0] or _FOREIGN_KEY[1] in text:
        return 422, "refers to something that does not exist (deleted meanwhile?)"
    return None


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

    # Last resort, after the bounded input types (web/api/params.py): a value that still
    # does not fit its column is the client's. Logged with its trace so that a value we
    # produced ourselves still shows up as the bug it is.
    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> JSONResponse:
        log.warning("%s %s: value refused by the database", request.method, request.url.path,
                    exc_info=exc)  # fmt: skip
        return error_response(422, "a value is out of range or of the wrong kind for its field")

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        mapped = integrity_status(exc)
        if mapped is None:
            log.exception("unhandled integrity error", exc_info=exc)
            return error_response(500, "internal error; the event was logged")
        log.warning("%s %s: %s", request.method, request.url.path, exc.orig)
        return error_response(*mapped)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal error; the event was logged")
