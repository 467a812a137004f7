"""Account groups (and, where one differs, accounts) carry their cash-flow section.

Until now the cash-flow statement guessed the section from English group and account names
("Non-current ...", "loan", "depreciation"). The data step below applies that guess once to
the existing books so that their statement stays what it was:

- each group takes the most frequent section of the balance-sheet accounts directly in it
  (ties: operating, non-cash, investing, financing); a group without such accounts stays
  blank (as its parent), unless it is named "Non-current ..." (investing, or financing when
  it names liabilities);
- an account whose guessed section differs from what its groups now give it gets its own.

Cash accounts (roles bank and cash), income and expense accounts are not classified, and
the retained earnings account stays operating by its role. The guess is frozen here on
purpose: it must not change when the report code does.
"""

from collections import Counter

from django.db import migrations, models

OPERATING, NON_CASH, INVESTING, FINANCING = "operating", "non_cash", "investing", "financing"
PRIORITY = (OPERATING, NON_CASH, INVESTING, FINANCING)
CATEGORIES = ["", *PRIORITY]
CHOICES = [(OPERATING, "Operating (working capital)"), (NON_CASH, "Non-cash adjustment"),
           (INVESTING, "Investing"), (FINANCING, "Financing")]
NON_CASH_WORDS = ("depreciation", "amortisation", "amortization", "impairment", "provision")
FINANCING_WORDS = ("loan", "borrowing", "overdraft", "lease liabilit")
UNCLASSIFIED_ROLES = {"bank", "cash", "retained_earnings"}


def _is_non_current(group) -> bool:
    return group.name.lower().startswith("non-current")


def _guess(account, chain) -> str:
    """The section the name-guessing report code (before this migration) gave the account."""
    name = account.name.lower()
    non_current = any(_is_non_current(group) for group in chain)
    if account.account_type == "asset":
        if non_current:
            return NON_CASH if any(word in name for word in NON_CASH_WORDS) else INVESTING
        return OPERATING
    if account.account_type == "liability":
        if non_current or any(word in name for word in FINANCING_WORDS):
            return FINANCING
        return NON_CASH if any(word in name for word in NON_CASH_WORDS) else OPERATING
    return FINANCING  # equity other than retained earnings


def _chain(groups: dict, group_id) -> list:
    chain, seen = [], set()
    while group_id and group_id in groups and group_id not in seen:
        seen.add(group_id)
        chain.append(groups[group_id])
        group_id = groups[group_id].parent_id
    return chain


def classify_existing_books(apps, schema_editor):
    AccountGroup = apps.get_model("ledger", "AccountGroup")
    Account = apps.get_model("ledger", "Account")
    company_ids = set(AccountGroup.objects.values_list("company_id", flat=True).distinct())
    company_ids |= set(Account.objects.values_list("company_id", flat=True).distinct())
    for company_id in sorted(company_ids):
        groups = {g.pk: g for g in AccountGroup.objects.filter(company_id=company_id)}
        accounts = [a for a in Account.objects.filter(company_id=company_id)
                    if a.account_type in {"asset", "liability", "equity"} and a.role not in UNCLASSIFIED_ROLES]
        guesses = {a.pk: _guess(a, _chain(groups, a.group_id)) for a in accounts}
        by_group: dict = {}
        for account in accounts:
            if account.group_id in groups:
                by_group.setdefault(account.group_id, Counter())[guesses[account.pk]] += 1
        changed_groups = []
        for group in groups.values():
            counts = by_group.get(group.pk)
            if counts:
                group.cash_flow = max(PRIORITY, key=lambda category: (counts[category], -PRIORITY.index(category)))
            elif _is_non_current(group):
                group.cash_flow = FINANCING if "liabilit" in group.name.lower() else INVESTING
            else:
                continue
            changed_groups.append(group)
        AccountGroup.objects.bulk_update(changed_groups, ["cash_flow"], batch_size=500)
        changed_accounts = []
        for account in accounts:
            given = next((g.cash_flow for g in _chain(groups, account.group_id) if g.cash_flow), OPERATING)
            if guesses[account.pk] != given:
                account.cash_flow = guesses[account.pk]
                changed_accounts.append(account)
        Account.objects.bulk_update(changed_accounts, ["cash_flow"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0005_bank"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="cash_flow",
            field=models.CharField(blank=True, choices=CHOICES, default="", max_length=20),
        ),
        migrations.AddField(
            model_name="accountgroup",
            name="cash_flow",
            field=models.CharField(blank=True, choices=CHOICES, default="", max_length=20),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.CheckConstraint(condition=models.Q(("cash_flow__in", CATEGORIES)),
                                              name="ledger_account_cash_flow_valid"),
        ),
        migrations.AddConstraint(
            model_name="accountgroup",
            constraint=models.CheckConstraint(condition=models.Q(("cash_flow__in", CATEGORIES)),
                                              name="ledger_group_cash_flow_valid"),
        ),
        migrations.RunPython(classify_existing_books, migrations.RunPython.noop),
    ]
