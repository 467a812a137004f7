"""The bank part of the demo: a bank account, two statements and a reconciliation half done.

For the demo company's bank account (created on the chart's bank-role ledger account when
there is none), the statements are written here as the bank would send them: the older month
as CAMT.053, the latest as a CSV export. Their lines are the bank-journal movements already
posted in the ledger (read as posted lines on the bank's ledger account), plus what the books
do not know yet: a card fee each month and the credit interest. Both go through the import
service; the older statement is then fully reconciled through the reconciliation service
(proposals accepted, fee and interest booked to their accounts) and the latest one only half,
so the statement page shows a difference and the unreconciled report has content on both sides.

Idempotent: the statements carry file names starting with `demo-statement-`; when one exists
the step does nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.sax.saxutils import escape

from django.db.models import Q

from keel.core.exceptions import KeelError
from keel.ledger.choices import AccountRole
from keel.ledger.models import Account, Line
from keel.ledger.models.bank import BankAccount, BankStatement
from keel.ledger.services.bank import create_bank_account, import_statement, ledger_balance
from keel.ledger.services.reconciliation import (
    open_bank_lines,
    propose_matches,
    reconcile_statement_line,
)

DEMO_IBAN = "GB33BUKB20201555555555"
DEMO_BIC = "BUKBGB22"
FILE_PREFIX = "demo-statement-"
FEE_ACCOUNT, INTEREST_ACCOUNT = "6800", "7100"
CSV_MAPPING = {
    "delimiter": ";", "skip_rows": 0, "date_column": "Booking date", "date_format": "%d.%m.%Y",
    "amount_column": "Amount", "decimal_separator": ",", "counterparty_column": "Counterparty",
    "reference_column": "Reference", "description_column": "Text", "transaction_id_column": "Transaction",
}


def _bank_account(company, actor) -> BankAccount | None:
    """The company's bank account in its own currency (the demo's statements are in pounds)."""
    base = company.base_currency_id
    existing = (BankAccount.objects.for_company(company).filter(is_active=True, currency_id=base)
                .select_related("account").first())
    if existing is not None:
        return existing
    taken = BankAccount.objects.for_company(company).values("account_id")
    ledger_account = (Account.objects.for_company(company).filter(role=AccountRole.BANK, is_active=True)
                      .filter(Q(currency__isnull=True) | Q(currency_id=base)).exclude(pk__in=taken)
                      .order_by("code").first())
    if ledger_account is None:
        return None
    try:  # books from before a bank account's currency was enforced may hold other currencies on it
        return create_bank_account(actor=actor, company=company, name="Current account", account=ledger_account,
                                   iban=DEMO_IBAN, bic=DEMO_BIC, check_permission=False)
    except KeelError:
        return None


def _movements(bank_account: BankAccount) -> list[dict]:
    """The bank's posted movements of the last two months that have any, as the bank would print them."""
    lines = open_bank_lines(bank_account).order_by("date", "id")
    last = lines.last()
    if last is None:
        return []
    first_month = (last.date.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    chosen = list(lines.filter(date__gte=first_month).select_related("entry"))
    parties = dict(
        Line.objects.for_company(bank_account.company_id)
        .filter(entry_id__in={line.entry_id for line in chosen}, party__isnull=False)
        .values_list("entry_id", "party__name")
    )
    return [{
        "date": line.date, "amount": line.amount_currency, "counterparty": parties.get(line.entry_id, ""),
        "reference": line.entry.reference, "text": line.entry.description or line.label,
        "transaction": f"TX{line.date:%Y%m%d}{index:04d}",
    } for index, line in enumerate(chosen, 1)]


def _extras(month_lines: list[dict], *, with_interest: bool) -> list[dict]:
    """What the bank knows and the books do not yet: a card fee, and the interest."""
    last_day = max(row["date"] for row in month_lines)
    extras = [{"date": last_day, "amount": Decimal("-4.90"), "counterparty": "", "reference": "",
               "text": f"Card transaction fees {last_day:%B %Y}", "transaction": f"FEE{last_day:%Y%m%d}"}]
    if with_interest:
        extras.append({"date": last_day, "amount": Decimal("1.37"), "counterparty": "", "reference": "",
                       "text": f"Credit interest {last_day:%B %Y}", "transaction": f"INT{last_day:%Y%m%d}"})
    return extras


def _camt053(bank_account: BankAccount, statement_id: str, rows: list[dict], opening: Decimal) -> bytes:
    currency = bank_account.currency_id
    date_from, date_to = rows[0]["date"].replace(day=1), max(row["date"] for row in rows)
    closing = opening + sum((row["amount"] for row in rows), Decimal(0))

    def balance(code, amount, day):
        side = "CRDT" if amount >= 0 else "DBIT"
        return (f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{abs(amount):.2f}</Amt>'
                f"<CdtDbtInd>{side}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")

    entries = []
    for row in rows:
        side, party = ("CRDT", "Dbtr") if row["amount"] > 0 else ("DBIT", "Cdtr")
        details = ""
        if row["reference"] or row["counterparty"]:
            details = (f"<NtryDtls><TxDtls><Refs><EndToEndId>{escape(row['reference'] or 'NOTPROVIDED')}</EndToEndId></Refs>"
                       f"<RltdPties><{party}><Nm>{escape(row['counterparty'])}</Nm></{party}></RltdPties>"
                       f"<RmtInf><Ustrd>{escape(row['text'])}</Ustrd></RmtInf></TxDtls></NtryDtls>")
        entries.append(
            f'<Ntry><Amt Ccy="{currency}">{abs(row["amount"]):.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
            f"<BookgDt><Dt>{row['date'].isoformat()}</Dt></BookgDt><AcctSvcrRef>{row['transaction']}</AcctSvcrRef>"
            f"<AddtlNtryInf>{escape(row['text'])}</AddtlNtryInf>{details}</Ntry>"
        )
    account = f"<Id><IBAN>{bank_account.iban}</IBAN></Id>" if bank_account.iban else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{date_to.isoformat()}T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><FrToDt><FrDtTm>{date_from.isoformat()}T00:00:00</FrDtTm>"
        f"<ToDtTm>{date_to.isoformat()}T23:59:59</ToDtTm></FrToDt><Acct>{account}<Ccy>{currency}</Ccy></Acct>"
        f"{balance('OPBD', opening, date_from)}{balance('CLBD', closing, date_to)}{''.join(entries)}</Stmt>"
        "</BkToCstmrStmt></Document>\n"
    ).encode()


