"""Attachments: limits on size and type; nothing written on refusal."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from keel.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from keel.core.models import Activity, Attachment
from keel.core.services.attachments import attach_file, remove_attachment
from keel.core.services.parties import create_party
from keel.core.tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def party(company, owner):
    return create_party(actor=owner, company=company, name="Hooli")


def test_a_file_is_stored_with_its_hash_and_recorded(company, owner, party, settings):
    attachment = attach_file(actor=owner, subject=party, upload=SimpleUploadedFile("contract.pdf", b"%PDF-1.4 hello"))
    assert attachment.subject_type == "core.party" and attachment.subject_id == str(party.pk)
    assert attachment.size == 14 and len(attachment.sha256) == 64
    assert attachment.file.read() == b"%PDF-1.4 hello"
    assert Activity.objects.filter(company=company, verb="core.attachment_added", subject_id=str(party.pk)).exists()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [("virus.exe", b"MZ", "attachment.type_not_allowed"), ("big.pdf", b"x" * 2048, "attachment.too_large"),
     ("empty.txt", b"", "attachment.empty")],
)
def test_disallowed_files_are_refused_and_nothing_is_kept(owner, party, settings, name, content, code):
    settings.KEEL_ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(ValidationFailed) as exc:
        attach_file(actor=owner, subject=party, upload=SimpleUploadedFile(name, content))
    assert exc.value.code == code and "file" in exc.value.fields
    assert not Attachment.objects.exists()
    assert not (settings.MEDIA_ROOT / "attachments").exists()


def test_only_members_with_the_right_role_attach(company, party, outsider):
    with pytest.raises(NotFound):
        attach_file(actor=outsider, subject=party, upload=SimpleUploadedFile("a.txt", b"x"))
    with pytest.raises(PermissionDenied):
        attach_file(actor=member(company, "employee"), subject=party, upload=SimpleUploadedFile("a.txt", b"x"))
    assert not Attachment.objects.exists()


def test_removing_an_attachment_is_recorded(company, owner, party, django_capture_on_commit_callbacks):
    attachment = attach_file(actor=owner, subject=party, upload=SimpleUploadedFile("a.txt", b"x"))
    path = attachment.file.path
    with django_capture_on_commit_callbacks(execute=True):
        remove_attachment(actor=owner, attachment=attachment, subject=party)
    assert not Attachment.objects.exists()
    assert Activity.objects.filter(verb="core.attachment_removed").count() == 1
    import os

    assert not os.path.exists(path)
