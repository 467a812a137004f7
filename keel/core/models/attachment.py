from __future__ import annotations

from django.conf import settings
from django.db import models

from keel.core.models.base import CompanyOwned


def attachment_path(instance: Attachment, filename: str) -> str:
    # Company first, so a company's files can be moved or purged together.
    return f"attachments/{instance.company_id}/{instance.subject_type}/{instance.subject_id}/{filename}"


class Attachment(CompanyOwned):
    """A file attached to any record; served only to users who may see that record."""

    view_permission = "attachment.view"

    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64)
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["company", "subject_type", "subject_id"], name="core_attachment_subject")]

    def __str__(self) -> str:
        return self.filename
