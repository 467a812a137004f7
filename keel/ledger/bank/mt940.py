"""SWIFT MT940 customer statements, as banks write them.

A file holds one or more statements, each from its :20: field to the next :20:. The
transport wrapping banks add is dropped before reading: SWIFT control bytes (SOH, ETX), the
block headers `{1:...}{2:...}{3:...}{4:` and trailers `-}` / `{5:...}`, a leading `:940:`
or `940` line, and `-` or `$` lines between statements.

Fields read: :20: reference, :25: account identification (an IBAN, possibly followed by the
currency, or a German `BLZ/account`), :28C: statement/sequence number, :60F:/:60M:
opening balance, :61: statement line with its :86: information, :62F:/:62M: closing
balance. Others (:13D:, :21:, :34F:, :64:, :65:, :90C:/:90D:, bank-specific tags such as
:NS:, an :86: that follows the balances) are read past. A line that does not start with a
tag continues the field above it.

An :86: is taken apart where it is structured: the SWIFT keywords (/NAME/, /IBAN/, /REMI/,
/EREF/...) or the German subfields (?00 booking text, ?20-?29 and ?60-?63 remittance with
the SEPA keywords EREF+, SVWZ+..., ?30 bank code, ?31 account, ?32/?33 name). Otherwise the
whole text is the line's description.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from keel.core.exceptions import ValidationFailed
from keel.core.money import parse_amount
from keel.ledger.bank import ParsedLine, ParsedStatement, StatementError, decode

_IBAN = re.compile(r"\b([A-Z]{2}\d{2}[A-Z0-9]{11,30})\b")
_TAG = re.compile(r"^:(\d\d[A-Z]?|NS):")
_TRAILER = re.compile(r"^\{5:(?:[^{}]|\{[^{}]*\})*\}")
_BLOCK_HEADER = re.compile(r"^(?:\{[1-3]:[^{}]*(?:\{[^{}]*\})*[^{}]*\})*\{4:")
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>[0-9][0-9.,]*)$")
_TRANSACTION = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|EC|ED|C|D)(?P<funds>[A-Z])?(?P<amount>[0-9][0-9.,]*)"
    r"(?P<type>[NSF][A-Z0-9]{3})(?P<rest>.*)$"
)
# SWIFT-style :86: keywords (the Dutch and SEPA usage), split on only these so a value may hold a slash.
_KEYWORDS = ("TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "ORDP", "BENM", "CNTP", "CSID", "MARF", "ADDR",
             "ULTC", "ULTD", "PURP", "RTRN", "PREF", "SVWZ")
_KEYWORD = re.compile(r"/(" + "|".join(_KEYWORDS) + r")/")
# SEPA keywords inside the German ?20-?29 remittance.
_SEPA = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT|IBAN|BIC)\+")
_NO_REFERENCE = {"NONREF", "NOTPROVIDED", "NONE", ""}


@dataclass
class _Field:
    tag: str
    value: str
    line: int


def _unwrap(text: str) -> list[tuple[int, str]]:
    """The file's lines (numbered from 1) without the SWIFT transport wrapping."""
    lines = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        line = raw.replace("\x01", "").replace("\x03", "").rstrip()
        rest = line.strip()
        while True:  # "-}{5:{CHK:...}}{1:...}{2:...}{4:" ends one message and starts the next
            before = rest
            rest = rest[2:].lstrip() if rest.startswith("-}") else rest
            for wrapping in (_TRAILER, _BLOCK_HEADER):
                found = wrapping.match(rest)
                rest = rest[found.end():] if found else rest
            if rest == before:
                break
        if rest in ("", "-", "$", "940", ":940:") or (rest.startswith("{") and rest.endswith("}")):
            continue
        lines.append((number, rest if rest != line.strip() else line))
    return lines


def _fields(text: str) -> list[_Field]:
    lines = _unwrap(text)
    if not lines or not _TAG.match(lines[0][1]):
        raise StatementError("This is not an MT940 statement: it does not start with a :20: field.",
                             line=lines[0][0] if lines else 1)
    fields: list[_Field] = []
    for number, line in lines:
        tag = _TAG.match(line)
        if tag:
            fields.append(_Field(tag.group(1), line[tag.end():], number))
        elif line.startswith(":") and re.match(r"^:[0-9A-Z]{1,4}:", line):
            fields.append(_Field(line[1:line.index(":", 1)], line[line.index(":", 1) + 1:], number))
        elif line.startswith(":"):
            raise StatementError(f"'{line[:20]}' is not an MT940 field tag.", line=number)
        else:
            fields[-1].value += "\n" + line
    return fields


