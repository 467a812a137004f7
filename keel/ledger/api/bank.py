"""The ledger API: bank accounts, statement import and reconciliation. Thin: parse, call the
service, serialise."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from ninja import Field as SchemaField
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from keel.api.auth import actor
from keel.api.context import CompanyRef, company_for, track
from keel.api.pagination import Page, PageQuery, paginate
from keel.api.schemas import ApiDate, FilterSchema, InputSchema, RecordId
from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.money import parse_amount
from keel.ledger.models.bank import BankAccount, BankStatement
from keel.ledger.schemas import _money
from keel.ledger.services import bank as bank_services
from keel.ledger.services import reconciliation

router = Router()


class BankAccountOut(Schema):
    id: int
    name: str
    iban: str
    bic: str
    currency: str
    account: str
    journal: str
    is_active: bool
    csv_mapping: dict

    @staticmethod
    def resolve_currency(obj) -> str:
        return obj.currency_id

    @staticmethod
    def resolve_account(obj) -> str:
        return obj.account.code

    @staticmethod
    def resolve_journal(obj) -> str:
        return obj.journal.code


class BankAccountIn(InputSchema):
    name: Annotated[str, SchemaField(min_length=1, max_length=100)]
    account: Annotated[str, SchemaField(min_length=1, max_length=20, description="Code of a ledger account with the bank role.")]
    iban: Annotated[str, SchemaField(max_length=50)] = ""
    bic: Annotated[str, SchemaField(max_length=20)] = ""
    currency: Annotated[str, SchemaField(min_length=3, max_length=3)] | None = None
    journal: Annotated[str, SchemaField(min_length=1, max_length=10)] | None = None


# One setting of a CSV mapping: a column header, a format, or the rows to skip.
# (Ranges and lengths are the service's to check, with its messages.)
CsvSetting = str | int | None


class BankAccountPatchIn(InputSchema):
    name: Annotated[str, SchemaField(min_length=1, max_length=100)] | None = None
    account: Annotated[str, SchemaField(min_length=1, max_length=20)] | None = None
    iban: Annotated[str, SchemaField(max_length=50)] | None = None
    bic: Annotated[str, SchemaField(max_length=20)] | None = None
    currency: Annotated[str, SchemaField(min_length=3, max_length=3)] | None = None
    journal: Annotated[str, SchemaField(min_length=1, max_length=10)] | None = None
    is_active: bool | None = None
    csv_mapping: Annotated[dict[Annotated[str, SchemaField(max_length=40)], CsvSetting],
                           SchemaField(max_length=20, description="The CSV column mapping (keel.ledger.bank.csv); "
                                                                  "{} removes it.")] | None = None


class StatementLineOut(Schema):
    id: int
    position: int
    date: dt.date
    amount: str
    currency: str
    counterparty_name: str
    counterparty_iban: str
    reference: str
    description: str
    transaction_id: str
    is_reconciled: bool

    @staticmethod
    def resolve_amount(obj) -> str:
        return _money(obj.amount)

    @staticmethod
    def resolve_currency(obj) -> str:
        return obj.currency_id


class StatementOut(Schema):
    id: int
    bank_account_id: int
    reference: str
    file_format: str
    file_name: str
    date_from: dt.date
    date_to: dt.date
    currency: str
    opening_balance: str
    closing_balance: str
    balance_gap: str
    is_unbalanced: bool = SchemaField(description="Imported although opening balance plus lines is not the closing "
                                                  "balance (by a user with bank.import_unbalanced).")
    unbalanced_difference: str = SchemaField(description="Closing balance less (opening balance + lines); 0 when "
                                                         "the statement adds up.")

    @staticmethod
    def resolve_currency(obj) -> str:
        return obj.currency_id

    @staticmethod
    def resolve_unbalanced_difference(obj) -> str:
        return _money(obj.unbalanced_difference)

    @staticmethod
    def resolve_opening_balance(obj) -> str:
        return _money(obj.opening_balance)

    @staticmethod
    def resolve_closing_balance(obj) -> str:
        return _money(obj.closing_balance)

    @staticmethod
    def resolve_balance_gap(obj) -> str:
        return _money(obj.balance_gap)


class StatementImportOut(StatementOut):
    """The file's first statement (as before files could hold several), and every statement
    the file held, each imported to its bank account."""

    statements: list[StatementOut]


class StatementDetailOut(StatementOut):
    ledger_balance: str
    difference: str
    lines: list[StatementLineOut]


class StatementFilters(FilterSchema):
    bank_account_id: Annotated[int, SchemaField(ge=1, le=2**63 - 1)] | None = None
    q: Annotated[str, SchemaField(max_length=100, description="In the statement id or file name, or in a line's "
                                                               "counterparty, reference, text or transaction id.")] = ""


class UnreconciledFilters(FilterSchema):
    bank_account_id: Annotated[int, SchemaField(ge=1, le=2**63 - 1)] | None = None
    date_from: ApiDate | None = None
    date_to: ApiDate | None = None
    q: Annotated[str, SchemaField(max_length=100, description="In the counterparty, reference, text or label, the "
                                                               "party; or an amount.")] = ""


class ProposalOut(Schema):
    statement_line_id: int
    line_id: int
    score: int
    reasons: list[str]


class ReconcileIn(InputSchema):
    line_ids: Annotated[list[Annotated[int, SchemaField(ge=1, le=2**63 - 1)]], SchemaField(max_length=100)] = []
    write_off_account: Annotated[str, SchemaField(min_length=1, max_length=20)] | None = None
    write_off_label: Annotated[str, SchemaField(max_length=200)] = ""
    write_off_party: int | None = SchemaField(None, ge=1, le=2**63 - 1,
                                              description="The party, when the account is a receivable or payable.")


class ReconcileOut(Schema):
    statement_line: StatementLineOut
    entry: str | None = None


class UnreconciledLedgerLineOut(Schema):
    id: int
    date: dt.date
    account: str
    entry: str
    reference: str
    label: str
    amount: str


class UnreconciledStatementLineOut(StatementLineOut):
    statement_id: int
    statement: str

    @staticmethod
    def resolve_statement(obj) -> str:
        return obj.statement.reference


class UnreconciledLedgerLineRowOut(Schema):
    id: int
    date: dt.date
    account: str
    entry: str
    reference: str
    label: str
    amount: str
    currency: str

    @staticmethod
    def resolve_account(obj) -> str:
        return obj.account.code

    @staticmethod
    def resolve_entry(obj) -> str:
        return obj.entry.number

    @staticmethod
    def resolve_reference(obj) -> str:
        return obj.entry.reference

    @staticmethod
    def resolve_amount(obj) -> str:
        return _money(obj.amount_currency)

    @staticmethod
    def resolve_currency(obj) -> str:
        return obj.currency_id


class UnreconciledOut(Schema):
    statement_lines: list[StatementLineOut]
    ledger_lines: list[UnreconciledLedgerLineOut]


def _bank_account(company, bank_account_id: int) -> BankAccount:
    return bank_services.get_bank_account(company, bank_account_id)


def _statement(company, statement_id: int) -> BankStatement:
    found = BankStatement.objects.for_company(company).select_related("bank_account").filter(pk=statement_id).first()
    if found is None:
        raise NotFound("No such statement.", code="record.not_found")
    return found


@router.get("/bank-accounts", response=Page[BankAccountOut], url_name="ledger_bank_account_list")
def list_bank_accounts(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    company = company_for(request, company_ref, "ledger.view")
    queryset = BankAccount.objects.for_company(company).select_related("account", "journal")
    return paginate(queryset, page, ordering=("-id",))


@router.post("/bank-accounts", response={201: BankAccountOut}, url_name="ledger_bank_account_create")
def create_bank_account(request: HttpRequest, company_ref: CompanyRef, payload: BankAccountIn):
    company = company_for(request, company_ref, "ledger.view")
    with track(request, company):
        created = bank_services.create_bank_account(actor=actor(request), company=company, **payload.model_dump())
    return Status(201, _bank_account(company, created.pk))


@router.get("/bank-accounts/{bank_account_id}", response=BankAccountOut, url_name="ledger_bank_account_detail")
def get_bank_account(request: HttpRequest, company_ref: CompanyRef, bank_account_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    return _bank_account(company, bank_account_id)


@router.patch("/bank-accounts/{bank_account_id}", response=BankAccountOut, url_name="ledger_bank_account_update")
def update_bank_account(request: HttpRequest, company_ref: CompanyRef, bank_account_id: RecordId,
                        payload: BankAccountPatchIn):
    company = company_for(request, company_ref, "ledger.view")
    bank_account = _bank_account(company, bank_account_id)
    changes = payload.model_dump(exclude_unset=True)
    is_active = changes.pop("is_active", None)
    with track(request, company):
        if changes:
            bank_services.update_bank_account(actor=actor(request), bank_account=bank_account, **changes)
        if is_active is not None:
            bank_services.set_bank_account_active(actor=actor(request), bank_account=bank_account, is_active=is_active)
    return _bank_account(company, bank_account_id)


def _decimal(value: str | None, field: str) -> Decimal | None:
    """An optional amount of the upload form, by the core parser (money.* codes, naming the field)."""
    if value is None or not value.strip():
        return None
    return parse_amount(value, field=field, label=field.replace("_", " "))


def _mapping(value: str) -> dict | None:
    """The `mapping` form field: a JSON object, checked by the import like the page's mapping."""
    if not value.strip():
        return None
    try:
        mapping = json.loads(value)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict):
        raise ValidationFailed("The mapping is a JSON object, e.g. {\"date_column\": \"Date\", \"amount_column\": "
                               "\"Amount\"}.", code="statement.invalid_mapping", field="mapping")
    return mapping


