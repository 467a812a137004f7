"""/api/: the NinjaAPI's routes, with JSON answers for wrong methods and unknown paths."""

from django.urls import URLPattern, re_path

from keel.api.api import api
from keel.api.errors import json_errors, unknown_path

_patterns, app_name, namespace = api.urls
for pattern in _patterns:
    if isinstance(pattern, URLPattern):
        pattern.callback = json_errors(pattern.callback)

app_name = namespace
urlpatterns = [*_patterns, re_path(r"^.*$", unknown_path, name="unknown_path")]
