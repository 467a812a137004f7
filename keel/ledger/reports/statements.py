"""Profit and loss, balance sheet and cash-flow statement, each with an optional comparison column.

Every statement costs a fixed handful of grouped queries on the balance table (see
_common.account_totals), so it answers as fast at a million journal lines as at a hundred.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q

from keel.core.db_money import MoneySum
from keel.core.models import Company
from keel.ledger.choices import AccountRole, AccountType, CashFlowCategory
from keel.ledger.models import Account, AccountGroup, Balance, Line
from keel.ledger.reports._common import (
    ZERO,
    Chart,
    Report,
    ReportRange,
    ReportRow,
    account_totals,
    add,
    figures,
    grouped_rows,
    natural,
    range_label,
    rounded,
)
from keel.ledger.selectors import closed_years_result

PROFIT_AND_LOSS_TYPES = {AccountType.INCOME, AccountType.EXPENSE}
CASH_ROLES = {AccountRole.BANK, AccountRole.CASH}


def _result(chart: Chart, totals: dict) -> Decimal:
    """Income minus expenses of the given account totals."""
    result = ZERO
    for account_id, (debit, credit) in totals.items():
        account = chart.accounts.get(account_id)
        if account is not None and account.account_type in PROFIT_AND_LOSS_TYPES:
            result += credit - debit
    return result


# -- profit and loss ---------------------------------------------------------------------------


def profit_and_loss(company: Company, period: ReportRange) -> Report:
    """Income and expenses by account group, with subtotals and the net result, for a date range."""
    chart = Chart.load(company)
    current = account_totals(company, period.date_from, period.date_to, period.cost_centre, without_closing=True)
    compare = (account_totals(company, period.compare_from, period.compare_to, period.cost_centre,
                              without_closing=True) if period.has_comparison else None)
    report = Report("profit_and_loss", "Profit and loss", company, period,
                    amount_label=range_label(period.date_from, period.date_to),
                    compare_label=range_label(period.compare_from, period.compare_to) if period.has_comparison else "",
                    drill_from=period.date_from, drill_to=period.date_to)
    totals = {}
    sections = ((AccountType.INCOME, "Income"), (AccountType.EXPENSE, "Expenses"))
    # The section totals and the net result keep their labels; a group subtotal never repeats one.
    taken = {f"total {heading.lower()}" for _type, heading in sections} | {"net result"}
    for account_type, heading in sections:
        values = figures(company, chart, current, compare, {account_type})
        rows, total, total_compare = grouped_rows(chart, values, has_comparison=period.has_comparison,
                                                  section=heading, taken=taken)
        report.rows.append(ReportRow("heading", heading))
        report.rows.extend(rows)
        report.rows.append(ReportRow("total", f"Total {heading.lower()}", total, total_compare))
        totals[account_type] = (total, total_compare)
    income, income_compare = totals[AccountType.INCOME]
    expense, expense_compare = totals[AccountType.EXPENSE]
    net = income - expense
    net_compare = income_compare - expense_compare if period.has_comparison else None
    report.rows.append(ReportRow("total", "Net result", net, net_compare))
    report.summary = {"total_income": income, "total_expenses": expense, "net_result": net}
    if period.has_comparison:
        report.compare_summary = {"total_income": income_compare, "total_expenses": expense_compare,
                                  "net_result": net_compare}
    return rounded(company, report)


# -- balance sheet -----------------------------------------------------------------------------


def _balance_sheet_column(company: Company, chart: Chart, as_of: dt.date, cost_centre) -> tuple[dict, Decimal, Decimal]:
    """(totals of every account up to `as_of`, the current fiscal year's result, earlier years' unclosed result).

    The closing entry of a closed year carries no cost centre, so for a cost centre the
    closed years' income and expenses are taken out here (they are not "not yet closed")."""
    year_start = company.fiscal_year_bounds(company.fiscal_year_of(as_of))[0]
    everything = account_totals(company, None, as_of, cost_centre)
    this_year = account_totals(company, year_start, as_of, cost_centre)
    year_result = _result(chart, this_year)
    earlier_result = _result(chart, everything) - year_result
    if earlier_result and cost_centre is not None:
        earlier_result += closed_years_result(company, year_start, cost_centre)  # debit - credit: a profit is < 0
    return everything, year_result, earlier_result


