"""The ledger's reactions to other apps' events. Each is idempotent (it may run again)."""

from __future__ import annotations

from keel.core.events import subscribe
from keel.core.models import Activity
from keel.ledger.services.chart import apply_chart_template


@subscribe("core.company_created")
def set_up_books(activity: Activity) -> None:
    """A new company gets the small-business chart, the standard journals and its
    current fiscal year. Does nothing for a company whose chart is already loaded."""
    apply_chart_template(company=activity.company, actor=activity.actor, check_permission=False)
