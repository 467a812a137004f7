"""The tax computation of a document, and the ledger lines it posts as.

It is what every department that writes documents with taxes uses (billing,
payables, sales, procurement):

    computation = compute_taxes(company=company, kind="sales",
                                lines=[DocumentLine(amount="100.00", tax_codes=["S20"])])
    computation.tax_total, computation.gross_total          # 20.00, 120.00
    post_entry(..., lines=tax_line_inputs(computation, accounts="4000", counterpart="1200", party=customer))

Amounts are Decimal in the document's currency (by default the company's; a document in
another currency is rounded in that currency's decimals, and tax_line_inputs then posts its
lines in it at a rate). A price-excluded code adds tax to the
amount (net -> gross); a price-included code takes it out of the amount (gross -> net).
Rounding is at one named point, with the currency's decimals (keel.core.money):

- `line`: each line's tax per code is rounded; totals are sums of rounded figures;
- `document`: each code's tax is rounded once, on the sum of its lines' exact taxes; the
  lines get shares of it by cumulative rounding, so they add up to the total exactly.

Either way every line and the document satisfy net + tax == gross to the cent.

The document's kind is explicit: `sales` (an invoice, a credit note to a customer) or
`purchase` (a bill). It says which side every base line posts to, the untaxed lines' too
(a bill's untaxed freight is a purchase: it debits the expense), and a code of the other
kind on a line is refused (`tax.kind_mismatch`) rather than posted to the wrong side.

A tax group (a code with components, e.g. "GSTQST" = GST 5 % + QST 9.975 %) taxes a line
with each component on the same base, as if the line named the components; the group's
own `price_included` says whether the line's amount includes them. The ledger takes one
tax code per line, so a line posts with one code: a plain code or a group (its base line
carries the group, its tax lines each component); see tax_line_inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from keel.core.exceptions import ValidationFailed
from keel.core.models import Company, Currency
from keel.core.money import check_amount, currency_decimals, parse_amount, quantum
from keel.ledger.choices import TaxKind, TaxRole, TaxRounding
from keel.ledger.models import TaxCode, TaxCodeComponent
from keel.ledger.services.posting import LineInput
from keel.ledger.services.taxes.codes import ROLE_OF_KIND, tax_account_for

ZERO = Decimal(0)
HUNDRED = Decimal(100)
MAX_LINES = 10000


@dataclass
class DocumentLine:
    """A line of a document to tax: `amount` (net for price-excluded codes, gross for
    price-included ones), or `quantity` x `unit_price`; its tax codes (TaxCode, id or code;
    a tax group counts as one code)."""

    amount: Any = None
    tax_codes: Sequence[Any] = ()
    quantity: Any = None
    unit_price: Any = None
    account: Any = None  # where its base posts (tax_line_inputs)
    label: str = ""


@dataclass
class LineTax:
    """One tax of a line: a plain code, or a component of the group the line named."""

    tax_code: TaxCode
    base: Decimal
    tax: Decimal
    group: TaxCode | None = None


@dataclass
class ComputedLine:
    """A taxed line. `tax_codes` are the codes it named (a group is one); `taxes` has one
    entry per tax actually levied (a group's components)."""

    index: int
    net: Decimal
    tax: Decimal
    gross: Decimal
    taxes: list[LineTax] = field(default_factory=list)
    account: Any = None
    label: str = ""
    tax_codes: list[TaxCode] = field(default_factory=list)


@dataclass
class TaxTotal:
    tax_code: TaxCode
    base: Decimal
    tax: Decimal


@dataclass
class TaxComputation:
    """Per line net, tax and gross; per tax code base and tax (a group's components, not
    the group); document totals."""

    currency: str
    rounding: str
    kind: str  # sales or purchase: the side every base line posts to
    lines: list[ComputedLine]
    totals: list[TaxTotal]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    base_currency: str = ""  # the company's: lines in another currency post at a rate

    @property
    def is_foreign(self) -> bool:
        return bool(self.base_currency) and self.currency != self.base_currency


def _number(value: Any, field_name: str, *, decimals: int, label: str) -> Decimal:
    """An amount, quantity or rate as keel.core.money.parse_amount reads it (within MAX_AMOUNT)."""
    if value is None or isinstance(value, bool):
        raise ValidationFailed(f"'{value}' is not a number.", code="money.not_a_number", field=field_name)
    return parse_amount(value, decimals=decimals, field=field_name, label=label)


def _resolve_codes(
    company: Company, lines: Sequence[DocumentLine], kind: str,
) -> tuple[dict[Any, TaxCode], dict[int, list[TaxCode]]]:
    """The codes the lines name, by (line, position), and the components of the groups among them;
    every code of the document's kind."""
    codes = TaxCode.objects.for_company(company).select_related("account")
    by_id = {t.pk: t for t in codes}
    by_code = {t.code: t for t in by_id.values()}
    resolved: dict[Any, TaxCode] = {}
    for position, line in enumerate(lines):
        for which, ref in enumerate(line.tax_codes):
            name = f"lines[{position}].tax_codes[{which}]"
            if isinstance(ref, TaxCode):
                found = by_id.get(ref.pk)
            elif isinstance(ref, int) and not isinstance(ref, bool):
                found = by_id.get(ref)
            elif isinstance(ref, str):
                found = by_code.get(ref.strip())
            else:
                found = None
            if found is None:
                raise ValidationFailed(f"There is no tax code '{ref}' in {company.code}.", code="tax_code.not_found",
                                       field=name)
            if not found.is_active:
                raise ValidationFailed(f"Tax code {found.code} is inactive.", code="tax_code.inactive", field=name)
            if found.kind != kind:
                raise ValidationFailed(
                    f"{found.code} is a {TaxKind(found.kind).label.lower()} tax code and this is a "
                    f"{TaxKind(kind).label.lower()} document: use a {TaxKind(kind).label.lower()} code.",
                    code="tax.kind_mismatch", field=name)
            resolved[(position, which)] = found
    groups: dict[int, list[TaxCode]] = {}
    if any(code.is_group for code in resolved.values()):
        links = (TaxCodeComponent.objects.for_company(company).filter(group__is_group=True)
                 .order_by("group_id", "position", "id").values_list("group_id", "component_id"))
        for group_id, component_id in links:
            groups.setdefault(group_id, []).append(by_id[component_id])
        for (position, which), code in resolved.items():
            for component in groups.get(code.pk, []):
                if not component.is_active:
                    raise ValidationFailed(f"Tax code {component.code}, in the group {code.code}, is inactive.",
                                           code="tax_code.inactive", field=f"lines[{position}].tax_codes[{which}]")
    return resolved, groups


def _round(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(quantum(decimals), rounding=ROUND_HALF_UP)


def compute_taxes(
    *, company: Company, kind: str, lines: Sequence[DocumentLine | dict], rounding: str = TaxRounding.LINE,
    currency: str | None = None,
) -> TaxComputation:
    """Tax the lines of a `kind` (sales or purchase) document, in `currency` (default: the
    company's); see the module's docstring. Refusals name the field."""
    if kind not in TaxKind.values:
        raise ValidationFailed(f"'{kind}' is not a kind of document ({', '.join(TaxKind.values)}).",
                               code="tax.invalid_kind", field="kind")
    if rounding not in TaxRounding.values:
        raise ValidationFailed(f"'{rounding}' is not a rounding mode ({', '.join(TaxRounding.values)}).",
                               code="tax.invalid_rounding", field="rounding")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"A document has at most {MAX_LINES} lines.", code="tax.too_many_lines", field="lines")
    currency = str(currency or company.base_currency_id).strip().upper()
    if not Currency.objects.filter(code=currency, is_active=True).exists():
        raise ValidationFailed(f"'{currency}' is not a known currency.", code="currency.unknown", field="currency")
    decimals = currency_decimals(currency)
    parsed = [DocumentLine(**line) if isinstance(line, dict) else line for line in lines]
    codes, groups = _resolve_codes(company, parsed, kind)

    # Exact (unrounded) figures first: per line, the amount and each tax's exact amount
    # (a group's components each on the line's base: no tax on tax).
    exact: list[tuple[Decimal, bool, list[tuple[TaxCode, TaxCode | None, Decimal]]]] = []
    named: list[list[TaxCode]] = []
    for position, line in enumerate(parsed):
        prefix = f"lines[{position}]"
        if line.amount not in (None, ""):
            amount = _number(line.amount, f"{prefix}.amount", decimals=decimals, label="amount")
        elif line.quantity not in (None, "") and line.unit_price not in (None, ""):
            quantity = _number(line.quantity, f"{prefix}.quantity", decimals=6, label="quantity")
            unit_price = _number(line.unit_price, f"{prefix}.unit_price", decimals=6, label="unit price")
            amount = check_amount(_round(quantity * unit_price, decimals), field=f"{prefix}.amount",
                                  label="amount (quantity x unit price)", decimals=decimals)
        else:
            raise ValidationFailed("Give the line's amount, or its quantity and unit price.", code="tax.amount_missing",
                                   field=f"{prefix}.amount")
        line_codes = [codes[(position, which)] for which in range(len(line.tax_codes))]
        if len({c.pk for c in line_codes}) != len(line_codes):
            raise ValidationFailed("A line names each tax code once.", code="tax.duplicate_code", field=f"{prefix}.tax_codes")
        levied: list[tuple[TaxCode, TaxCode | None]] = []  # (tax, the group it comes from)
        for code in line_codes:
            levied += [(component, code) for component in groups.get(code.pk, [])] if code.is_group else [(code, None)]
        if len({c.pk for c, _group in levied}) != len(levied):
            raise ValidationFailed("A line names each tax code once, and a group's codes count.",
                                   code="tax.duplicate_code", field=f"{prefix}.tax_codes")
        included = {c.price_included for c in line_codes}  # a group's own flag, not its components'
        if len(included) > 1:
            raise ValidationFailed("A line's tax codes are all price-included or all price-excluded.",
                                   code="tax.mixed_inclusion", field=f"{prefix}.tax_codes")
        is_included = included == {True}
        total_rate = sum((c.rate for c, _group in levied), ZERO) / HUNDRED
        base = amount / (1 + total_rate) if is_included else amount
        exact.append((amount, is_included, [(c, group, base * c.rate / HUNDRED) for c, group in levied]))
        named.append(line_codes)

    # Rounded tax per line and code.
    rounded: dict[tuple[int, int], Decimal] = {}
    if rounding == TaxRounding.LINE:
        for position, (_amount, _included, taxes) in enumerate(exact):
            for which, (_code, _group, tax) in enumerate(taxes):
                rounded[(position, which)] = _round(tax, decimals)
    else:
        running: dict[int, tuple[Decimal, Decimal]] = {}  # code id -> (exact so far, rounded so far)
        for position, (_amount, _included, taxes) in enumerate(exact):
            for which, (code, _group, tax) in enumerate(taxes):
                exact_so_far, rounded_so_far = running.get(code.pk, (ZERO, ZERO))
                exact_so_far += tax
                share = _round(exact_so_far, decimals) - rounded_so_far
                rounded[(position, which)] = share
                running[code.pk] = (exact_so_far, rounded_so_far + share)

    computed: list[ComputedLine] = []
    totals: dict[int, TaxTotal] = {}
    for position, (amount, is_included, taxes) in enumerate(exact):
        line_tax = sum((rounded[(position, which)] for which in range(len(taxes))), ZERO)
        net, gross = (amount - line_tax, amount) if is_included else (amount, amount + line_tax)
        line = ComputedLine(index=position, net=net, tax=line_tax, gross=gross,
                            account=parsed[position].account, label=parsed[position].label,
                            tax_codes=named[position])
        for which, (code, group, _tax) in enumerate(taxes):
            line.taxes.append(LineTax(code, net, rounded[(position, which)], group))
            total = totals.setdefault(code.pk, TaxTotal(code, ZERO, ZERO))
            total.base += net
            total.tax += rounded[(position, which)]
        computed.append(line)
    return TaxComputation(
        currency=currency, base_currency=company.base_currency_id, rounding=rounding, kind=kind, lines=computed,
        totals=sorted(totals.values(), key=lambda t: t.tax_code.code),
        net_total=sum((line.net for line in computed), ZERO),
        tax_total=sum((line.tax for line in computed), ZERO),
        gross_total=sum((line.gross for line in computed), ZERO),
    )


def _side(amount: Decimal, kind: str) -> tuple[Decimal, Decimal]:
    """(debit, credit) of a base or tax amount: sales credit, purchases debit; negative flips."""
    credit_side = (kind == TaxKind.SALES) == (amount > 0)
    return (ZERO, abs(amount)) if credit_side else (abs(amount), ZERO)


def tax_line_inputs(
    computation: TaxComputation, *, accounts: Any = None, counterpart: Any = None, party: Any = None,
    label: str = "", source_type: str = "", source_id: str = "", rate: Any = None,
) -> list[LineInput]:
    """The ledger lines of a taxed document, to post with post_entry.

    One base line per document line (on the line's `account`, else `accounts`), tagged with
    its tax code (a plain code or a group) and tax role "base"; one tax line per tax code
    levied (a group's components, each on its own tax account), tagged "tax". A sales
    document's lines credit, a purchase document's debit, taxed or not (a negative amount,
    a credit note, goes the other way).
    With `counterpart` (e.g. the receivable account), a line for the gross total balances
    the entry. Lines of zero are left out.

    A ledger line carries one tax code, so a document line naming several codes is refused
    (`tax.several_codes_on_line`): tax it with a group made of them instead. No code is
    looked up or created for it here.

    A document in a foreign currency needs its `rate` (company-currency units per unit):
    each line carries its foreign amount and its value at that rate, rounded, and the
    counterpart line takes what the rounding leaves, so the entry balances in both currencies.
    """
    converted = _conversion(computation, rate, counterpart)
    result: list[LineInput] = []
    for line in computation.lines:
        line_codes = line.tax_codes or list({t.tax_code.pk: t.tax_code for t in line.taxes}.values())
        if len(line_codes) > 1:
            raise ValidationFailed(
                f"A ledger line carries one tax code, and this line has {' and '.join(c.code for c in line_codes)}: "
                f"create a tax group made of them (a tax code with components) and tax the line with it.",
                code="tax.several_codes_on_line", field=f"lines[{line.index}].tax_codes",
            )
        account = line.account if line.account is not None else accounts
        if account is None:
            raise ValidationFailed("Name the account of each line's base.", code="tax.account_missing",
                                   field=f"lines[{line.index}].account")
        code = line_codes[0] if line_codes else None
        if not line.net:
            continue
        debit, credit = _side(line.net, computation.kind)
        result.append(LineInput(
            account=account, debit=debit, credit=credit, label=(line.label or label)[:200], party=party,
            tax_code=code.pk if code is not None else None, tax_role=TaxRole.BASE if code is not None else "",
            source_type=source_type, source_id=source_id,
        ))
    for total in computation.totals:
        if not total.tax:
            continue
        tax_account = tax_account_for(total.tax_code)
        if tax_account is None:
            raise ValidationFailed(
                f"Tax code {total.tax_code.code} has no account, and the chart has no "
                f"'{ROLE_OF_KIND[total.tax_code.kind]}' account.", code="tax.no_tax_account", field="tax_codes",
            )
        debit, credit = _side(total.tax, total.tax_code.kind)
        result.append(LineInput(
            account=tax_account.pk, debit=debit, credit=credit, label=f"{total.tax_code.name}"[:200], party=party,
            tax_code=total.tax_code.pk, tax_role=TaxRole.TAX, source_type=source_type, source_id=source_id,
        ))
    if counterpart is not None and result:
        balance = sum((line.debit - line.credit for line in result), ZERO)
        if balance:
            result.append(LineInput(
                account=counterpart, debit=-balance if balance < 0 else ZERO, credit=balance if balance > 0 else ZERO,
                label=label[:200], party=party, source_type=source_type, source_id=source_id,
            ))
    return converted(result) if converted else result


def _conversion(computation: TaxComputation, rate: Any, counterpart: Any):
    """For a foreign document: a function turning its lines (amounts in its currency) into
    foreign-currency lines with their company-currency values at `rate`; None otherwise."""
    if not computation.is_foreign:
        if rate not in (None, ""):
            raise ValidationFailed("A document in the company's currency takes no rate.", code="tax.rate_not_needed",
                                   field="rate")
        return None
    if rate in (None, ""):
        raise ValidationFailed(f"A {computation.currency} document needs the rate it posts at "
                               f"({computation.base_currency} for one {computation.currency}).",
                               code="rate.not_found", field="rate")
    value = _number(rate, "rate", decimals=10, label="rate")
    if value <= 0:
        raise ValidationFailed("A rate is a positive number.", code="rate.invalid", field="rate")
    if counterpart is None:
        raise ValidationFailed("A foreign-currency document needs its counterpart account, which takes the "
                               "rounding of the conversion.", code="tax.account_missing", field="counterpart")
    base_decimals = currency_decimals(computation.base_currency)

    def convert(lines: list[LineInput]) -> list[LineInput]:
        converted: list[LineInput] = []
        for line in lines:
            foreign = line.debit - line.credit
            base = _round(abs(foreign) * value, base_decimals)
            converted.append(LineInput(
                account=line.account, debit=base if foreign > 0 else ZERO, credit=base if foreign < 0 else ZERO,
                label=line.label, currency=computation.currency, amount_currency=foreign, rate=value,
                party=line.party, tax_code=line.tax_code, tax_role=line.tax_role, source_type=line.source_type,
                source_id=line.source_id,
            ))
        # The counterpart (last) takes the difference the per-line rounding leaves.
        difference = sum((line.debit - line.credit for line in converted), ZERO)
        last = converted[-1]
        if difference:
            amount = last.debit - last.credit - difference
            last.debit, last.credit = (amount, ZERO) if amount > 0 else (ZERO, -amount)
        return converted

    return convert