def balance_sheet(company: Company, period: ReportRange) -> Report:
    """Assets, liabilities and equity as of `date_to` (the comparison as of `compare_to`).

    Equity includes the current fiscal year's result (not yet allocated) and, when the
    year-end closing of earlier years has not run, their results: so assets always equal
    liabilities plus equity (without a cost-centre filter, which may cut entries in half).
    """
    chart = Chart.load(company)
    as_of, compare_as_of = period.date_to, period.compare_to
    current, year_result, earlier = _balance_sheet_column(company, chart, as_of, period.cost_centre)
    compare, year_compare, earlier_compare = (
        _balance_sheet_column(company, chart, compare_as_of, period.cost_centre) if period.has_comparison
        else (None, None, None)
    )
    comparing = period.has_comparison
    report = Report("balance_sheet", "Balance sheet", company, period,
                    amount_label=f"As of {as_of:%Y-%m-%d}",
                    compare_label=f"As of {compare_as_of:%Y-%m-%d}" if comparing else "",
                    drill_from=period.date_from, drill_to=as_of)
    sections = {}
    headings = ((AccountType.ASSET, "Assets"), (AccountType.LIABILITY, "Liabilities"), (AccountType.EQUITY, "Equity"))
    # The section totals keep their labels; a group subtotal never repeats one (nor another group's).
    taken = {f"total {heading.lower()}" for _type, heading in headings} | {"total liabilities and equity"}
    for account_type, heading in headings:
        values = figures(company, chart, current, compare, {account_type})
        rows, total, total_compare = grouped_rows(chart, values, has_comparison=comparing, section=heading,
                                                  taken=taken)
        report.rows.append(ReportRow("heading", heading))
        report.rows.extend(rows)
        if account_type == AccountType.EQUITY:
            report.rows.append(ReportRow("info", "Result of the current fiscal year (unallocated)",
                                         year_result, year_compare, level=1))
            total += year_result
            total_compare = add(total_compare, year_compare) if comparing else None
            if earlier or earlier_compare:
                report.rows.append(ReportRow("info", "Results of earlier years not yet closed",
                                             earlier, earlier_compare, level=1))
                total += earlier
                total_compare = add(total_compare, earlier_compare) if comparing else None
        report.rows.append(ReportRow("total", f"Total {heading.lower()}", total, total_compare))
        sections[account_type] = (total, total_compare)
    assets, assets_compare = sections[AccountType.ASSET]
    liabilities, liabilities_compare = sections[AccountType.LIABILITY]
    equity, equity_compare = sections[AccountType.EQUITY]
    report.rows.append(ReportRow("total", "Total liabilities and equity", liabilities + equity,
                                 add(liabilities_compare, equity_compare) if comparing else None))
    report.summary = {"total_assets": assets, "total_liabilities": liabilities, "total_equity": equity,
                      "current_year_result": year_result, "is_balanced": assets == liabilities + equity}
    if comparing:
        report.compare_summary = {
            "total_assets": assets_compare, "total_liabilities": liabilities_compare, "total_equity": equity_compare,
            "current_year_result": year_compare, "is_balanced": assets_compare == liabilities_compare + equity_compare,
        }
    return rounded(company, report)


# -- cash flow ---------------------------------------------------------------------------------

OPERATING_NON_CASH = CashFlowCategory.NON_CASH.value
WORKING_CAPITAL = CashFlowCategory.OPERATING.value
INVESTING = CashFlowCategory.INVESTING.value
FINANCING = CashFlowCategory.FINANCING.value


def group_cash_flow(groups: dict[int, AccountGroup], group_id: int | None) -> str:
    """The cash-flow section a group gives its accounts: its own, else the nearest classified
    parent's, else operating (also for no group). `groups` maps the company's groups by id."""
    seen: set[int] = set()
    while group_id and group_id in groups and group_id not in seen:
        seen.add(group_id)
        group = groups[group_id]
        if group.cash_flow:
            return group.cash_flow
        group_id = group.parent_id
    return WORKING_CAPITAL


