"""OFX bank statements (SGML 1.x and XML 2.x), read with `ofxtools`.

OFX gives the closing (ledger) balance only: the opening balance is the closing one less
the transactions.
"""

from __future__ import annotations

import io

from ofxtools.Parser import OFXTree

from keel.ledger.bank import ParsedLine, ParsedStatement, StatementError


def parse(data: bytes) -> ParsedStatement:
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        ofx = tree.convert()
    except Exception as exc:  # ofxtools raises a variety of errors on malformed files
        raise StatementError(f"The OFX file cannot be read: {str(exc)[:300] or exc.__class__.__name__}.")
    statements = list(getattr(ofx, "statements", []) or [])
    if not statements:
        raise StatementError("The OFX file holds no bank statement (<STMTRS>).")
    if len(statements) > 1:
        raise StatementError(f"The OFX file holds {len(statements)} statements; import one statement per file.")
    statement = statements[0]
    transactions = statement.banktranlist
    if transactions is None:
        raise StatementError("The OFX statement has no transaction list (<BANKTRANLIST>).")
    if statement.ledgerbal is None:
        raise StatementError("The OFX statement has no closing balance (<LEDGERBAL>).")
    currency = (statement.curdef or "").upper()
    lines = []
    for transaction in transactions:
        lines.append(ParsedLine(
            date=transaction.dtposted.date(), amount=transaction.trnamt,
            currency=(transaction.currency.cursym if getattr(transaction, "currency", None) else currency) or currency,
            counterparty_name=(transaction.name or getattr(transaction.payee, "name", "") or "")[:200]
            if getattr(transaction, "payee", None) else (transaction.name or "")[:200],
            reference=(transaction.refnum or transaction.checknum or "")[:200],
            description=(transaction.memo or "")[:500], transaction_id=(transaction.fitid or "")[:100],
        ))
    closing = statement.ledgerbal.balamt
    opening = closing - sum((line.amount for line in lines), 0)
    date_from, date_to = transactions.dtstart.date(), transactions.dtend.date()
    account = statement.account
    return ParsedStatement(
        statement_id=f"{getattr(account, 'acctid', '')} {date_from:%Y-%m-%d}..{date_to:%Y-%m-%d}"[:100],
        currency=currency, opening_balance=opening, closing_balance=closing, date_from=date_from, date_to=date_to,
        account_iban=getattr(account, "acctid", "") or "", lines=lines,
    )