@router.post("/bank-accounts/{bank_account_id}/statements", response={201: StatementImportOut},
             url_name="ledger_bank_statement_create")
def import_statement(
    request: HttpRequest, company_ref: CompanyRef, bank_account_id: RecordId,
    file: File[UploadedFile] = None,
    format: Annotated[str, Form(max_length=10)] = "",  # noqa: A002 (the API's word)
    opening_balance: Annotated[str, Form(max_length=30)] = "",
    accept_balance_gap: Annotated[bool, Form()] = False,  # noqa: FBT002 (a form field)
    accept_repeated_lines: Annotated[bool, Form()] = False,  # noqa: FBT002 (a form field)
    accept_unbalanced: Annotated[bool, Form()] = False,  # noqa: FBT002 (a form field)
    mapping: Annotated[str, Form(max_length=4000)] = "",
):
    """Import a statement file (multipart: `file`, `format` camt053|mt940|ofx|csv).

    A file may hold several statements (MT940, CAMT.053, OFX): all are imported or none; in a
    file of several accounts each goes to the bank account its IBAN names (code
    statement.unknown_account, naming them, when one has none). The answer is the first
    statement, with `statements` listing every one.
    CSV: `mapping` is the column mapping as a JSON object (saved on the bank account for next
    time); without it the saved one is used. `accept_repeated_lines` imports lines that were
    imported already (refused otherwise, code statement.repeated_lines). `accept_unbalanced`
    imports a statement whose balances do not add up, flagged with the difference (refused
    otherwise, code statement.unbalanced; needs bank.import_unbalanced).
    """
    company = company_for(request, company_ref, "ledger.view")
    bank_account = _bank_account(company, bank_account_id)
    with track(request, company):
        if file is None:
            raise ValidationFailed("Upload the statement file (multipart field 'file').", code="statement.malformed",
                                   field="file")
        if file.size and file.size > bank_services.MAX_FILE_SIZE:
            raise ValidationFailed("The file is larger than 5 MB.", code="statement.too_large", field="file")
        statements = bank_services.import_statements(
            actor=actor(request), bank_account=bank_account, file_format=format, data=file.read(),
            file_name=file.name or "", mapping=_mapping(mapping), opening_balance=_decimal(opening_balance, "opening_balance"),
            accept_balance_gap=accept_balance_gap, accept_repeated_lines=accept_repeated_lines,
            accept_unbalanced=accept_unbalanced,
        )
    first = statements[0]
    first.statements = statements
    return Status(201, first)


