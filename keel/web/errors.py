"""The server's own error answers: Keel's 500 page, or the API's JSON error under /api/.

Rendered without the request's context processors on purpose: a 500 may come from the
database or the navigation, and the page that reports it must not fail the same way.
"""

from __future__ import annotations

from django.http import HttpResponseServerError, JsonResponse
from django.template import loader


def server_error(request, *args, **kwargs):
    request_id = getattr(request, "request_id", "")
    if request.path.startswith("/api/"):
        from keel.api.errors import server_error_body

        body = server_error_body(request)
        body["request_id"] = request_id
        return JsonResponse(body, status=500)
    html = loader.get_template("500.html").render({"request_id": request_id})
    return HttpResponseServerError(html)
