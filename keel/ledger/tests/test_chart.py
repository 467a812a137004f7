"""The chart of accounts: template on company creation, CSV import/export, deletion rules."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.db.models import ProtectedError

from keel.core.exceptions import ValidationFailed
from keel.core.services.companies import create_company
from keel.ledger.choices import AccountRole
from keel.ledger.exceptions import AccountInUse
from keel.ledger.models import Account, AccountGroup, FiscalYear, Journal
from keel.ledger.selectors import get_account_by_role
from keel.ledger.services import (
    apply_chart_template,
    create_account,
    delete_account,
    export_chart_csv,
    import_chart_csv,
)
from keel.ledger.tests.factories import post_sale

pytestmark = pytest.mark.django_db


def test_a_new_company_gets_the_chart_journals_and_fiscal_year(django_capture_on_commit_callbacks):
    admin = get_user_model().objects.create_user("admin@keel.test", password="x", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        company = create_company(actor=admin, code="newco", legal_name="New Co", country="GB", base_currency="EUR")
    assert Account.objects.for_company(company).count() == 51
    assert get_account_by_role(company, AccountRole.RECEIVABLE).code == "1200"
    assert sorted(Journal.objects.for_company(company).values_list("code", flat=True)) == [
        "BNK", "CSH", "GEN", "OPN", "PAY", "PUR", "SAL"]
    assert FiscalYear.objects.for_company(company).count() == 1
    assert AccountGroup.objects.for_company(company).get(code="12").parent.code == "1"


def test_applying_the_template_again_changes_nothing(books):
    before = Account.objects.for_company(books).count()
    result = apply_chart_template(company=books, actor=None, check_permission=False)
    assert result.accounts_created == 0 and Account.objects.for_company(books).count() == before


def test_export_then_import_into_another_company_reproduces_the_chart(books, other_company, owner):
    create_account(actor=owner, company=books, code="4200", name="Licences", account_type="income")
    text = export_chart_csv(company=books)
    result = import_chart_csv(actor=None, company=other_company, file=io.StringIO(text), check_permission=False)
    assert result.accounts_created == 52 and result.groups_created == 12
    assert export_chart_csv(company=other_company) == text


def test_a_bad_chart_file_reports_every_bad_row_and_loads_nothing(company):
    text = (
        "kind,code,name,type,role,parent\n"
        "group,1,Assets,,,\n"
        "account,1000,Cash,asset,cash,1\n"
        "account,1001,Bad,planet,,1\n"
        "account,1002,Orphan,asset,,9\n"
        "account,1003,RE,equity,retained_earnings,\n"
        "account,1004,RE again,equity,retained_earnings,\n"
    )
    with pytest.raises(ValidationFailed) as exc:
        import_chart_csv(actor=None, company=company, file=io.StringIO(text), check_permission=False)
    assert [(e["line"], e["code"]) for e in exc.value.extra["errors"]] == [
        (4, "account.invalid_type"), (5, "chart.unknown_group"), (7, "account.role_taken")]
    assert not Account.objects.for_company(company).exists()
    assert not AccountGroup.objects.for_company(company).exists()


def test_an_account_with_lines_can_be_deactivated_not_deleted(books, owner):
    post_sale(books)
    used = Account.objects.for_company(books).get(code="4000")
    with pytest.raises(AccountInUse):
        delete_account(actor=owner, account=used)
    with pytest.raises(ProtectedError):
        used.delete()
    unused = Account.objects.for_company(books).get(code="4900")
    delete_account(actor=owner, account=unused)
    assert not Account.objects.filter(pk=unused.pk).exists()


def test_account_codes_and_unique_roles_are_unique_per_company(books, owner, other_books):
    with pytest.raises(ValidationFailed) as exc:
        create_account(actor=owner, company=books, code="4000", name="Dup", account_type="income")
    assert exc.value.code == "account.duplicate_code"
    with pytest.raises(ValidationFailed) as exc:
        create_account(actor=owner, company=books, code="3999", name="RE2", account_type="equity", role="retained_earnings")
    assert exc.value.code == "account.role_taken"
    assert Account.objects.for_company(other_books).filter(code="4000").exists()


def test_the_chart_export_opens_as_text_and_imports_back_as_typed(books, owner):
    from keel.ledger.models import Account
    from keel.ledger.services.chart import export_chart_csv, import_chart_csv

    Account.objects.for_company(books).filter(code="6100").update(name="=HYPERLINK(\"http://evil\")")
    exported = export_chart_csv(company=books)
    assert "'=HYPERLINK" in exported and "\n6100,=" not in exported
    Account.objects.for_company(books).filter(code="6100").update(name="Renamed")
    import_chart_csv(actor=owner, company=books, file=io.StringIO(exported))
    assert Account.objects.for_company(books).get(code="6100").name == "=HYPERLINK(\"http://evil\")"