def cash_flow_category(chart: Chart, account: Account) -> str | None:
    """Where an account's movement goes in the indirect cash-flow statement (a CashFlowCategory value).

    None for cash (roles bank and cash) and for income/expense accounts (they are in the net
    result). Otherwise the account's own classification when it has one; else the nearest
    classified group up its chain of parent groups; and operating when none is classified.
    Names are never read: a chart in any language classifies the same.

    The retained earnings account (by role) is never working capital: the statement leaves
    the year-end closing out, so what remains on it is what the owners take out or put in
    (dividends, allocations): financing, unless the account or its group says investing
    or non-cash.
    """
    if account.role in CASH_ROLES or account.account_type in PROFIT_AND_LOSS_TYPES:
        return None
    category = account.cash_flow or group_cash_flow(chart.groups, account.group_id)
    if account.role == AccountRole.RETAINED_EARNINGS and category == WORKING_CAPITAL:
        return FINANCING
    return category


def _cash(chart: Chart, totals: dict) -> Decimal:
    return sum((debit - credit for account_id, (debit, credit) in totals.items()
                if account_id in chart.accounts and chart.accounts[account_id].role in CASH_ROLES), ZERO)


def exchange_effect_on_cash(company: Company, chart: Chart, ranges: list[tuple[dt.date, dt.date]],
                            cost_centre=None) -> list[Decimal]:
    """The effect of exchange-rate changes on cash in each (start, end) range (IAS 7): what the
    exchange-difference lines (a foreign currency, a zero foreign amount: revaluations and
    realized differences) added to the company-currency value of the cash accounts. No money
    moved for it, so it is neither operating, investing nor financing cash.

    One query for all the ranges. Only cash accounts holding a foreign currency can have such
    lines; the balance table names them (a subquery), so the lines read are those of foreign
    cash accounts (by index), never the company's base bank lines.
    """
    cash = [pk for pk, account in chart.accounts.items() if account.role in CASH_ROLES]
    if not cash or not ranges:
        return [ZERO for _ in ranges]
    base = company.base_currency_id
    foreign = (Balance.objects.for_company(company).filter(account_id__in=cash).exclude(currency_id=base)
               .values("account_id"))
    lines = (Line.objects.for_company(company).posted()
             .filter(account_id__in=foreign, amount_currency=0, date__gte=min(start for start, _ in ranges),
                     date__lte=max(end for _, end in ranges))
             .exclude(currency_id=base))
    if cost_centre is not None:
        lines = lines.filter(cost_centre=cost_centre)
    sums = {}
    for index, (start, end) in enumerate(ranges):
        within = Q(date__gte=start, date__lte=end)
        sums[f"debit{index}"] = MoneySum("debit", filter=within)
        sums[f"credit{index}"] = MoneySum("credit", filter=within)
    totals = lines.aggregate(**sums)
    return [(totals[f"debit{index}"] or ZERO) - (totals[f"credit{index}"] or ZERO) for index in range(len(ranges))]


