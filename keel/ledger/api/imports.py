"""The journal import over HTTP: the same service as the page and `keel ledger import-entries`.

POST /entry-imports (multipart: `file`, `dry_run`, `accept_repeat`) imports a journal file all
or nothing; a refused file answers 400 with code import.invalid and every problem (CSV line,
entry, message, code) in `problems` (the first 1,000; `problem_count` counts them all); a file
imported before answers 400 import.repeated_file unless `accept_repeat`. GET /entry-imports
and /entry-imports/{id} read the imports (each entry's `source_type` "ledger.import" and
`source_id` name its import).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from keel.api.auth import actor
from keel.api.context import CompanyRef, company_for, track
from keel.api.pagination import Page, PageQuery, paginate
from keel.api.schemas import RecordId
from keel.core.exceptions import NotFound, ValidationFailed
from keel.ledger.models import EntryImport
from keel.ledger.services import importing

router = Router()


class EntryImportOut(Schema):
    id: int | None
    file_name: str
    file_digest: str
    entries: int
    lines: int
    first_number: str
    last_number: str
    repeat_of_id: int | None
    imported_at: dt.datetime | None
    dry_run: bool = False


@router.post("/entry-imports", response={200: EntryImportOut, 201: EntryImportOut}, url_name="ledger_entry_import")
def import_entries(
    request: HttpRequest, company_ref: CompanyRef, file: File[UploadedFile] = None,
    dry_run: Annotated[bool, Form()] = False,  # noqa: FBT002 (a form field)
    accept_repeat: Annotated[bool, Form()] = False,  # noqa: FBT002 (a form field)
):
    """Import a journal file (multipart `file`; columns as the page's help and template).
    Answers 201 with the import, or 200 with the counts when `dry_run` (nothing written)."""
    company = company_for(request, company_ref, "ledger.view")
    with track(request, company):
        if file is None:
            raise ValidationFailed("Upload the journal file (multipart field 'file').", code="import.malformed",
                                   field="file")
        result = importing.import_entries(actor=actor(request), company=company, file=file, file_name=file.name or "",
                                          dry_run=dry_run, accept_repeat=accept_repeat)
        if result.errors:
            raise ValidationFailed(
                f"{result.problem_count} problem(s) in the file; nothing was imported.", code="import.invalid",
                field="file", extra={
                    "problem_count": result.problem_count,
                    "problems": [{"line": p.line, "entry": p.entry, "message": p.message, "code": p.code}
                                 for p in result.errors],
                })
    if dry_run:
        return Status(200, {"id": None, "file_name": file.name or "", "file_digest": "", "entries": result.entries,
                            "lines": result.lines, "first_number": "", "last_number": "", "repeat_of_id": None,
                            "imported_at": None, "dry_run": True})
    return Status(201, EntryImport.objects.get(pk=result.import_id))


@router.get("/entry-imports", response=Page[EntryImportOut], url_name="ledger_entry_import_list")
def list_imports(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    company = company_for(request, company_ref, "ledger.view")
    return paginate(EntryImport.objects.for_company(company), page, ordering=("-id",))


@router.get("/entry-imports/{import_id}", response=EntryImportOut, url_name="ledger_entry_import_detail")
def get_import(request: HttpRequest, company_ref: CompanyRef, import_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    found = EntryImport.objects.for_company(company).filter(pk=import_id).first()
    if found is None:
        raise NotFound("There is no such import.", code="record.not_found")
    return found
