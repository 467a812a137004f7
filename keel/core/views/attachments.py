"""Attachments of any record: upload, download (after checking the record is visible), removal."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render

from keel.core.access import memberships, require_permission
from keel.core.exceptions import NotFound
from keel.core.models import Attachment
from keel.core.services.attachments import attach_file, record_company, remove_attachment
from keel.core.subjects import resolve_subject
from keel.web.attachment_forms import AttachmentForm
from keel.web.decorators import user_page
from keel.web.forms import run, submit
from keel.web.links import record_url
from keel.web.views import safe_next

DOCUMENT = "core.attachment"


# Attachments follow their record: a task of another of the user's companies (reached from
# "My tasks") has its files too. Visibility is the record's (resolve_subject), so a record
# of a company the user does not belong to gives 404, whatever the active company.


@user_page(methods=["POST"])
def attachment_upload(request, subject_type: str, subject_id: str):
    subject = resolve_subject(request.user, subject_type, subject_id)
    company = record_company(subject)
    require_permission(request.user, company, "attachment.manage")
    back = safe_next(request, record_url(subject_type, subject_id) or "/")
    form = AttachmentForm(request.POST, request.FILES)
    outcome = submit(form, company=company, document_type=DOCUMENT,
                     call=lambda data: attach_file(actor=request.user, subject=subject, upload=data["file"]))
    if outcome.ok:
        messages.success(request, f"{outcome.result.filename} was attached.")
        return redirect(back)
    return render(request, "core/attachment_form.html", {"form": form, "subject": subject, "back": back}, status=400)


def _attachment(request, pk: int, permission: str) -> tuple[Attachment, object]:
    attachment = (
        Attachment.objects.select_related("company")
        .filter(pk=pk, company_id__in=list(memberships(request.user))).first()
    )
    if attachment is None:
        raise NotFound("No such attachment.", code="record.not_found")
    require_permission(request.user, attachment.company, permission)
    # The file is only as visible as the record it is attached to.
    subject = resolve_subject(request.user, attachment.subject_type, attachment.subject_id)
    return attachment, subject


@user_page(methods=["GET"])
def attachment_download(request, pk: int):
    attachment, _subject = _attachment(request, pk, "attachment.view")
    try:
        handle = attachment.file.open("rb")
    except (OSError, ValueError):
        raise Http404("The file is missing from storage.")
    return FileResponse(handle, as_attachment=True, filename=attachment.filename,
                        content_type=attachment.content_type or "application/octet-stream")


@user_page(methods=["POST"])
def attachment_remove(request, pk: int):
    attachment, subject = _attachment(request, pk, "attachment.manage")
    back = safe_next(request, record_url(attachment.subject_type, attachment.subject_id) or "/")
    outcome = run(attachment.company, DOCUMENT,
                  lambda: remove_attachment(actor=request.user, attachment=attachment, subject=subject))
    if outcome.ok:
        messages.success(request, f"{attachment.filename} was removed.")
    else:
        messages.error(request, outcome.error.message)
    return redirect(back)
