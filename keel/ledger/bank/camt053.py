"""ISO 20022 CAMT.053 (bank-to-customer statement) in XML, any version (namespace-agnostic).

The file is first checked with defusedxml (no DTD, no entities: no XML bombs, no external
fetches), then read with lxml so every error can name the line of the file.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from lxml import etree

from keel.core.exceptions import ValidationFailed
from keel.core.money import parse_amount
from keel.ledger.bank import ParsedLine, ParsedStatement, StatementError

OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD",)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _find(element, path: str):
    """First descendant along `path` (local names separated by /), ignoring namespaces."""
    current = [element]
    for name in path.split("/"):
        current = [child for parent in current for child in parent if _local(child.tag) == name]
        if not current:
            return None
    return current[0]


def _text(element, path: str) -> str:
    found = _find(element, path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _children(element, name: str) -> list:
    return [child for child in element if _local(child.tag) == name]


def _number(found) -> Decimal:
    """An <Amt>'s amount (XML decimal: a point, no sign, no separators), within what Keel stores."""
    text = (found.text or "").strip()
    if not re.fullmatch(r"[0-9]+(?:\.[0-9]*)?", text):
        raise StatementError(f"'{text[:40]}' is not an amount.", line=found.sourceline)
    try:
        return parse_amount(text, label="amount")
    except ValidationFailed as exc:
        raise StatementError(exc.message, line=found.sourceline)