def _csv(rows: list[dict]) -> bytes:
    def cell(text: str) -> str:
        return (text or "").replace(";", ",").replace("\n", " ")

    out = ["Booking date;Counterparty;Reference;Text;Amount;Transaction"]
    for row in rows:
        amount = f"{row['amount']:.2f}".replace(".", ",")
        out.append(f"{row['date']:%d.%m.%Y};{cell(row['counterparty'])};{cell(row['reference'])};{cell(row['text'])};"
                   f"{amount};{row['transaction']}")
    return ("\n".join(out) + "\n").encode()


def _reconcile(statement: BankStatement, actor, *, share: float) -> None:
    """Accept the best proposal of the first `share` of the matched lines; book fee and interest."""
    proposals = propose_matches(statement)
    lines = list(statement.lines.order_by("position"))
    matched = [line for line in lines if line.pk in proposals]
    keep = matched[: round(len(matched) * share)]
    used: set[int] = set()
    for line in keep:
        best = next((p for p in proposals[line.pk] if p.line_id not in used), None)
        if best is None:
            continue
        used.add(best.line_id)
        try:
            reconcile_statement_line(actor=actor, statement_line=line, line_ids=[best.line_id], check_permission=False)
        except KeelError:
            continue
    if share < 1:
        return
    for line in lines:
        if line.pk in proposals or line.is_reconciled:
            continue
        account = INTEREST_ACCOUNT if line.amount > 0 else FEE_ACCOUNT
        try:  # a closed period or a chart without the account: the line stays for someone to book
            reconcile_statement_line(actor=actor, statement_line=line, write_off_account=account,
                                     write_off_label=line.description, check_permission=False)
        except KeelError:
            continue


def load_bank_demo(company, actor=None) -> None:
    """Add the demo bank account's statements and reconcile part of them; does nothing on a second run."""
    bank_account = _bank_account(company, actor)
    if bank_account is None:
        return
    if BankStatement.objects.for_company(company).filter(bank_account=bank_account,
                                                         file_name__startswith=FILE_PREFIX).exists():
        return
    movements = _movements(bank_account)
    if not movements:
        return
    months = sorted({row["date"].replace(day=1) for row in movements})
    older = [row for row in movements if row["date"] < months[-1]] if len(months) > 1 else []
    latest = [row for row in movements if row["date"] >= months[-1]]
    if older:
        first_day = older[0]["date"].replace(day=1)
        statement_id = f"STMT-{first_day:%Y-%m}"
        data = _camt053(bank_account, statement_id, older + _extras(older, with_interest=True),
                        ledger_balance(bank_account, first_day - dt.timedelta(days=1)))
        statement = import_statement(actor=actor, bank_account=bank_account, file_format="camt053", data=data,
                                     file_name=f"{FILE_PREFIX}{first_day:%Y-%m}.xml", check_permission=False)
        _reconcile(statement, actor, share=1)
    opening = None if older else ledger_balance(bank_account, latest[0]["date"] - dt.timedelta(days=1))
    statement = import_statement(
        actor=actor, bank_account=bank_account, file_format="csv", data=_csv(latest + _extras(latest, with_interest=False)),
        file_name=f"{FILE_PREFIX}{months[-1]:%Y-%m}.csv", mapping=CSV_MAPPING, opening_balance=opening,
        check_permission=False,
    )
    _reconcile(statement, actor, share=0.5)
