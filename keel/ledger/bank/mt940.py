"""SWIFT MT940 statements, read with the `mt-940` library.

Counterparty and reference come from the :86: field when it is structured with the common
SWIFT keywords (/NAME/, /IBAN/, /REMI/, /EREF/) or the German ?20-?33 subfields.
"""

from __future__ import annotations

import re
from decimal import Decimal

import mt940 as mt940_library

from keel.ledger.bank import ParsedLine, ParsedStatement, StatementError, decode

_IBAN = re.compile(r"\b([A-Z]{2}\d{2}[A-Z0-9]{11,30})\b")
_KEYWORD = re.compile(r"/(NAME|IBAN|REMI|EREF|ORDP|BENM|CNTP)/")


def _details(text: str) -> dict[str, str]:
    """Split a structured :86: into its keywords (or ?-subfields)."""
    flat = text.replace("\n", "").replace("\r", "")
    found: dict[str, str] = {}
    if _KEYWORD.search(flat):
        parts = _KEYWORD.split(flat)
        for index in range(1, len(parts) - 1, 2):
            found[parts[index]] = parts[index + 1].strip("/ ").strip()
    elif "?2" in flat or "?3" in flat:
        for key, value in re.findall(r"\?(\d\d)([^?]*)", flat):
            found[key] = (found.get(key, "") + value).strip() if key.startswith("2") else value.strip()
        found = {"REMI": " ".join(v for k, v in sorted(found.items()) if k.startswith("2")),
                 "NAME": (found.get("32", "") + found.get("33", "")).strip(), "IBAN": found.get("31", "")}
    return found


def _check_structure(text: str) -> list[int]:
    """Line numbers of the :61: fields; refuse text that is not an MT940 at all."""
    lines = text.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if not (first.startswith(":20:") or first.startswith("{") or first.startswith(":")):
        raise StatementError("This is not an MT940 statement: it does not start with a :20: field.", line=1)
    for number, line in enumerate(lines, 1):
        if line.startswith(":") and not re.match(r"^:\d\d[A-Z]?:", line):
            raise StatementError(f"'{line[:20]}' is not an MT940 field tag.", line=number)
    return [number for number, line in enumerate(lines, 1) if line.startswith(":61:")]


def parse(data: bytes) -> ParsedStatement:
    text = decode(data)
    transaction_lines = _check_structure(text)
    statements = mt940_library.models.Transactions()
    try:
        statements.parse(text)
    except Exception as exc:  # the library raises plain exceptions on bad fields
        field = next((arg for arg in reversed(exc.args) if isinstance(arg, str) and arg.strip()), "")
        number = next((n for n, line in enumerate(text.splitlines(), 1) if field and field.splitlines()[0] in line), None)
        raise StatementError(f"The field '{field.splitlines()[0][:60] if field else '?'}' cannot be read "
                             "(date, debit/credit mark or amount).", line=number)
    header = statements.data
    if len(statements) != len(transaction_lines):
        bad = transaction_lines[len(statements)] if len(statements) < len(transaction_lines) else None
        raise StatementError("A :61: transaction cannot be read (date, debit/credit mark or amount).", line=bad)
    opening = header.get("final_opening_balance") or header.get("intermediate_opening_balance")
    closing = header.get("final_closing_balance") or header.get("intermediate_closing_balance")
    if opening is None:
        raise StatementError("The statement has no opening balance (:60F:).")
    if closing is None:
        raise StatementError("The statement has no closing balance (:62F:).")
    lines = []
    for transaction, number in zip(statements, transaction_lines, strict=True):
        values = transaction.data
        amount = values.get("amount")
        if amount is None or values.get("date") is None:
            raise StatementError("A :61: transaction has no date or amount.", line=number)
        details_text = values.get("transaction_details") or ""
        details = _details(details_text)
        reference = details.get("EREF") or values.get("customer_reference") or ""
        if reference.upper() == "NONREF":
            reference = ""
        iban = details.get("IBAN", "")
        if not iban:
            match = _IBAN.search(details_text.replace(" ", ""))
            iban = match.group(1) if match else ""
        lines.append(ParsedLine(
            date=values["date"], amount=Decimal(amount.amount), currency=amount.currency or "",
            counterparty_name=(details.get("NAME") or details.get("ORDP") or details.get("BENM") or "")[:200],
            counterparty_iban=iban[:34], reference=reference[:200],
            description=(details.get("REMI") or details_text.replace("\n", " ")).strip()[:500],
            transaction_id=(values.get("bank_reference") or "")[:100],
        ))
    statement_id = header.get("transaction_reference") or ""
    if header.get("statement_number"):
        statement_id = f"{header['statement_number']}/{header.get('sequence_number') or '1'}"
    if not statement_id:
        raise StatementError("The statement has no reference (:20:) or number (:28C:).")
    return ParsedStatement(
        statement_id=str(statement_id)[:100], currency=opening.amount.currency or "",
        opening_balance=Decimal(opening.amount.amount), closing_balance=Decimal(closing.amount.amount),
        date_from=opening.date, date_to=closing.date, account_iban=header.get("account_identification") or "",
        lines=lines,
    )
