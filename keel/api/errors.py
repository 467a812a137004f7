"""One error format for every 4xx the API answers, mapped in one place.

Every refusal is JSON `{"code", "message", "errors": [{"field", "message"}]}` (plus the
extra keys a domain error carries, e.g. `duplicates`): Keel's domain errors
(`keel.core.exceptions.KeelError`) with their own status, django-ninja's schema validation
errors and unparsable bodies as 400, failed authentication as 401, CSRF failures as 403,
unknown paths as 404 and wrong methods as 405, and anything unexpected as 500 (`server.error`,
its traceback logged under the request id). Every error body also carries `request_id`, the
id of the request in the server's log (`RequestIdInErrorsMiddleware`). Schema rejections of
write endpoints count towards the data-entry error rate, like refusals by services do.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from keel.core.exceptions import KeelError
from keel.core.http import current_request_id

logger = logging.getLogger("keel.api")

_HTTP_CODES = {
    400: "request.invalid",
    401: "auth.required",
    403: "permission.denied",
    404: "not_found",
    405: "method.not_allowed",
    413: "request.too_large",
    429: "request.throttled",
}
_BODY_PARSE_MESSAGE = "Cannot parse request body"


def error_body(code: str, message: str, errors: Iterable[dict[str, str]] = ()) -> dict[str, object]:
    return {"code": code, "message": message, "errors": list(errors)}


def error_response(status: int, code: str, message: str, errors: Iterable[dict[str, str]] = ()) -> JsonResponse:
    return JsonResponse(error_body(code, message, errors), status=status)


def _field_name(location: Iterable[object]) -> str:
    """`("body", "payload", "addresses", 0, "city")` -> `addresses.0.city`."""
    parts = [str(part) for part in location]
    source, rest = (parts[0], parts[1:]) if parts else ("", [])
    rest = [part for part in rest if part != "payload"]
    return ".".join(rest) or source or "body"


def _validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [{"field": _field_name(item.get("loc", ())), "message": str(item.get("msg", "Invalid value."))}
            for item in exc.errors]


def _count_rejection(request: HttpRequest) -> None:
    from keel.api.context import count_rejected_write

    count_rejected_write(request)


def install(api: NinjaAPI) -> None:
    """Register the handlers on the API; every handler answers with `error_body`."""

    def on_keel_error(request: HttpRequest, exc: KeelError) -> HttpResponse:
        return api.create_response(request, exc.as_dict(), status=exc.status)

    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = _validation_errors(exc)
        _count_rejection(request)
        first = errors[0] if errors else {"field": "body", "message": "Invalid value."}
        message = f"{first['field']}: {first['message']}"
        return api.create_response(request, error_body("request.invalid", message, errors), status=400)

    def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request,
            error_body("auth.required", "Log in, or send 'Authorization: Bearer <API token>'."),
            status=401,
        )

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        message = str(exc)
        code = _HTTP_CODES.get(status, "request.invalid" if status < 500 else "server.error")
        if status == 403 and "CSRF" in message:
            code, message = "csrf.failed", "CSRF check failed: send the X-CSRFToken header with the session cookie."
        if status == 400 and message.startswith(_BODY_PARSE_MESSAGE):
            code, message = "request.malformed", "The request body is not valid JSON."
            _count_rejection(request)
        return api.create_response(request, error_body(code, message), status=status)

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, error_body("not_found", "Not found."), status=404)

    def on_bad_request(request: HttpRequest, exc: Exception) -> HttpResponse:
        if isinstance(exc, RequestDataTooBig):
            return api.create_response(request, error_body("request.too_large", "The request is too large."), status=413)
        return api.create_response(request, error_body("request.malformed", "The request could not be read."), status=400)

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.error("Unexpected error on %s %s", request.method, request.path, exc_info=exc)
        return api.create_response(request, server_error_body(request), status=500)

    def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return api.create_response(
            request, error_body("permission.denied", str(exc) or "Your role does not allow this."), status=403
        )

    api.add_exception_handler(Exception, on_unexpected)
    api.add_exception_handler(PermissionDenied, on_permission_denied)
    api.add_exception_handler(KeelError, on_keel_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(AuthenticationError, on_authentication_error)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    for exc_class in (SuspiciousOperation, BadRequest, MultiPartParserError):
        api.add_exception_handler(exc_class, on_bad_request)


def server_error_body(request: HttpRequest | None = None) -> dict[str, object]:
    request_id = getattr(request, "request_id", "") or current_request_id()
    return error_body(
        "server.error",
        f"Something went wrong on the server; the administrator can find it under request id {request_id}.",
    )


class RequestIdInErrorsMiddleware:
    """Adds the request id to every JSON error body the API answers (`request_id`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith("/api/")
            and not response.streaming
            and response.get("Content-Type", "").startswith("application/json")
        ):
            try:
                body = json.loads(response.content)
            except ValueError:
                return response
            if isinstance(body, dict) and "code" in body and "request_id" not in body:
                body["request_id"] = getattr(request, "request_id", "")
                response.content = json.dumps(body, ensure_ascii=False).encode()
                if response.has_header("Content-Length"):
                    response["Content-Length"] = str(len(response.content))
        return response


def json_errors(view):
    """Wrap a ninja path view: its plain-text 405 becomes the JSON error format."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "").startswith("text/"):
            allowed = response.get("Allow", "")
            json_response = error_response(
                405, "method.not_allowed", f"{request.method} is not allowed here; allowed: {allowed}."
            )
            json_response["Allow"] = allowed
            return json_response
        return response

    return wrapper


def unknown_path(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Anything under /api/ that matches no endpoint."""
    return error_response(404, "not_found", f"No API endpoint at {request.path}.")


unknown_path.csrf_exempt = True  # type: ignore[attr-defined]
