"""The one NinjaAPI of Keel: every department's router, assembled in one place.

Each app exposes `router` in `keel/<app>/api.py` (thin: parse, call a service, serialise)
and is mounted here with its prefix and tag. To add an app, add one line to ROUTERS; an
app whose api module does not exist yet (being built) is skipped, an app whose module fails
to import fails loudly.
"""

from __future__ import annotations

import importlib.util

from ninja import NinjaAPI

from keel.api import errors
from keel.api.auth import SessionAuth, TokenAuth
from keel.api.context import remember_operation

# (URL prefix, router import path, OpenAPI tag)
ROUTERS: list[tuple[str, str, str]] = [
    ("", "keel.api.token_endpoints.router", "tokens"),
    ("", "keel.core.api.router", "core"),
    ("/tasks", "keel.inbox.api.router", "tasks"),
    ("/kpis", "keel.insights.api.router", "kpis"),
    ("/ledger", "keel.ledger.api.router", "ledger"),
]

api = NinjaAPI(
    title="Keel API",
    version="1",
    description=(
        "Keel's back office over HTTP. Authenticate with a personal API token "
        "(`Authorization: Bearer keel_<prefix>_<secret>`) or the browser session (with CSRF). "
        "Company-scoped endpoints take the company in the `X-Keel-Company` header (code or id). "
        "Every list is paginated by cursor: `?limit=&cursor=`, answering `{items, next_cursor}`. "
        "Every 4xx answers `{code, message, errors: [{field, message}]}`."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
)
errors.install(api)
api.add_decorator(remember_operation, mode="view")


def _module_exists(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:
        return False


for prefix, router_path, tag in ROUTERS:
    module_path = router_path.rsplit(".", 1)[0]
    if _module_exists(module_path):
        api.add_router(prefix, router_path, tags=[tag])
