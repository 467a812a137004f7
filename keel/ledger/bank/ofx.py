"""OFX bank statements: 1.x (SGML, leaf elements without end tags) and 2.x (XML), read leniently.

Banks stray from the specification in fields Keel does not use (a BANKID longer than nine
characters, a missing SIGNON or TRNTYPE, tags of their own), so the file is read as a tree
of tags and only what Keel stores is checked: each <STMTRS> (or <CCSTMTRS>) is one
statement, its <BANKTRANLIST> the lines (<DTPOSTED>, <TRNAMT> required), its <LEDGERBAL> the
closing balance; the opening balance is the closing one less the lines.

Dates are the statement's own: OFX writes `YYYYMMDD[HHMMSS[.XXX]][[offset:TZ]]` in the bank's
time zone, and a booking on 16 March at 23:30 in New York is on 16 March, not on the 17th
as it would be in UTC. So a date is its first eight digits, whatever the time and offset.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from decimal import Decimal

from keel.core.exceptions import ValidationFailed
from keel.core.money import parse_amount
from keel.ledger.bank import ParsedLine, ParsedStatement, StatementError, decode

_TOKEN = re.compile(r"<(/?)([A-Za-z0-9_.]+)([^>]*)>([^<]*)")
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


@dataclass
class _Node:
    tag: str
    line: int
    text: str = ""
    children: list[_Node] = field(default_factory=list)

    def child(self, tag: str) -> _Node | None:
        return next((node for node in self.children if node.tag == tag), None)

    def value(self, path: str) -> str:
        node: _Node | None = self
        for tag in path.split("/"):
            node = node.child(tag) if node is not None else None
        return node.text if node is not None else ""

    def all(self, tag: str) -> list[_Node]:
        """Every descendant named `tag`, in the file's order."""
        found = []
        for node in self.children:
            if node.tag == tag:
                found.append(node)
            found.extend(node.all(tag))
        return found


def _tree(text: str) -> _Node:
    start = text.upper().find("<OFX>")
    if start < 0:
        raise StatementError("This is not an OFX file: it has no <OFX> element.", line=1)
    root = _Node("", 1)
    stack = [root]
    last_leaf = None
    line, position = text.count("\n", 0, start) + 1, start
    for token in _TOKEN.finditer(text, start):
        line += text.count("\n", position, token.start())
        position = token.start()
        closing, tag, attributes, content = token.group(1), token.group(2).upper(), token.group(3), token.group(4)
        if closing:
            if last_leaf is not None and last_leaf.tag == tag:  # XML: the end tag of the leaf just read
                last_leaf = None
                continue
            last_leaf = None
            if any(node.tag == tag for node in stack[1:]):
                while stack.pop().tag != tag:
                    pass
            continue
        value = html.unescape(content.strip())
        if value or attributes.strip().endswith("/"):
            last_leaf = _Node(tag, line, value)
            stack[-1].children.append(last_leaf)
        else:
            last_leaf = None
            node = _Node(tag, line)
            stack[-1].children.append(node)
            stack.append(node)
    return root


def _date(node: _Node, path: str, *, required: bool = True) -> dt.date | None:
    value = node.value(path)
    if not value:
        if required:
            raise StatementError(f"<{node.tag}> has no <{path.rsplit('/', 1)[-1]}>.", line=node.line)
        return None
    found = _DATE.match(value)
    try:
        return dt.date(int(found[1]), int(found[2]), int(found[3]))
    except (TypeError, ValueError):  # no eight digits, or no such day
        raise StatementError(f"'{value[:40]}' in <{path.rsplit('/', 1)[-1]}> is not an OFX date "
                             "(YYYYMMDD...).", line=node.line)


def _amount(node: _Node, path: str) -> Decimal:
    value = node.value(path)
    if not value:
        raise StatementError(f"<{node.tag}> has no <{path.rsplit('/', 1)[-1]}>.", line=node.line)
    # OFX allows a decimal comma; it has no thousands separators.
    separator = "," if "," in value and "." not in value else "."
    try:
        return parse_amount(value, decimal_separator=separator, label=f"<{path.rsplit('/', 1)[-1]}>")
    except ValidationFailed as exc:
        raise StatementError(exc.message, line=node.line)


def _statement(node: _Node) -> ParsedStatement:
    transactions = node.child("BANKTRANLIST")
    if transactions is None:
        raise StatementError("The OFX statement has no transaction list (<BANKTRANLIST>).", line=node.line)
    balance = node.child("LEDGERBAL")
    if balance is None:
        raise StatementError("The OFX statement has no closing balance (<LEDGERBAL>).", line=node.line)
    currency = node.value("CURDEF").upper()
    lines = []
    for item in transactions.all("STMTTRN"):
        amount = _amount(item, "TRNAMT")
        counterparty_account = (item.value("BANKACCTTO/ACCTID") or "").replace(" ", "").upper()
        lines.append(ParsedLine(
            date=_date(item, "DTPOSTED"), amount=amount,
            currency=(item.value("CURRENCY/CURSYM") or currency).upper(),
            counterparty_name=(item.value("NAME") or item.value("PAYEE/NAME"))[:200],
            counterparty_iban=counterparty_account if _IBAN.match(counterparty_account) else "",
            reference=(item.value("REFNUM") or item.value("CHECKNUM"))[:200],
            description=item.value("MEMO")[:500], transaction_id=item.value("FITID")[:100],
        ))
    closing = _amount(balance, "BALAMT")
    opening = closing - sum((line.amount for line in lines), Decimal(0))
    days = [line.date for line in lines]
    date_from = _date(transactions, "DTSTART", required=False) or (min(days) if days else None)
    date_to = (_date(transactions, "DTEND", required=False) or (max(days) if days else None)
               or _date(balance, "DTASOF", required=False))
    account = node.value("BANKACCTFROM/ACCTID") or node.value("CCACCTFROM/ACCTID")
    period = f"{date_from:%Y-%m-%d}..{date_to:%Y-%m-%d}" if date_from and date_to else ""
    return ParsedStatement(
        statement_id=f"{account} {period}".strip()[:100], currency=currency, opening_balance=opening,
        closing_balance=closing, date_from=date_from, date_to=date_to, account_identification=account, lines=lines,
        line=node.line,
    )


def parse(data: bytes) -> list[ParsedStatement]:
    """Every bank (or credit card) statement of the file, in its order."""
    root = _tree(decode(data))
    statements = root.all("STMTRS") + root.all("CCSTMTRS")
    if not statements:
        raise StatementError("The OFX file holds no bank statement (<STMTRS>).")
    statements.sort(key=lambda node: node.line)
    return [_statement(node) for node in statements]
