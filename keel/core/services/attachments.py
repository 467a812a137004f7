"""Attachments: files on any record, through Django storage, within size and type limits."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import PurePath

from django.conf import settings
from django.db import transaction
from django.utils.text import get_valid_filename

from keel.core import events
from keel.core.access import require_permission
from keel.core.activity import record, subject_label
from keel.core.exceptions import ValidationFailed
from keel.core.models import Attachment

ATTACHMENT_ADDED = events.declare("core.attachment_added", "A file was attached to a record")
ATTACHMENT_REMOVED = events.declare("core.attachment_removed", "A file was removed from a record")


def record_company(subject):
    from keel.core.models import Company

    return subject if isinstance(subject, Company) else subject.company


def attach_file(*, actor, subject, upload) -> Attachment:
    """Attach an uploaded file to `subject` (any company-owned record, or a company)."""
    company = record_company(subject)
    require_permission(actor, company, "attachment.manage")
    require_permission(actor, company, getattr(subject, "view_permission", "company.view"))
    name = get_valid_filename(PurePath(upload.name or "file").name)[:200] or "file"
    extension = PurePath(name).suffix.lower().lstrip(".")
    if extension not in settings.KEEL_ATTACHMENT_EXTENSIONS:
        raise ValidationFailed(
            f"Files of type '.{extension}' are not allowed; allowed: {', '.join(settings.KEEL_ATTACHMENT_EXTENSIONS)}.",
            code="attachment.type_not_allowed", field="file",
        )
    if upload.size > settings.KEEL_ATTACHMENT_MAX_BYTES:
        raise ValidationFailed(
            f"The file is {upload.size:,} bytes; the limit is {settings.KEEL_ATTACHMENT_MAX_BYTES:,}.",
            code="attachment.too_large", field="file",
        )
    if upload.size == 0:
        raise ValidationFailed("The file is empty.", code="attachment.empty", field="file")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        attachment = Attachment(
            company=company, subject_type=subject_label(subject), subject_id=str(subject.pk), filename=name,
            content_type=mimetypes.guess_type(name)[0] or "application/octet-stream", size=upload.size,
            sha256=digest.hexdigest(), uploaded_by=actor,
        )
        attachment.file.save(name, upload, save=False)
        try:
            attachment.save()
            record(company=company, actor=actor, verb=ATTACHMENT_ADDED.name, subject=subject,
                   data={"attachment": attachment.pk, "filename": name, "size": upload.size, "sha256": attachment.sha256})
        except Exception:
            attachment.file.delete(save=False)  # no orphan file when the row is not written
            raise
    return attachment


def remove_attachment(*, actor, attachment: Attachment, subject) -> None:
    require_permission(actor, attachment.company, "attachment.manage")
    with transaction.atomic():
        data = {"attachment": attachment.pk, "filename": attachment.filename, "sha256": attachment.sha256}
        file_name = attachment.file.name
        storage = attachment.file.storage
        attachment.delete()
        record(company=attachment.company, actor=actor, verb=ATTACHMENT_REMOVED.name, subject=subject, data=data)
        transaction.on_commit(lambda: storage.delete(file_name))