def _amount(element, path: str = "Amt") -> tuple[Decimal, str]:
    found = _find(element, path)
    if found is None:
        raise StatementError(f"<{_local(element.tag)}> has no <{path}>.", line=element.sourceline)
    amount = _number(found)
    indicator = _text(element, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(f"<{_local(element.tag)}> needs <CdtDbtInd> CRDT or DBIT, not '{indicator}'.",
                             line=element.sourceline)
    return (amount if indicator == "CRDT" else -amount), (found.get("Ccy") or "").upper()


def _date(element, path: str) -> dt.date | None:
    value = _text(element, f"{path}/Dt") or _text(element, f"{path}/DtTm")[:10]
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise StatementError(f"'{value}' is not a date.", line=element.sourceline)


def _party_name(party) -> str:
    if party is None:
        return ""
    return _text(party, "Nm") or _text(party, "Pty/Nm")


def _detail_amount(detail, entry_sign: int) -> Decimal | None:
    """A TxDtls's own amount (AmtDtls/TxAmt/Amt, else Amt), signed by its CdtDbtInd or the
    entry's; None when it gives none."""
    found = _find(detail, "AmtDtls/TxAmt/Amt")
    if found is None:
        found = next((child for child in detail if _local(child.tag) == "Amt"), None)
    if found is None:
        return None
    amount = _number(found)
    indicator = _text(detail, "CdtDbtInd")
    sign = {"CRDT": 1, "DBIT": -1}.get(indicator, entry_sign)
    return sign * abs(amount)


def _line(day: dt.date, amount: Decimal, currency: str, details, description: str, transaction_id: str) -> ParsedLine:
    """A statement line with the counterparty, reference and text of one TxDtls (if any)."""
    name = iban = reference = ""
    if details is not None:
        side = "Dbtr" if amount > 0 else "Cdtr"
        name = _party_name(_find(details, f"RltdPties/{side}"))
        iban = _text(details, f"RltdPties/{side}Acct/Id/IBAN") or _text(details, f"RltdPties/{side}Acct/Id/Othr/Id")
        reference = (_text(details, "RmtInf/Strd/CdtrRefInf/Ref") or _text(details, "Refs/EndToEndId")).strip()
        if reference == "NOTPROVIDED":
            reference = ""
        remittance = _find(details, "RmtInf")
        unstructured = " ".join(
            (u.text or "").strip() for u in (remittance if remittance is not None else []) if _local(u.tag) == "Ustrd"
        )
        description = unstructured or _text(details, "AddtlTxInf") or description
    return ParsedLine(date=day, amount=amount, currency=currency, counterparty_name=name[:200],
                      counterparty_iban=iban.replace(" ", "")[:34], reference=reference[:200],
                      description=description[:500], transaction_id=transaction_id[:100])


def _entry(entry) -> list[ParsedLine]:
    """The lines of one <Ntry>: one, or one per TxDtls of a batch whose details carry their amounts.

    A batch entry (a collection of direct debits, a salary run) lists each transaction in its
    own TxDtls with its own amount, counterparty and reference: those are the lines, so each
    can be reconciled with its own invoice. Their amounts must add up to the entry's. A batch
    whose details give no amounts stays one line (the bank gave no split).
    """
    amount, currency = _amount(entry)
    day = _date(entry, "BookgDt") or _date(entry, "ValDt")
    if day is None:
        raise StatementError("<Ntry> has no booking date <BookgDt>.", line=entry.sourceline)
    details = [detail for group in _children(entry, "NtryDtls") for detail in _children(group, "TxDtls")]
    description = _text(entry, "AddtlNtryInf")
    transaction_id = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    if len(details) <= 1:
        detail = details[0] if details else None
        if detail is not None:
            transaction_id = transaction_id or _text(detail, "Refs/AcctSvcrRef") or _text(detail, "Refs/TxId")
        return [_line(day, amount, currency, detail, description, transaction_id)]
    sign = 1 if amount > 0 else -1
    amounts = [_detail_amount(detail, sign) for detail in details]
    if any(value is None for value in amounts):
        return [_line(day, amount, currency, None, description or f"Batch of {len(details)} transactions",
                      transaction_id)]
    if sum(amounts, Decimal(0)) != amount:
        raise StatementError(f"The {len(details)} transaction details of the batch entry add up to "
                             f"{sum(amounts, Decimal(0))}, not to the entry's {amount}.", line=entry.sourceline)
    lines = []
    for number, (detail, detail_amount) in enumerate(zip(details, amounts, strict=True), 1):
        # The bank's id of each transaction; else the entry's, numbered, so each stays distinct.
        own_id = _text(detail, "Refs/AcctSvcrRef") or _text(detail, "Refs/TxId")
        detail_id = own_id or (f"{transaction_id}/{number}" if transaction_id else "")
        lines.append(_line(day, detail_amount, currency, detail, description, detail_id))
    return lines


def _statement(statement) -> ParsedStatement:
    statement_id = _text(statement, "Id")
    if not statement_id:
        raise StatementError("<Stmt> has no <Id>.", line=statement.sourceline)
    opening = closing = None
    currency = _text(statement, "Acct/Ccy").upper()
    opening_date = closing_date = None
    for balance in _children(statement, "Bal"):
        code = _text(balance, "Tp/CdOrPrtry/Cd")
        amount, balance_currency = _amount(balance)
        currency = currency or balance_currency
        if code in OPENING_CODES and opening is None:
            opening, opening_date = amount, _date(balance, "Dt")
        elif code in CLOSING_CODES:
            closing, closing_date = amount, _date(balance, "Dt")
    if opening is None:
        raise StatementError("The statement has no opening balance (<Bal> with code OPBD or PRCD).",
                             line=statement.sourceline)
    if closing is None:
        raise StatementError("The statement has no closing balance (<Bal> with code CLBD).", line=statement.sourceline)
    lines = [line for entry in _children(statement, "Ntry") for line in _entry(entry)]
    if _find(statement, "FrToDt") is not None:
        date_from = _parse_day(_text(statement, "FrToDt/FrDtTm"), statement)
        date_to = _parse_day(_text(statement, "FrToDt/ToDtTm"), statement)
    else:
        date_from, date_to = opening_date, closing_date
    return ParsedStatement(
        statement_id=statement_id[:100], currency=currency, opening_balance=opening, closing_balance=closing,
        date_from=date_from, date_to=date_to,
        account_identification=_text(statement, "Acct/Id/IBAN") or _text(statement, "Acct/Id/Othr/Id"),
        lines=lines, line=statement.sourceline,
    )


def parse(data: bytes) -> list[ParsedStatement]:
    """Every <Stmt> of the file, in its order."""
    try:
        safe_xml.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise StatementError(f"The XML file declares a DTD or entities, which are refused ({exc.__class__.__name__}).")
    except safe_xml.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise StatementError(f"The file is not well-formed XML: {exc.msg if hasattr(exc, 'msg') else exc}.", line=line)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise StatementError(f"The file is not well-formed XML: {exc.msg}.", line=exc.lineno)
    container = root if _local(root.tag) == "BkToCstmrStmt" else _find(root, "BkToCstmrStmt")
    statements = [child for child in (container if container is not None else []) if _local(child.tag) == "Stmt"]
    if not statements:
        raise StatementError("This is not a CAMT.053 statement: no <BkToCstmrStmt>/<Stmt> found.", line=root.sourceline)
    return [_statement(statement) for statement in statements]


def _parse_day(value: str, element) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise StatementError(f"'{value}' is not a date.", line=element.sourceline)