def _date(value: str, line: int, what: str) -> dt.date:
    try:
        year = int(value[:2])
        return dt.date(2000 + year if year < 80 else 1900 + year, int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise StatementError(f"'{value}' in {what} is not a date (YYMMDD).", line=line)


def _amount(value: str, line: int, what: str):
    try:
        return parse_amount(value, decimal_separator=",", label=f"amount of {what}")
    except ValidationFailed as exc:
        raise StatementError(exc.message, line=line)


def _balance(field: _Field):
    found = _BALANCE.match(field.value.strip())
    if not found:
        raise StatementError(f"The balance ':{field.tag}:{field.value.strip()[:40]}' cannot be read (mark C or D, "
                             "date YYMMDD, currency, amount).", line=field.line)
    amount = _amount(found["amount"], field.line, f":{field.tag}:")
    return (amount if found["mark"] == "C" else -amount), found["currency"], _date(found["date"], field.line,
                                                                                   f":{field.tag}:")


def _booking_date(value_date: dt.date, entry: str, line: int) -> dt.date:
    """The entry (booking) date MMDD in the year that puts it nearest the value date."""
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(dt.date(year, int(entry[:2]), int(entry[2:])))
        except ValueError:
            continue
    if not candidates:
        raise StatementError(f"'{entry}' in :61: is not an entry date (MMDD).", line=line)
    return min(candidates, key=lambda day: abs((day - value_date).days))


def _keywords(flat: str) -> dict[str, str]:
    parts = _KEYWORD.split(flat)
    found: dict[str, str] = {}
    for index in range(1, len(parts) - 1, 2):
        found.setdefault(parts[index], parts[index + 1].strip("/ ").strip())
    if "CNTP" in found and not found.get("NAME"):  # /CNTP/account/BIC/name/city/
        pieces = found["CNTP"].split("/")
        found.setdefault("IBAN", pieces[0] if pieces else "")
        found["NAME"] = pieces[2] if len(pieces) > 2 else ""
    for key in ("ORDP", "BENM"):  # /ORDP//NAME/x/ADDR/...: the name is in NAME already
        found[key] = found.get(key, "").lstrip("/")
    return found


def _subfields(flat: str) -> dict[str, str]:
    """The German ?nn subfields: remittance (?20-?29, ?60-?63), name, bank code, account."""
    pieces = {}
    for key, value in re.findall(r"\?(\d\d)([^?]*)", flat):
        pieces[key] = pieces.get(key, "") + value
    remittance_keys = [k for k in sorted(pieces) if "20" <= k <= "29" or "60" <= k <= "63"]
    chunks = [pieces[k] for k in remittance_keys]
    # SEPA remittance is cut into 27-character pieces, mid-word: joined as written.
    joined = "".join(chunks) if _SEPA.search("".join(chunks)) else " ".join(c.strip() for c in chunks)
    found = {"NAME": (pieces.get("32", "") + pieces.get("33", "")).strip(), "BANK": pieces.get("30", "").strip(),
             "ACCOUNT": pieces.get("31", "").strip(), "TEXT": pieces.get("00", "").strip()}
    sepa = _SEPA.split(joined)
    if len(sepa) > 1:
        values = {sepa[i]: sepa[i + 1].strip() for i in range(1, len(sepa) - 1, 2)}
        found["EREF"] = values.get("EREF", "")
        found["REMI"] = values.get("SVWZ", "") or sepa[0].strip()
        if values.get("IBAN") and not found["ACCOUNT"]:
            found["ACCOUNT"] = values["IBAN"]
    else:
        found["REMI"] = joined.strip()
    return found


def _details(text: str) -> dict[str, str]:
    """An :86: taken apart: NAME, IBAN, REMI (remittance), EREF (end-to-end reference)."""
    flat = text.replace("\n", "").replace("\r", "")
    if _KEYWORD.search(flat):
        return _keywords(flat)
    if re.match(r"^\d{3}\?", flat) or re.search(r"\?(2\d|3[0-3])", flat):
        found = _subfields(flat)
        # ?31 is an IBAN, or (older files) a domestic account number with ?30 its bank code.
        account = found.pop("ACCOUNT").replace(" ", "")
        found["IBAN"] = account if _IBAN.fullmatch(account) else ""
        if not found["REMI"]:
            found["REMI"] = found.get("TEXT", "")
        return found
    return {}


def _transaction(field: _Field, info: _Field | None) -> ParsedLine:
    first, _, supplementary = field.value.partition("\n")
    found = _TRANSACTION.match(first.strip())
    if not found:
        raise StatementError(f"The transaction ':61:{first.strip()[:40]}' cannot be read (date, debit/credit mark "
                             "or amount).", line=field.line)
    value_date = _date(found["value"], field.line, ":61:")
    day = _booking_date(value_date, found["entry"], field.line) if found["entry"] else value_date
    amount = _amount(found["amount"], field.line, ":61:")
    if not amount:
        raise StatementError("The transaction moves no amount.", line=field.line)
    credit = found["mark"] in ("C", "EC", "RD")  # a reversed debit is money in
    customer_reference, _, bank_reference = found["rest"].partition("//")
    details_text = info.value if info is not None else ""
    details = _details(details_text)
    reference = details.get("EREF") or customer_reference.strip()
    if reference.upper() in _NO_REFERENCE:
        reference = ""
    iban = details.get("IBAN", "").replace(" ", "")
    if not iban and not details:
        match = _IBAN.search(details_text.replace(" ", "").replace("\n", ""))
        iban = match.group(1) if match else ""
    description = details.get("REMI") or " ".join(details_text.split()) or supplementary.strip()
    name = details.get("NAME") or details.get("ORDP") or details.get("BENM") or ""
    return ParsedLine(
        date=day, amount=amount if credit else -amount, counterparty_name=" ".join(name.split())[:200],
        counterparty_iban=iban[:34], reference=reference.strip()[:200], description=description.strip()[:500],
        transaction_id=bank_reference.strip()[:100],
    )


def _statement(fields: list[_Field]) -> ParsedStatement:
    head = fields[0]
    reference = head.value.strip()
    account = number = ""
    opening = closing = None
    lines: list[ParsedLine] = []
    # A :61: and the :86: that follows it (bank-specific fields such as :NS: may come between);
    # an :86: after the closing balance is information on the statement, not on a line.
    pending: list[_Field | None] = []
    for field in fields[1:]:
        tag = field.tag
        if tag == "25":
            account = field.value.strip()
        elif tag in ("28", "28C"):
            number = field.value.strip()
        elif tag in ("60F", "60M") and opening is None:
            opening = _balance(field)
        elif tag == "61":
            if opening is None:
                raise StatementError("A :61: transaction comes before the opening balance (:60F:).", line=field.line)
            if pending:
                lines.append(_transaction(*pending))
            pending = [field, None]
        elif tag == "86":
            if pending and pending[1] is None:
                pending[1] = field
        elif tag in ("62F", "62M", "64", "65"):
            if tag.startswith("62"):
                closing = _balance(field)
            if pending:
                lines.append(_transaction(*pending))
            pending = []
    if pending:
        lines.append(_transaction(*pending))
    if opening is None:
        raise StatementError(f"Statement {reference or '?'} has no opening balance (:60F:).", line=head.line)
    if closing is None:
        raise StatementError(f"Statement {reference or '?'} has no closing balance (:62F:).", line=head.line)
    if opening[1] != closing[1]:
        raise StatementError(f"The opening balance is in {opening[1]}, the closing balance in {closing[1]}.",
                             line=head.line)
    statement_id = reference
    if number:
        statement_number, _, sequence = number.partition("/")
        statement_id = f"{statement_number}/{sequence or '1'}"
    if not statement_id:
        raise StatementError("The statement has no reference (:20:) or number (:28C:).", line=head.line)
    for line in lines:
        line.currency = opening[1]
    return ParsedStatement(
        statement_id=statement_id[:100], currency=opening[1], opening_balance=opening[0], closing_balance=closing[0],
        date_from=opening[2], date_to=closing[2], account_identification=account, lines=lines, line=head.line,
    )


def parse(data: bytes) -> list[ParsedStatement]:
    """Every statement of the file, in the file's order."""
    fields = _fields(decode(data))
    starts = [index for index, field in enumerate(fields) if field.tag == "20"]
    if not starts or starts[0] != 0:
        raise StatementError("This is not an MT940 statement: it does not start with a :20: field.",
                             line=fields[0].line)
    bounds = [*starts, len(fields)]
    return [_statement(fields[start:end]) for start, end in zip(bounds, bounds[1:], strict=False)]
