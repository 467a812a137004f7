"""Money as a value with a currency; rounding at named points with the currency's decimals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from keel.core.exceptions import ValidationFailed

# ISO 4217 minor units that are not 2. Everything else has two decimals.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}


def currency_decimals(code: str) -> int:
    return _MINOR_UNITS.get(code.upper(), 2)


def quantum(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up (the commercial rule)."""
    return amount.quantize(quantum(currency_decimals(currency)), rounding=ROUND_HALF_UP)


def decimals_of(currency: object) -> int:
    """The decimals of a currency: a Currency record's `decimals`, else the ISO 4217 minor
    unit of a code ("JPY" -> 0, "KWD" -> 3, "EUR" -> 2)."""
    decimals = getattr(currency, "decimals", None)
    return int(decimals) if decimals is not None else currency_decimals(str(currency))


def format_amount(amount: Decimal, decimals: int) -> str:
    """An amount as people read it: rounded half up to `decimals` places, thousands separated.

    format_amount(Decimal("1234.5000"), 2) -> "1,234.50"; with 0 decimals "1,235"; a rounded
    zero never shows a minus sign.
    """
    try:
        rounded = amount.quantize(quantum(decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context holds: shown as it is
        return f"{amount:,f}"
    if not rounded:
        rounded = abs(rounded)
    return f"{rounded:,.{decimals}f}"


def format_money(amount: Decimal, currency: object) -> str:
    """An amount in its currency's decimals, for messages and pages: `currency` is a Currency
    record (its `decimals`) or an ISO code. format_money(Decimal("1234.5"), "EUR") -> "1,234.50"."""
    return format_amount(amount, decimals_of(currency))


# The largest amount Keel stores: Decimal(20, 4) columns hold more, but SQLite (the embedded
# default) stores decimals as REAL, which round-trips 15 significant digits exactly. With
# four decimals that is 99,999,999,999.9999; a larger amount is refused, never stored rounded.
MAX_AMOUNT = Decimal("99999999999.9999")
MAX_AMOUNT_TEXT = "99,999,999,999.9999"

# What an amount may look like once its decimal separator is a point: ASCII digits, an
# optional sign, thousands separators only between groups of three digits.
_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_CURRENCY_SIGNS = re.compile(r"^[A-Z]{3}(?=[\s0-9.,(+-])|(?<=[\s0-9.,)])[A-Z]{3}$|[$\u20ac\u00a3\u00a5\u20a3\u20b9\u20a9\u20bd\u20ba\u20aa\u0e3f]")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")


def check_amount(amount: Decimal, *, field: str = "amount", label: str | None = None,
                 decimals: int = 4) -> Decimal:
    """`amount` if it is finite, within MAX_AMOUNT and has at most `decimals` decimals;
    otherwise a ValidationFailed naming `label` (default: the field)."""
    name = label or field
    if not amount.is_finite():
        raise ValidationFailed(f"The {name} '{amount}' is not a finite number.", code="money.not_a_number",
                               field=field)
    if abs(amount) > MAX_AMOUNT:
        raise ValidationFailed(
            f"The {name} {format_amount(amount, 0) if abs(amount) < Decimal(10) ** 30 else amount} is too large: "
            f"Keel stores amounts up to {MAX_AMOUNT_TEXT} exactly.",
            code="money.too_large", field=field)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals and amount != amount.quantize(quantum(decimals)):
        raise ValidationFailed(f"The {name} '{amount}' has more than {decimals} decimals.",
                               code="money.too_many_decimals", field=field)
    return amount


def parse_amount(
    value: object,
    *,
    currency: str | None = None,
    decimals: int | None = None,
    field: str = "amount",
    label: str | None = None,
    decimal_separator: str = ".",
    lenient: bool = False,
) -> Decimal:
    """The one parser of amounts typed or read by people and files: a Decimal, or a
    ValidationFailed (code money.*) that names `label` (default: the field) and says how to
    write it.

    - decimal_separator "." (default) takes "1234.56" and "1,234.56"; "," takes "1234,56"
      and "1.234,56". A lone "1,005" with a point separator is refused as ambiguous.
    - lenient (bank files, spreadsheets): also takes currency signs and codes ("$1,234.50",
      "EUR 12,00"), spaces, apostrophes and thin spaces between thousands, parentheses and
      a trailing minus for negatives ("(12.50)", "12.50-").
    - Numbers are ASCII digits only: no exponent ("1e3"), underscores or other scripts.
    - The result is within MAX_AMOUNT and has at most the currency's decimals (`currency`
      code or `decimals`; default 4, what Keel stores).
    """
    name = label or field
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    else:
        if isinstance(value, float):
            value = repr(value)
        amount = _parse_text(str(value), name=name, field=field, decimal_separator=decimal_separator,
                             lenient=lenient)
    if decimals is None:
        decimals = currency_decimals(currency) if currency else 4
    try:
        return check_amount(amount, field=field, label=label, decimals=decimals)
    except ValidationFailed as error:
        if error.code == "money.too_many_decimals" and currency:
            raise ValidationFailed(f"{currency} allows at most {decimals} decimals; got '{value}'.",
                                   code=error.code, field=field)
        raise


def _parse_text(raw: str, *, name: str, field: str, decimal_separator: str, lenient: bool) -> Decimal:
    if decimal_separator not in (".", ","):
        raise ValueError("decimal_separator is '.' or ','")
    text = raw.strip()
    shown = text if len(text) <= 40 else text[:40] + "..."
    negative = False
    if lenient:
        text = _CURRENCY_SIGNS.sub("", text.upper()).strip()
        if text.startswith("(") and text.endswith(")"):
            negative, text = True, text[1:-1].strip()
        elif text.endswith("-") and not text.startswith(("-", "+")):
            negative, text = True, text[:-1].strip()
        text = _SPACES.sub("", text)
        if text.startswith(("-", "+")):
            sign, text = text[0], _CURRENCY_SIGNS.sub("", text[1:]).strip()
            text = sign + text
    if not text:
        raise ValidationFailed(f"The {name} is empty.", code="money.not_a_number", field=field)
    thousands = "," if decimal_separator == "." else "."
    if decimal_separator == ".":
        grouped = re.fullmatch(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?", text)
        if grouped and re.fullmatch(r"[+-]?[0-9]{1,3},[0-9]{3}", text) and not lenient:
            raise ValidationFailed(
                f"The {name} '{shown}' is ambiguous (a decimal comma or a thousands separator?); write "
                f"{text.replace(',', '.')} or {text.replace(',', '')}.", code="money.ambiguous", field=field)
    else:
        grouped = re.fullmatch(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]*)?", text)
    if grouped:
        text = text.replace(thousands, "")
    text = text.replace(decimal_separator, ".") if decimal_separator == "," else text
    if not _PLAIN.fullmatch(text):
        raise ValidationFailed(_why_not(shown, name, decimal_separator), code="money.not_a_number", field=field)
    amount = Decimal(text)
    return -amount if negative else amount


def _why_not(shown: str, name: str, decimal_separator: str) -> str:
    """Why `shown` is not an amount, with the fix where the mistake is recognisable."""
    if decimal_separator == "." and re.fullmatch(r"[+-]?[0-9]+,[0-9]+", shown):
        return f"The {name} '{shown}' is not a number; use a decimal point ({shown.replace(',', '.')})."
    if decimal_separator == "." and "," in shown:
        return (f"The {name} '{shown}' is not a number; use a decimal point, and commas only between "
                "groups of three digits (1,234.56).")
    if "_" in shown:
        return f"The {name} '{shown}' is not a number; write it without underscores."
    return f"The {name} '{shown}' is not a number."


@dataclass(frozen=True, slots=True)
class Money:
    """An immutable amount in a currency. Mixing currencies raises."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"Cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("Multiply money by a Decimal, never a float")
        return Money(self.amount * factor, self.currency)

    def rounded(self) -> Money:
        return Money(round_amount(self.amount, self.currency), self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def __str__(self) -> str:
        return f"{self.rounded().amount:,} {self.currency}"
