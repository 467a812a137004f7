"""Counting submissions and rejections per document type: the data-entry error rate.

Every door that lets a user submit a document counts it here: web forms through
`keel.web.forms` helpers, API writes through `keel.api` error handling. A rejection is a
form or API validation failure, or a service refusing the input with a KeelError.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from keel.core.exceptions import KeelError
from keel.core.models import Company, SubmissionCount


def count(company: Company | int | None, document_type: str, *, rejected: bool) -> None:
    """Add one submission (and one rejection if `rejected`) in its own small transaction.

    Called after a refused service has rolled back, so the count survives the refusal.
    """
    if company is None:
        return
    company_id = company if isinstance(company, int) else company.pk
    day = timezone.localdate()
    increments = {"submitted": F("submitted") + 1}
    if rejected:
        increments["rejected"] = F("rejected") + 1
    for _attempt in range(3):
        with transaction.atomic():
            updated = SubmissionCount.objects.filter(
                company_id=company_id, document_type=document_type, day=day
            ).update(**increments)
            if updated:
                return
            try:
                with transaction.atomic():
                    SubmissionCount.objects.create(
                        company_id=company_id, document_type=document_type, day=day,
                        submitted=1, rejected=1 if rejected else 0,
                    )
                return
            except IntegrityError:
                continue  # created concurrently: update it on the next round


@contextmanager
def track(company: Company | int | None, document_type: str) -> Iterator[None]:
    """Wrap a service call: count it, and count it as rejected when it raises a KeelError."""
    try:
        yield
    except KeelError as exc:
        if exc.status in (400, 409):
            count(company, document_type, rejected=True)
        raise
    count(company, document_type, rejected=False)
