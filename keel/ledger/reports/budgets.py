"""Budget versus actual: per account, the budget of a range of months, the ledger's actual
figure for the same months, the variance and the variance in percent.

The months are the budget's periods that overlap the asked range (a budget is monthly, so
the comparison is made on whole months); actuals come from the running balances.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from keel.core.db_money import MoneySum
from keel.core.exceptions import ValidationFailed
from keel.ledger.choices import AccountType
from keel.ledger.models import Period
from keel.ledger.models.budgets import Budget, BudgetLine
from keel.ledger.reports._common import (
    ZERO,
    Chart,
    Report,
    ReportRange,
    ReportRow,
    account_totals,
    get_cost_centre,
    natural,
    rounded,
)

SECTIONS = ((AccountType.INCOME, "Income"), (AccountType.EXPENSE, "Expenses"),
            (AccountType.ASSET, "Assets"), (AccountType.LIABILITY, "Liabilities"), (AccountType.EQUITY, "Equity"))


def budget_range(budget: Budget, date_from: dt.date | None, date_to: dt.date | None, cost_centre=None) -> ReportRange:
    """The whole months of the budget's fiscal year that overlap [date_from, date_to] (default: the year)."""
    year = budget.fiscal_year
    start, end = date_from or year.start, date_to or year.end
    if start > end:
        raise ValidationFailed("The range ends before it starts.", code="report.invalid_range", field="date_to")
    periods = list(Period.objects.for_company(budget.company_id).filter(fiscal_year=year, start__lte=end,
                                                                         end__gte=start).order_by("start"))
    if not periods:
        raise ValidationFailed(f"The range is outside the budget's fiscal year FY{year.year}.",
                               code="report.invalid_range", field="date_from")
    return ReportRange(periods[0].start, periods[-1].end, None, None, get_cost_centre(budget.company, cost_centre))


def budget_versus_actual(budget: Budget, period: ReportRange) -> Report:
    """Per account: actual (amount), budget (compare), variance = actual - budget, and its percent of the budget."""
    company = budget.company
    chart = Chart.load(company)
    lines = BudgetLine.objects.filter(company=company, budget=budget, period__start__gte=period.date_from,
                                      period__end__lte=period.date_to)
    if period.cost_centre is not None:
        lines = lines.filter(cost_centre=period.cost_centre)
    planned: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for account_id, amount in lines.values("account_id").annotate(a=MoneySum("amount")).values_list(
            "account_id", "a").order_by():
        planned[account_id] += amount or ZERO
    actual_totals = account_totals(company, period.date_from, period.date_to, period.cost_centre)
    report = Report("budget_versus_actual", f"Budget versus actual: {budget.name}", company, period,
                    amount_label="Actual", compare_label="Budget", drill_from=period.date_from,
                    drill_to=period.date_to)
    sections: dict[str, tuple[Decimal, Decimal]] = {}
    wanted = set(planned) | {pk for pk in actual_totals if pk in chart.accounts
                             and chart.accounts[pk].account_type in (AccountType.INCOME, AccountType.EXPENSE)}
    for account_type, heading in SECTIONS:
        accounts = sorted((chart.accounts[pk] for pk in wanted if pk in chart.accounts
                           and chart.accounts[pk].account_type == account_type), key=lambda a: a.code)
        rows, total_actual, total_budget = [], ZERO, ZERO
        for account in accounts:
            debit, credit = actual_totals.get(account.pk, (ZERO, ZERO))
            actual, plan = natural(account.account_type, debit, credit), planned.get(account.pk, ZERO)
            if not actual and not plan:
                continue
            rows.append(ReportRow("account", account.name, actual, plan, account.pk, account.code, 1))
            total_actual += actual
            total_budget += plan
        if rows:
            report.rows.append(ReportRow("heading", heading))
            report.rows.extend(rows)
            report.rows.append(ReportRow("total", f"Total {heading.lower()}", total_actual, total_budget))
        sections[account_type] = (total_actual, total_budget)
    income, expense = sections[AccountType.INCOME], sections[AccountType.EXPENSE]
    report.rows.append(ReportRow("total", "Net result", income[0] - expense[0], income[1] - expense[1]))
    report.summary = {"actual_net_result": income[0] - expense[0], "budget_net_result": income[1] - expense[1],
                      "actual_expenses": expense[0], "budget_expenses": expense[1],
                      "actual_income": income[0], "budget_income": income[1]}
    return rounded(company, report)
