"""Money as a value with a currency; rounding at named points with the currency's decimals."""

from __future__ import annotations

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


def parse_amount(value: object, *, currency: str, field: str = "amount") -> Decimal:
    """Parse user input into a Decimal with no more decimals than the currency allows."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"'{value}' is not a number.", code="money.not_a_number", field=field)
    if not amount.is_finite():
        raise ValidationFailed(f"'{value}' is not a finite number.", code="money.not_a_number", field=field)
    decimals = currency_decimals(currency)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        raise ValidationFailed(
            f"{currency} allows at most {decimals} decimals; got '{value}'.",
            code="money.too_many_decimals",
            field=field,
        )
    return amount


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