def cash_flow(company: Company, period: ReportRange) -> Report:
    """The cash-flow statement by the indirect method for a date range.

    Net result, adjusted for non-cash items and working-capital changes (operating), then
    investing and financing; each non-cash balance-sheet account contributes credit - debit of
    its movements. Cash is the bank and cash accounts (by role). The exchange differences on
    foreign cash (`exchange_effect_on_cash`) are in the net result but moved no money: they
    are taken out of operating as a non-cash adjustment and shown on their own line, "Effect
    of exchange-rate changes on cash"; closing cash - opening cash equals the three sections
    plus that line, because every entry balances.
    """
    chart = Chart.load(company)
    comparing = period.has_comparison
    day = dt.timedelta(days=1)

    def column(start, end):
        moved = account_totals(company, start, end, period.cost_centre, without_closing=True)
        opening = _cash(chart, account_totals(company, None, start - day, period.cost_centre))
        return moved, opening

    current, opening = column(period.date_from, period.date_to)
    compare, opening_compare = column(period.compare_from, period.compare_to) if comparing else (None, None)
    ranges = [(period.date_from, period.date_to)] + ([(period.compare_from, period.compare_to)] if comparing else [])
    exchange, *others = exchange_effect_on_cash(company, chart, ranges, period.cost_centre)
    exchange_compare = others[0] if comparing else None
    report = Report("cash_flow", "Cash-flow statement", company, period,
                    amount_label=range_label(period.date_from, period.date_to),
                    compare_label=range_label(period.compare_from, period.compare_to) if comparing else "",
                    drill_from=period.date_from, drill_to=period.date_to)
    by_category: dict[str, dict[int, tuple[Decimal, Decimal | None]]] = {
        OPERATING_NON_CASH: {}, WORKING_CAPITAL: {}, INVESTING: {}, FINANCING: {},
    }
    for account_id in sorted(set(current) | set(compare or {}), key=lambda pk: chart.accounts[pk].code
                             if pk in chart.accounts else ""):
        account = chart.accounts.get(account_id)
        category = cash_flow_category(chart, account) if account else None
        if category is None:
            continue
        debit, credit = current.get(account_id, (ZERO, ZERO))
        amount = credit - debit
        other = None
        if comparing:
            debit, credit = compare.get(account_id, (ZERO, ZERO))
            other = credit - debit
        if amount or other:
            by_category[category][account_id] = (amount, other)

    def section_rows(values: dict, level: int) -> tuple[list[ReportRow], Decimal, Decimal | None]:
        rows, total, total_compare = [], ZERO, (ZERO if comparing else None)
        for account_id, (amount, other) in values.items():
            account = chart.accounts[account_id]
            rows.append(ReportRow("account", account.name, amount, other, account_id, account.code, level))
            total += amount
            total_compare = add(total_compare, other) if comparing else None
        return rows, total, total_compare

    net = _result(chart, current)
    net_compare = _result(chart, compare) if comparing else None
    report.rows.append(ReportRow("heading", "Operating activities"))
    report.rows.append(ReportRow("info", "Net result", net, net_compare, level=1))
    operating, operating_compare = net, net_compare
    for category, heading in ((OPERATING_NON_CASH, "Adjustments for non-cash items"),
                              (WORKING_CAPITAL, "Changes in working capital")):
        rows, total, total_compare = section_rows(by_category[category], 2)
        if category == OPERATING_NON_CASH and (exchange or exchange_compare):
            # In the net result through the exchange gain or loss, but no cash moved: see below.
            rows.append(ReportRow("info", "Exchange differences on cash", -exchange,
                                  -exchange_compare if comparing else None, level=2))
            total -= exchange
            total_compare = add(total_compare, -exchange_compare) if comparing else None
        if rows:
            report.rows.append(ReportRow("heading", heading, level=1))
            report.rows.extend(rows)
        operating += total
        operating_compare = add(operating_compare, total_compare) if comparing else None
    report.rows.append(ReportRow("subtotal", "Net cash from operating activities", operating, operating_compare))
    sections = {"operating": (operating, operating_compare)}
    for category, heading in ((INVESTING, "Investing activities"), (FINANCING, "Financing activities")):
        rows, total, total_compare = section_rows(by_category[category], 1)
        report.rows.append(ReportRow("heading", heading))
        report.rows.extend(rows)
        report.rows.append(ReportRow("subtotal", f"Net cash from {heading.lower()}", total, total_compare))
        sections[category] = (total, total_compare)
    change = sum((value for value, _ in sections.values()), ZERO)
    change_compare = sum((other for _, other in sections.values()), ZERO) if comparing else None
    closing = opening + _cash(chart, current)
    closing_compare = opening_compare + _cash(chart, compare) if comparing else None
    report.rows.append(ReportRow("total", "Net change in cash", change, change_compare))
    if exchange or exchange_compare:
        report.rows.append(ReportRow("info", "Effect of exchange-rate changes on cash", exchange, exchange_compare))
    report.rows.append(ReportRow("info", "Cash at the start of the period", opening, opening_compare))
    report.rows.append(ReportRow("total", "Cash at the end of the period", closing, closing_compare))

    def summary(values: dict, net_result, start_cash, end_cash, net_change, exchange_effect) -> dict:
        return {"net_result": net_result, "operating": values["operating"], "investing": values[INVESTING],
                "financing": values[FINANCING], "net_change": net_change, "exchange_effect": exchange_effect,
                "opening_cash": start_cash, "closing_cash": end_cash,
                "reconciles": end_cash - start_cash == net_change + exchange_effect}

    report.summary = summary({k: v[0] for k, v in sections.items()}, net, opening, closing, change, exchange)
    if comparing:
        report.compare_summary = summary({k: v[1] for k, v in sections.items()}, net_compare, opening_compare,
                                         closing_compare, change_compare, exchange_compare)
    return rounded(company, report)


__all__ = ["balance_sheet", "cash_flow", "cash_flow_category", "exchange_effect_on_cash", "group_cash_flow", "natural", "profit_and_loss"]
