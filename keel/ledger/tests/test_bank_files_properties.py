"""Invariants of the bank file readers, over files written the ways banks write them.

- MT940: however many statements a file holds and however it is wrapped (SWIFT blocks with
  control bytes, a :940: line, '-' separators), each statement comes back with its own
  number, balances and lines, in order.
- OFX: a transaction's date is the day in the bank's own time zone, whatever the offset.
- CSV: an amount written with a currency sign, parentheses, a trailing minus, thousands
  separators or a decimal comma reads back as the amount.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from keel.ledger.bank import csv, mt940, ofx

START = dt.date(2026, 1, 1)
cents = st.integers(min_value=1, max_value=10**11).map(lambda c: Decimal(c).scaleb(-2))
references = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=16)
line = st.tuples(st.integers(min_value=0, max_value=27), cents, st.booleans(), references)
statement = st.tuples(cents, st.booleans(), st.lists(line, max_size=6))


def _mt940_amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _render(statements, wrapping: str) -> bytes:
    blocks = []
    for number, (opening, opening_credit, lines) in enumerate(statements, 1):
        day = START + dt.timedelta(days=30 * number)
        balance = opening if opening_credit else -opening
        text = [f":20:REF{number}", ":25:GB29NWBK60161331926819", f":28C:{number:05d}/001",
                f":60F:{'C' if balance >= 0 else 'D'}{day:%y%m%d}EUR{_mt940_amount(abs(balance))}"]
        for offset, amount, credit, reference in lines:
            booked = day + dt.timedelta(days=offset)
            text.append(f":61:{booked:%y%m%d}{booked:%m%d}{'C' if credit else 'D'}{_mt940_amount(amount)}NTRF"
                        f"{reference}//TX{number}")
            text.append(f":86:/NAME/Party {reference}/REMI/Line {reference}")
            balance += amount if credit else -amount
        text.append(f":62F:{'C' if balance >= 0 else 'D'}{day:%y%m%d}EUR{_mt940_amount(abs(balance))}")
        blocks.append(text)
    if wrapping == "swift":
        body = "".join("\x01{1:F01NWBKGB2LAXXX0000000000}{2:O940}{4:\r\n" + "\r\n".join(b) + "\r\n-}\x03"
                       for b in blocks)
    elif wrapping == "940":
        body = ":940:\n" + "\n-\n".join("\n".join(b) for b in blocks) + "\n-\n"
    else:
        body = "\n".join("\n".join(b) for b in blocks) + "\n"
    return body.encode()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(statement, min_size=1, max_size=4), st.sampled_from(["swift", "940", "plain"]))
def test_every_mt940_statement_keeps_its_own_header_and_lines(statements, wrapping):
    parsed = mt940.parse(_render(statements, wrapping))
    assert [p.statement_id for p in parsed] == [f"{n:05d}/001" for n in range(1, len(statements) + 1)]
    for number, (p, (opening, opening_credit, lines)) in enumerate(zip(parsed, statements, strict=True), 1):
        day = START + dt.timedelta(days=30 * number)
        signed = [amount if credit else -amount for _offset, amount, credit, _ref in lines]
        assert p.opening_balance == (opening if opening_credit else -opening)
        assert p.closing_balance == p.opening_balance + sum(signed, Decimal(0))
        assert [(x.date, x.amount, x.reference, x.counterparty_name) for x in p.lines] == [
            (day + dt.timedelta(days=offset), s, reference, f"Party {reference}")
            for (offset, _amount, _credit, reference), s in zip(lines, signed, strict=True)]
        assert all(x.transaction_id == f"TX{number}" for x in p.lines)


_OFX = """OFXHEADER:100
DATA:OFXSGML

<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR
<BANKACCTFROM><BANKID>A-BANK-ID-LONGER-THAN-NINE<ACCTID>GB29NWBK60161331926819</BANKACCTFROM>
<BANKTRANLIST><DTSTART>{start}<DTEND>{end}
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>{posted}<TRNAMT>10.00<FITID>1</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>10.00<DTASOF>{end}</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
       st.integers(min_value=-12, max_value=14), st.booleans())
def test_an_ofx_date_is_the_day_in_the_banks_own_time_zone(local, offset, with_millis):
    stamp = f"{local:%Y%m%d%H%M%S}{'.000' if with_millis else ''}[{offset:+d}:XYZ]"
    [parsed] = ofx.parse(_OFX.format(start=stamp, end=stamp, posted=stamp).encode())
    assert parsed.lines[0].date == local.date() == parsed.date_from == parsed.date_to


def _written(amount: Decimal, style: int) -> tuple[str, str]:
    """`amount` as a bank's CSV may write it, and the decimal separator to read it with."""
    plain = f"{abs(amount):,.2f}"
    comma = plain.replace(",", " ").replace(".", ",").replace(" ", ".")
    negative = amount < 0
    return [
        (f"{'-' if negative else ''}${plain}", "."),
        (f"({plain})" if negative else plain, "."),
        (f"{plain}-" if negative else f"{plain}", "."),
        (f"{'-' if negative else ''}{comma} €", ","),
        (f"EUR {'-' if negative else ''}{comma}", ","),
        (f"({comma})" if negative else comma, ","),
    ][style]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.integers(min_value=-(10**13 - 1), max_value=10**13 - 1).filter(bool).map(lambda c: Decimal(c).scaleb(-2)),
       st.integers(min_value=0, max_value=5))
def test_a_csv_amount_as_banks_write_it_reads_back(amount, style):
    text, separator = _written(amount, style)
    data = f'Date;Amount\n2026-04-01;"{text}"\n'.encode()
    statement = csv.parse(data, {"delimiter": ";", "date_column": "Date", "amount_column": "Amount",
                                 "decimal_separator": separator})
    assert [line.amount for line in statement.lines] == [amount], text


def test_an_mt940_booking_date_takes_the_year_nearest_its_value_date():
    """:61: gives the value date in full and the booking (entry) date as MMDD only."""
    data = (b":20:Y\n:25:GB29NWBK60161331926819\n:28C:1\n:60F:C261231EUR0,00\n"
            b":61:2612310102C1,00NTRFA//T1\n:61:2701021231D1,00NTRFB//T2\n:62F:C270102EUR0,00\n")
    [parsed] = mt940.parse(data)
    assert [line.date for line in parsed.lines] == [dt.date(2027, 1, 2), dt.date(2026, 12, 31)]
