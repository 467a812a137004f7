"""The general ledger's data: chart of accounts, periods, journals, entries, lines, balances.

Amounts in the company's currency are Decimal(20, 4): four decimals hold every ISO 4217
currency's minor unit (0 to 4) exactly; the posting service refuses amounts with more
decimals than the currency allows. Rates have ten decimals, as the core's ExchangeRate.

Posted entries and their lines are immutable in the database itself (triggers in migration
0002); see docs/design/ledger.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from keel.core.models import CompanyOwned, CompanyQuerySet
from keel.ledger.choices import (
    UNIQUE_ROLES,
    AccountRole,
    AccountType,
    CashFlowCategory,
    EntryStatus,
    JournalKind,
    PeriodStatus,
    TaxKind,
    TaxRole,
)

AMOUNT = {"max_digits": 20, "decimal_places": 4}
LIVE_SOURCE_CONSTRAINT = "ledger_entry_live_source_unique"
RATE = {"max_digits": 20, "decimal_places": 10}


class AccountGroup(CompanyOwned):
    """A heading of the chart (e.g. "Current assets"), nested to give reports their shape."""

    view_permission = "ledger.view"

    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    position = models.PositiveIntegerField(default=0)
    # The cash-flow section of its accounts' movements; blank: as the parent group (top level: operating).
    cash_flow = models.CharField(max_length=20, choices=CashFlowCategory.choices, blank=True, default="")

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="ledger_group_code_unique"),
            models.CheckConstraint(condition=Q(cash_flow__in=["", *CashFlowCategory.values]),
                                   name="ledger_group_cash_flow_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Account(CompanyOwned):
    """An account of the company's chart; deactivated, never deleted, once it has lines."""

    view_permission = "ledger.view"

    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    account_type = models.CharField(max_length=20, choices=AccountType.choices)
    role = models.CharField(max_length=30, choices=AccountRole.choices, blank=True, default="")
    group = models.ForeignKey(AccountGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts")
    # A bank account in USD, say, only takes USD lines; empty means any currency.
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.TextField(blank=True, max_length=2000)
    # Overrides the group's cash-flow section for this account (e.g. accumulated depreciation
    # among the fixed assets); blank: as its group.
    cash_flow = models.CharField(max_length=20, choices=CashFlowCategory.choices, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="ledger_account_code_unique"),
            models.UniqueConstraint(
                fields=["company", "role"], condition=Q(role__in=list(UNIQUE_ROLES)),
                name="ledger_account_unique_role",
            ),
            models.CheckConstraint(
                condition=Q(account_type__in=AccountType.values), name="ledger_account_type_valid"
            ),
            models.CheckConstraint(condition=Q(cash_flow__in=["", *CashFlowCategory.values]),
                                   name="ledger_account_cash_flow_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CostCentre(CompanyOwned):
    """A part of the company (department, site, project) that lines can be analysed by."""

    view_permission = "ledger.view"

    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="ledger_cost_centre_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TaxCode(CompanyOwned):
    """A tax (VAT 20 %, ...) that lines refer to: its rate, whether prices include it, the
    account its amount posts to and the boxes of the tax return its base and tax fill.

    An empty `account` means the chart's role account (tax collected for sales, tax
    deductible for purchases); see keel/ledger/services/taxes.py.

    A group (`is_group`, e.g. "GST+QST") is taxed as its components (TaxCodeComponent,
    models/taxes.py): it has no rate, account or boxes of its own, and whether a code is a
    group is fixed at creation, as its kind is.
    """

    view_permission = "tax.view"

    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    rate = models.DecimalField(max_digits=9, decimal_places=6, help_text="Percent, e.g. 20 for 20 %.")
    kind = models.CharField(max_length=10, choices=TaxKind.choices, default=TaxKind.SALES)
    price_included = models.BooleanField(default=False, help_text="Amounts entered with this code include the tax.")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    base_box = models.CharField(max_length=20, blank=True, help_text="Tax return box of the base, e.g. 6.")
    tax_box = models.CharField(max_length=20, blank=True, help_text="Tax return box of the tax, e.g. 1.")
    is_active = models.BooleanField(default=True)
    is_group = models.BooleanField(default=False, help_text="Taxed as its component codes (e.g. GST + QST).")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="ledger_tax_code_unique"),
            models.CheckConstraint(condition=Q(kind__in=TaxKind.values), name="ledger_tax_code_kind_valid"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="ledger_tax_code_rate_not_negative"),
            models.CheckConstraint(
                condition=Q(is_group=False) | Q(rate=0, account__isnull=True, base_box="", tax_box=""),
                name="ledger_tax_code_group_has_no_own_figures",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class FiscalYear(CompanyOwned):
    """A fiscal year, named by the calendar year it starts in (company.fiscal_year_of)."""

    view_permission = "ledger.view"

    year = models.IntegerField()
    start = models.DateField()
    end = models.DateField()
    status = models.CharField(max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN)

    class Meta:
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(fields=["company", "year"], name="ledger_fiscal_year_unique"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="ledger_fiscal_year_dates"),
        ]

    def __str__(self) -> str:
        return f"FY{self.year}"


class Period(CompanyOwned):
    """A month of a fiscal year: open (takes postings), closed (reopenable) or locked (final)."""

    view_permission = "ledger.view"

    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, related_name="periods")
    start = models.DateField()
    end = models.DateField()
    status = models.CharField(max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(fields=["company", "start"], name="ledger_period_start_unique"),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="ledger_period_dates"),
            models.CheckConstraint(condition=Q(status__in=PeriodStatus.values), name="ledger_period_status_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The calendar month, YYYY-MM (what the CLI's --period takes)."""
        return f"{self.start:%Y-%m}"

    @property
    def is_open(self) -> bool:
        return self.status == PeriodStatus.OPEN


class Journal(CompanyOwned):
    """A book of entries (sales, bank, ...), with its own gapless numbers per fiscal year."""

    view_permission = "ledger.view"

    code = models.CharField(max_length=10)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=JournalKind.choices)
    # The core NumberSequence (keel.core.numbering) that numbers this journal's entries.
    sequence_code = models.SlugField(max_length=50)
    default_account = models.ForeignKey(Account, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="ledger_journal_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Entry(CompanyOwned):
    """A journal entry: balanced lines, numbered and immutable once posted."""

    view_permission = "ledger.view"

    # Entries are written in bulk: foreign keys that lookups never start from (or that a
    # composite index below covers) get no index of their own. Deleting a user, journal or
    # period (all rare, and refused while entries point at them) scans instead. On
    # PostgreSQL the foreign keys are checked once per statement, not per row
    # (keel.core.db_foreign_keys, migration 0010): db_constraint=False.
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+", db_index=False,
                                db_constraint=False)
    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="entries", db_index=False,
                                db_constraint=False)
    date = models.DateField()
    # Set when posted (and for drafts whose date has a period); the period the lines count in.
    period = models.ForeignKey(Period, on_delete=models.PROTECT, null=True, blank=True, related_name="entries",
                               db_index=False, db_constraint=False)
    number = models.CharField(max_length=50, blank=True, help_text="Assigned at posting; gapless per journal and year.")
    reference = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=EntryStatus.choices, default=EntryStatus.DRAFT)
    # At most one reversal per entry (constraint below, keyed with the company as every key is).
    reversal_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals", db_index=False,
        db_constraint=False,
    )
    # The document of another department that caused this entry (generic reference).
    source_type = models.CharField(max_length=100, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    # What the source posted this entry for ("close", "settlement", "reconciliation", ...):
    # a source has at most one live entry per purpose (constraint below). Blank: no claim.
    purpose = models.CharField(max_length=50, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", db_index=False, db_constraint=False)
    created_at = models.DateTimeField(auto_now_add=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", db_index=False, db_constraint=False)
    # Recorded by the posting service as it posts (keel.ledger.digest): the digest of the
    # entry's content and lines, and how many lines it has. `keel ledger verify` recomputes
    # the digest; on PostgreSQL the insert guard takes lines of a posted entry only up to
    # its line count. Null on drafts (nullable also so that adding them never rebuilt the
    # table on SQLite, which would drop its guard triggers).
    digest = models.CharField(max_length=32, null=True, blank=True, editable=False)  # noqa: DJ001
    line_count = models.IntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["date", "id"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "journal", "number"], condition=~Q(number=""), name="ledger_entry_number_unique"
            ),
            models.UniqueConstraint(
                fields=["company", "reversal_of"], condition=Q(reversal_of__isnull=False),
                name="ledger_entry_one_reversal",
            ),
            # One live entry per source document and purpose. Live: posted (not a draft, not
            # reversed) and not itself a reversal; a reversal carries its original's source
            # and purpose, and a reversed entry frees the purpose for the source's next entry.
            models.UniqueConstraint(
                fields=["company", "source_type", "source_id", "purpose"],
                condition=Q(status=EntryStatus.POSTED, reversal_of__isnull=True) & ~Q(purpose=""),
                name=LIVE_SOURCE_CONSTRAINT,
            ),
            models.CheckConstraint(condition=Q(status__in=EntryStatus.values), name="ledger_entry_status_valid"),
            models.CheckConstraint(
                condition=Q(status=EntryStatus.DRAFT) | (Q(period__isnull=False) & ~Q(number="") & Q(posted_at__isnull=False)),
                name="ledger_entry_posted_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "date", "id"], name="ledger_entry_date"),
            models.Index(fields=["company", "source_type", "source_id"], name="ledger_entry_source"),
            models.Index(fields=["company", "status", "date"], name="ledger_entry_status"),
            # Most entries reverse nothing: only the reversals are indexed.
            models.Index(fields=["reversal_of"], condition=Q(reversal_of__isnull=False), name="ledger_entry_reversal_of"),
        ]

    def __str__(self) -> str:
        return self.number or f"draft #{self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == EntryStatus.DRAFT


class LineQuerySet(CompanyQuerySet):
    def posted(self) -> LineQuerySet:
        """Lines of posted (or reversed) entries: the ones with a period; no join."""
        return self.filter(period__isnull=False)


class Line(CompanyOwned):
    """One debit or credit of an entry, in company currency (and optionally a foreign one).

    `amount_currency` is signed (positive on the debit side) in `currency`; for lines in
    the company's currency it equals debit - credit and `rate` is 1. `date` repeats the
    entry's; `period` is the entry's once posted and empty on a draft's lines, so "posted
    lines of a period" (reports, partitions by period) needs no join.
    """

    view_permission = "ledger.view"

    objects = LineQuerySet.as_manager()

    # Every index of this table starts with the company: no index on company alone.
    # On PostgreSQL the foreign keys are checked once per statement rather than per line
    # (keel.core.db_foreign_keys, migration 0010), hence db_constraint=False throughout.
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+", db_index=False,
                                db_constraint=False)
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="lines", db_constraint=False)
    position = models.PositiveIntegerField(default=0)
    # Lines are the biggest table: foreign keys covered by a composite index (or rarely
    # searched) get no index of their own, which keeps bulk posting fast.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines", db_index=False,
                                db_constraint=False)
    label = models.CharField(max_length=200, blank=True)
    debit = models.DecimalField(default=0, **AMOUNT)
    credit = models.DecimalField(default=0, **AMOUNT)
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+", db_index=False,
                                 db_constraint=False)
    amount_currency = models.DecimalField(default=0, **AMOUNT)
    rate = models.DecimalField(default=1, **RATE)
    party = models.ForeignKey("core.Party", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              db_index=False, db_constraint=False)
    tax_code = models.ForeignKey(TaxCode, on_delete=models.PROTECT, null=True, blank=True, related_name="lines",
                                 db_index=False, db_constraint=False)
    tax_role = models.CharField(max_length=10, choices=TaxRole.choices, blank=True, default="")
    due_date = models.DateField(null=True, blank=True)
    cost_centre = models.ForeignKey(CostCentre, on_delete=models.PROTECT, null=True, blank=True, related_name="lines",
                                    db_index=False, db_constraint=False)
    source_type = models.CharField(max_length=100, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    date = models.DateField()
    period = models.ForeignKey(Period, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               db_index=False, db_constraint=False)

    class Meta:
        ordering = ["entry_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(debit__gte=0), name="ledger_line_debit_not_negative"),
            models.CheckConstraint(condition=Q(credit__gte=0), name="ledger_line_credit_not_negative"),
            models.CheckConstraint(condition=Q(debit=0) | Q(credit=0), name="ledger_line_debit_or_credit"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="ledger_line_rate_positive"),
        ]
        indexes = [
            models.Index(fields=["company", "account", "date"], name="ledger_line_account_date"),
            models.Index(fields=["company", "date"], name="ledger_line_date"),
            # Partial: most lines name no party and no source document.
            models.Index(fields=["company", "party", "account"], condition=Q(party__isnull=False),
                         name="ledger_line_party"),
            models.Index(fields=["company", "source_type", "source_id"], condition=~Q(source_type=""),
                         name="ledger_line_source"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} D{self.debit} C{self.credit}"


class Balance(CompanyOwned):
    """Running totals of posted lines per account, period and currency (kept by posting)."""

    view_permission = "ledger.view"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    debit = models.DecimalField(default=0, **AMOUNT)
    credit = models.DecimalField(default=0, **AMOUNT)
    amount_currency = models.DecimalField(default=0, **AMOUNT)
    line_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "account", "period", "currency"], name="ledger_balance_key_unique"
            ),
        ]
        indexes = [models.Index(fields=["company", "period", "account"], name="ledger_balance_period")]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.period_id}/{self.currency_id}: D{self.debit} C{self.credit}"


class DayBalance(CompanyOwned):
    """Totals of posted lines per account and day, in the company's currency (kept by
    posting). A report range that starts or ends inside a month adds up these days instead
    of that month's lines, so any range costs about the same as whole months."""

    view_permission = "ledger.view"

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    date = models.DateField()
    debit = models.DecimalField(default=0, **AMOUNT)
    credit = models.DecimalField(default=0, **AMOUNT)
    line_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            # Date before account: reports read a company's days in a range.
            models.UniqueConstraint(fields=["company", "date", "account"], name="ledger_day_balance_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.date}: D{self.debit} C{self.credit}"