@router.get("/bank-statements", response=Page[StatementOut], url_name="ledger_bank_statement_list")
def list_statements(request: HttpRequest, company_ref: CompanyRef, filters: Query[StatementFilters],
                    page: Query[PageQuery]):
    company = company_for(request, company_ref, "ledger.view")
    queryset = BankStatement.objects.for_company(company)
    if filters.bank_account_id:
        queryset = queryset.filter(bank_account_id=filters.bank_account_id)
    queryset = bank_services.search_statements(queryset, filters.q)
    return paginate(queryset, page, ordering=("-id",))


@router.get("/bank-statements/{statement_id}", response=StatementDetailOut, url_name="ledger_bank_statement_detail")
def get_statement(request: HttpRequest, company_ref: CompanyRef, statement_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    statement = _statement(company, statement_id)
    summary = reconciliation.statement_summary(statement)
    statement.ledger_balance = _money(summary.ledger_balance)
    statement.difference = _money(summary.difference)
    return statement


@router.get("/bank-statements/{statement_id}/proposals", response=list[ProposalOut],
            url_name="ledger_bank_statement_proposals")
def get_proposals(request: HttpRequest, company_ref: CompanyRef, statement_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    proposals = reconciliation.propose_matches(_statement(company, statement_id))
    return [proposal for found in proposals.values() for proposal in found]


@router.post("/bank-statement-lines/{statement_line_id}/reconcile", response=ReconcileOut,
             url_name="ledger_bank_statement_line_reconcile")
def reconcile(request: HttpRequest, company_ref: CompanyRef, statement_line_id: RecordId, payload: ReconcileIn):
    """Reconcile with ledger line ids; any difference (or an unmatched line) to `write_off_account`."""
    company = company_for(request, company_ref, "ledger.view")
    line = reconciliation.get_statement_line(company, statement_line_id)
    with track(request, company):
        done = reconciliation.reconcile_statement_line(
            actor=actor(request), statement_line=line, line_ids=payload.line_ids,
            write_off_account=payload.write_off_account, write_off_label=payload.write_off_label,
            write_off_party=payload.write_off_party,
        )
    line.refresh_from_db()
    return {"statement_line": line, "entry": done.entry.number if done.entry else None}


@router.post("/bank-statement-lines/{statement_line_id}/unreconcile", response=StatementLineOut,
             url_name="ledger_bank_statement_line_unreconcile")
def unreconcile(request: HttpRequest, company_ref: CompanyRef, statement_line_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    line = reconciliation.get_statement_line(company, statement_line_id)
    with track(request, company):
        reconciliation.unreconcile_statement_line(actor=actor(request), statement_line=line)
    line.refresh_from_db()
    return line


def _narrowed(filters: UnreconciledFilters) -> dict:
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise ValidationFailed("The range ends before it starts.", code="request.invalid", field="date_to")
    return {"date_from": filters.date_from, "date_to": filters.date_to, "search": filters.q}


@router.get("/bank/unreconciled", response=UnreconciledOut, url_name="ledger_bank_unreconciled")
def unreconciled(request: HttpRequest, company_ref: CompanyRef, filters: Query[UnreconciledFilters]):
    """Statement lines not reconciled and bank ledger lines on no statement (first 500 of each;
    the two lists one page at a time: /bank/unreconciled/statement-lines and /ledger-lines)."""
    company = company_for(request, company_ref, "ledger.view")
    bank_account = _bank_account(company, filters.bank_account_id) if filters.bank_account_id else None
    narrowed = _narrowed(filters)
    ledger_lines = [
        {"id": line.pk, "date": line.date, "account": line.account.code, "entry": line.entry.number,
         "reference": line.entry.reference, "label": line.label, "amount": _money(line.amount_currency)}
        for line in reconciliation.unreconciled_ledger_lines(company, bank_account, **narrowed)[:500]
    ]
    return {"statement_lines": list(reconciliation.unreconciled_statement_lines(company, bank_account, **narrowed)[:500]),
            "ledger_lines": ledger_lines}


@router.get("/bank/unreconciled/statement-lines", response=Page[UnreconciledStatementLineOut],
            url_name="ledger_bank_unreconciled_statement_lines")
def unreconciled_statement_lines(request: HttpRequest, company_ref: CompanyRef, filters: Query[UnreconciledFilters],
                                 page: Query[PageQuery]):
    """Statement lines not reconciled, oldest first, a page at a time."""
    company = company_for(request, company_ref, "ledger.view")
    bank_account = _bank_account(company, filters.bank_account_id) if filters.bank_account_id else None
    lines = reconciliation.unreconciled_statement_lines(company, bank_account, **_narrowed(filters))
    return paginate(lines, page, ordering=("date", "id"))


@router.get("/bank/unreconciled/ledger-lines", response=Page[UnreconciledLedgerLineRowOut],
            url_name="ledger_bank_unreconciled_ledger_lines")
def unreconciled_ledger_lines(request: HttpRequest, company_ref: CompanyRef, filters: Query[UnreconciledFilters],
                              page: Query[PageQuery]):
    """Posted bank ledger lines on no statement line, oldest first, a page at a time."""
    company = company_for(request, company_ref, "ledger.view")
    bank_account = _bank_account(company, filters.bank_account_id) if filters.bank_account_id else None
    lines = reconciliation.unreconciled_ledger_lines(company, bank_account, **_narrowed(filters))
    return paginate(lines, page, ordering=("date", "id"))


class MatchingRulesOut(Schema):
    require_equal_amount: bool
    date_window_days: int
    match_reference: bool
    match_party: bool


class MatchingRulesIn(InputSchema):
    require_equal_amount: bool
    date_window_days: Annotated[int, SchemaField(ge=0, le=90)]
    match_reference: bool
    match_party: bool


@router.get("/bank/matching-rules", response=MatchingRulesOut, url_name="ledger_bank_matching_rules")
def get_matching_rules(request: HttpRequest, company_ref: CompanyRef):
    company = company_for(request, company_ref, "ledger.view")
    return bank_services.get_matching_rules(company)


@router.put("/bank/matching-rules", response=MatchingRulesOut, url_name="ledger_bankmatchingrules_update")
def update_matching_rules(request: HttpRequest, company_ref: CompanyRef, payload: MatchingRulesIn):
    company = company_for(request, company_ref, "ledger.view")
    with track(request, company):
        return bank_services.update_matching_rules(actor=actor(request), company=company, **payload.model_dump())
