"""What every HTTP answer shares: a request id, the content security policy, quiet refusals,
and static files under hashed names.

- `RequestIdMiddleware` gives each request an id (the proxy's `X-Request-ID` when it sends a
  sane one, a new one otherwise), answers it in `X-Request-ID` and puts it on every log line
  of the request, so a user's "error 3f2a..." leads to the traceback.
- `ContentSecurityPolicyMiddleware` sends `settings.KEEL_CSP` with a fresh nonce per request
  (`{{ csp_nonce }}` in templates; django-htmx's script tag uses it) and the hashes of the
  inline scripts of the templates in `KEEL_CSP_INLINE_SCRIPT_TEMPLATES`.
- `RefusalsWithoutTraceback` keeps Django from logging a 403 with the traceback of its
  PermissionDenied: a refusal is a normal answer, not an error.
- `StaticFilesStorage` serves hashed, compressed names once `collectstatic` wrote its
  manifest (what `keel serve` does) and the plain names before (tests, a fresh clone).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
import secrets
import threading
import uuid

from django.conf import settings
from django.template import TemplateDoesNotExist, engines
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger("keel.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_current = threading.local()


def current_request_id() -> str:
    """The id of the request this thread is answering ('' outside a request)."""
    return getattr(_current, "request_id", "")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        _current.request_id = request.request_id
        try:
            response = self.get_response(request)
        finally:
            _current.request_id = ""
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every record (for formats that print it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class RefusalsWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True


def _script_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@functools.cache
def inline_script_hashes() -> tuple[str, ...]:
    """CSP hashes of the inline scripts in the listed templates, read from their source.

    Only scripts without template syntax qualify (their rendered text is their source);
    a template that adds a variable to its script must use the nonce instead.
    """
    hashes: list[str] = []
    engine = engines["django"].engine
    for name in getattr(settings, "KEEL_CSP_INLINE_SCRIPT_TEMPLATES", ()):
        try:
            source = engine.get_template(name).source
        except TemplateDoesNotExist:
            logger.warning("CSP: template %s not found; its inline script stays blocked", name)
            continue
        for body in _INLINE_SCRIPT.findall(source):
            if "{%" in body or "{{" in body:
                logger.warning("CSP: the inline script of %s uses template syntax; give it the nonce", name)
                continue
            hashes.append(_script_hash(body))
    return tuple(hashes)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            hashes = "".join(f" {value}" for value in inline_script_hashes())
            response["Content-Security-Policy"] = settings.KEEL_CSP.format(
                nonce=request.csp_nonce, script_hashes=hashes
            )
        return response


def csp_nonce(request) -> dict[str, str]:
    """Template context: `csp_nonce` for inline scripts (`<script nonce="{{ csp_nonce }}">`)."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed and compressed storage that falls back to the plain name.

    Before `collectstatic` (tests, `keel serve --dev`) there is no manifest and a static
    tag would raise; it gives the unhashed name instead, which WhiteNoise serves from the
    apps' folders.
    """

    manifest_strict = False

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            return name
