"""Bank files as banks write them (issue 11 §8): each shape in a file of its own in tests/data.

MT940 with SWIFT wrapping, bank tags and German ?-subfields, several statements in a file
(each to its bank account, or refused naming them); CSV amounts with currency signs,
parentheses, a decimal comma, debit and credit columns; OFX that strays from the
specification, dated in its own time zone; CAMT.053 batch entries split into their details;
statements whose balances do not add up, refused with the difference or imported flagged.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.exceptions import PermissionDenied, ValidationFailed
from keel.core.models import Activity, Role
from keel.core.tests.factories import member
from keel.ledger.models.bank import BankStatement, BankStatementLine
from keel.ledger.services.bank import identifies, import_statement, import_statements
from keel.ledger.tests.bank_helpers import DATA, bank_account, import_sample, sample

pytestmark = pytest.mark.django_db

GB_IBAN = "GB29NWBK60161331926819"
DE_IBAN = "DE78100200300000004711"  # bank code 10020030, account 4711 (MT940 :25:10020030/4711)
D = Decimal


def _file(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _lines(statement) -> list[tuple]:
    return [(line.date, line.amount, line.counterparty_name, line.counterparty_iban, line.reference, line.description,
             line.transaction_id) for line in statement.lines.order_by("position")]


def _import(bank, file_format, data, **kwargs):
    kwargs.setdefault("check_permission", False)
    kwargs.setdefault("actor", None)
    return import_statements(bank_account=bank, file_format=file_format, data=data, **kwargs)


def _nothing_imported():
    assert not BankStatement.objects.exists() and not BankStatementLine.objects.exists()


@pytest.fixture
def gb(books):
    return bank_account(books, name="London", iban=GB_IBAN)


@pytest.fixture
def de(books):
    return bank_account(books, name="Frankfurt", account="1410", iban=DE_IBAN)


# -- MT940 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("chosen", ["gb", "de"])
def test_an_mt940_file_of_two_accounts_sends_each_statement_to_its_bank_account(gb, de, chosen):
    """SOH/ETX bytes, {1:}{2:}{3:}{4: blocks, :25: as BIC/IBAN and as bank code/account, :NS:
    between :61: and :86:, German ?-subfields, an :86: after the closing balance."""
    statements = _import(gb if chosen == "gb" else de, "mt940", _file("mt940_swift_two_accounts.sta"),
                         file_name="swift.sta")
    assert [(s.bank_account, s.reference) for s in statements] == [(gb, "00091/001"), (de, "12/1")]
    london, frankfurt = statements
    assert (london.opening_balance, london.closing_balance, london.date_to) == (D("1237.50"), D("2737.50"),
                                                                                dt.date(2026, 4, 1))
    assert _lines(london) == [(dt.date(2026, 4, 1), D("1500.00"), "Initech B.V.", "NL91ABNA0417164300",
                               "E2E-INITECH-14", "Invoice INV-2026-014 April", "GB-TX-1")]
    assert (frankfurt.opening_balance, frankfurt.closing_balance) == (D("500.00"), D("1687.50"))
    assert _lines(frankfurt) == [
        # ?32 + ?33 is one name cut at 27 characters; ?20-?22 one SEPA remittance, EREF+ and SVWZ+.
        (dt.date(2026, 4, 1), D("1200.00"), "Hooli Deutschland Vertriebs GmbH", "DE89370400440532013000",
         "INV-2026-0042", "Rechnung INV-2026-0042 vom 01.04.2026", "DE-TX-1"),
        # The :86: after :62F: ("Kontoauszug 12 - Ende") is the statement's, not this line's.
        (dt.date(2026, 4, 1), D("-12.50"), "", "", "", "Kontofuehrung April 2026", "DE-TX-2"),
    ]
    assert Activity.objects.filter(verb="ledger.bank_statement_imported").count() == 2
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "mt940", _file("mt940_swift_two_accounts.sta"))
    assert refused.value.code == "statement.duplicate"
    assert BankStatement.objects.count() == 2


def test_a_statement_of_an_account_without_a_bank_account_is_refused_naming_it(gb):
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "mt940", _file("mt940_swift_two_accounts.sta"))
    assert refused.value.code == "statement.unknown_account"
    message = refused.value.message
    assert "2 statements of 2 accounts" in message and "statement 12/1 of account 10020030/4711" in message
    assert "00091/001" not in message and "Nothing was imported" in message
    _nothing_imported()


def test_daily_statements_of_one_account_in_one_file_each_keep_their_own_header_and_lines(gb):
    """A leading :940: line, '-' between statements, :25: with the currency after the IBAN,
    :60M:/:62M:, a reversed credit (RC), supplementary details, :64: and :65:."""
    first, second = _import(gb, "mt940", _file("mt940_daily.sta"))
    assert (first.reference, first.opening_balance, first.closing_balance, first.date_to) == (
        "92/1", D("2737.50"), D("2487.50"), dt.date(2026, 4, 2))
    assert _lines(first) == [(dt.date(2026, 4, 2), D("-250.00"), "Vandelay Industries", "GB33BUKB20201555555555",
                              "B-77", "Bill B-77", "GB-TX-2")]
    assert (second.reference, second.opening_balance, second.closing_balance, second.balance_gap) == (
        "93/1", D("2487.50"), D("2387.50"), 0)
    assert _lines(second) == [(dt.date(2026, 4, 3), D("-100.00"), "", "", "INV-2026-014",
                               "Return of a credit: wrong amount", "GB-TX-3")]


def test_a_file_of_one_account_is_refused_in_another_bank_account_naming_the_right_one(gb, de):
    with pytest.raises(ValidationFailed) as refused:
        _import(de, "mt940", sample("mt940"))
    assert refused.value.code == "statement.wrong_account"
    assert f"{GB_IBAN}, the account of bank account London, not of Frankfurt" in refused.value.message
    _nothing_imported()


def test_an_unbalanced_statement_in_a_file_of_several_imports_none_of_them(gb):
    data = _file("mt940_daily.sta").replace(b":62M:C260403EUR2387,50", b":62M:C260403EUR2380,00")
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "mt940", data)
    assert refused.value.code == "statement.unbalanced"
    assert refused.value.message.startswith("Statement 93/1: The balances do not add up")
    assert "a difference of -7.50 EUR" in refused.value.message
    _nothing_imported()


@pytest.mark.parametrize(("broken", "fixed", "words"), [
    (b":61:2604020402D250,00NTRF", b":61:2604020402X250,00NTRF", "Line 6: The transaction ':61:2604020402X250"),
    (b":60F:C260401EUR2737,50", b":60F:C260401EUR27x37,50", "Line 5: The balance ':60F:C260401EUR27x37,50'"),
    (b":62F:C260402EUR2487,50\n", b"", "Statement 940S260402 has no closing balance"),
    (b":940:\n", b"Statement of account\n", "not an MT940 statement"),
])
def test_a_broken_mt940_is_refused_naming_the_line(gb, broken, fixed, words):
    data = _file("mt940_daily.sta")
    assert broken in data
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "mt940", data.replace(broken, fixed))
    assert refused.value.code == "statement.malformed" and words in refused.value.message
    _nothing_imported()


def test_a_broken_line_of_a_swift_wrapped_file_is_named_by_its_line_in_the_file(gb, de):
    data = _file("mt940_swift_two_accounts.sta").replace(b":61:2604010401D12,50", b":61:2604010401X12,50")
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "mt940", data)
    assert "Line 21: The transaction ':61:2604010401X12,50" in refused.value.message
    _nothing_imported()


def test_swift_trailers_and_headers_on_the_lines_of_the_fields(gb):
    """'-}{5:{CHK:...}}' closing one message, '{1:..}{2:..}{4::20:...' opening the next on one line."""
    def body(opening, closing, transaction_id):
        return (f":25:GB29NWBK60161331926819\r\n:60F:C260101EUR{opening}\r\n"
                f":61:2601020102C2,00NTRFR//{transaction_id}\r\n:62F:C260102EUR{closing}\r\n")

    data = (f"\x01{{1:F01NWBKGB2LAXXX}}{{2:O940}}{{4:\r\n:20:A\r\n:28C:1\r\n{body('1,00', '3,00', 'T1')}"
            f"-}}{{5:{{CHK:A1B2}}}}\x03\x01{{1:F01NWBKGB2LAXXX}}{{2:O940}}{{4::20:B\r\n:28C:2\r\n"
            f"{body('3,00', '5,00', 'T2')}-}}\x03").encode()
    first, second = _import(gb, "mt940", data)
    assert [(s.reference, s.opening_balance, s.closing_balance) for s in (first, second)] == [
        ("1/1", D("1.00"), D("3.00")), ("2/1", D("3.00"), D("5.00"))]


def test_a_statement_repeating_the_lines_of_the_one_before_in_the_same_file_is_refused_naming_it(gb):
    """Two statements of one file are checked against each other too: the second is refused."""
    data = _file("mt940_daily.sta").replace(b":61:2604030403RC100,00NTRFINV-2026-014//GB-TX-3",
                                            b":61:2604020402D250,00NTRFNONREF//GB-TX-2")
    data = data.replace(b":62M:C260403EUR2387,50", b":62M:C260403EUR2237,50")
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "mt940", data)
    assert refused.value.code == "statement.repeated_lines"
    assert refused.value.message.startswith("Statement 93/1: The statement's one line was imported already "
                                            "(2026-04-02 -250.00")
    _nothing_imported()


def test_the_account_identification_names_a_bank_account_as_banks_write_it(gb, de):
    assert identifies(f"NWBKGB2L/{GB_IBAN}", gb) and identifies(f"{GB_IBAN}EUR", gb) and identifies(GB_IBAN.lower(), gb)
    assert identifies("10020030/4711", de) and identifies("10020030/0000004711", de)
    assert not identifies("10020030/4712", de) and not identifies("10020031/4711", de)
    assert not identifies(GB_IBAN, de) and not identifies("", gb)


# -- CSV --------------------------------------------------------------------------------------


def test_csv_amounts_with_currency_signs_parentheses_and_a_decimal_comma(gb):
    mapping = {"delimiter": ";", "skip_rows": 1, "date_column": "Buchungstag", "date_format": "%d.%m.%Y",
               "amount_column": "Betrag", "decimal_separator": ",", "counterparty_column": "Empfänger",
               "description_column": "Verwendungszweck", "reference_column": "Referenz"}
    [statement] = _import(gb, "csv", _file("csv_decimal_comma.csv"), mapping=mapping, opening_balance=D("100"))
    assert [(line.date, line.amount, line.counterparty_name, line.reference) for line in
            statement.lines.order_by("position")] == [
        (dt.date(2026, 4, 1), D("1234.50"), "Initech B.V.", "E2E-1"),        # 1.234,50 €
        (dt.date(2026, 4, 2), D("-2000.00"), "Vandelay Industries", "E2E-2"),  # -2.000,00 €
        (dt.date(2026, 4, 3), D("-4.95"), "Bank", ""),                        # (4,95)
        (dt.date(2026, 4, 4), D("12.00"), "Globex GmbH", "E2E-4"),            # EUR 12,00
        (dt.date(2026, 4, 5), D("-1000.00"), "Landlord Ltd", "E2E-5"),        # 1.000,00-
    ]
    assert (statement.opening_balance, statement.closing_balance) == (D("100"), D("-1658.45"))


def test_csv_with_separate_debit_and_credit_columns(gb):
    mapping = {"date_column": "Date", "date_format": "%m/%d/%Y", "debit_column": "Debit", "credit_column": "Credit",
               "counterparty_column": "Payee", "description_column": "Memo"}
    [statement] = _import(gb, "csv", _file("csv_debit_credit.csv"), mapping=mapping, opening_balance=D("0"))
    assert [(line.date, line.amount, line.counterparty_name, line.description) for line in
            statement.lines.order_by("position")] == [
        (dt.date(2026, 4, 1), D("1234.50"), "Initech Inc", "Invoice INV-2026-014"),
        (dt.date(2026, 4, 2), D("-2000.00"), "Vandelay Industries", "Bill B-77"),
        (dt.date(2026, 4, 3), D("-4.95"), "Bank", "Card fee"),
        (dt.date(2026, 4, 4), D("12.00"), "Globex Corp", "Refund R-9"),
    ]
    assert statement.closing_balance == D("-758.45")


def test_a_csv_amount_in_the_wrong_decimal_style_is_refused_naming_row_and_column(gb):
    mapping = {"delimiter": ";", "skip_rows": 1, "date_column": "Buchungstag", "date_format": "%d.%m.%Y",
               "amount_column": "Betrag", "decimal_separator": "."}
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "csv", _file("csv_decimal_comma.csv"), mapping=mapping)
    assert refused.value.code == "statement.malformed"
    assert "Line 3: The amount in column 'Betrag' '1.234,50 €' is not a number" in refused.value.message
    _nothing_imported()


# -- OFX --------------------------------------------------------------------------------------


def test_ofx_sgml_that_strays_from_the_specification_is_read_in_its_own_time_zone(gb):
    """A BANKID of 19 characters and a BRANCHID of 23 (the specification allows 9 and 22),
    no SIGNON, Intuit tags, a decimal comma, PAYEE/NAME; times late in the evening at -5."""
    [statement] = _import(gb, "ofx", _file("ofx_lenient.ofx"))
    assert (statement.date_from, statement.date_to) == (dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert (statement.opening_balance, statement.closing_balance) == (D("1237.50"), D("2691.60"))
    # 23:30 at -5 on 16 April is 04:30 UTC on the 17th: the bank booked it on the 16th.
    assert _lines(statement) == [
        (dt.date(2026, 4, 16), D("1500.00"), "Globex & Co", "", "", "Invoice INV-2026-021", "OFX-TX-1"),
        (dt.date(2026, 4, 30), D("-45.90"), "Bank fees", "", "CHG-APR", "Account fee April", "OFX-TX-2"),
    ]


def test_ofx_xml_is_read_in_its_own_time_zone(de):
    [statement] = _import(de, "ofx", _file("ofx_v2.ofx"))
    # 00:30 at +2 on 17 April is 22:30 UTC on the 16th: the bank booked it on the 17th.
    assert _lines(statement) == [(dt.date(2026, 4, 17), D("320.00"), "Hooli <Berlin>", "DE89370400440532013000", "",
                                  "", "DE-OFX-1")]
    assert (statement.reference, statement.opening_balance) == (f"{DE_IBAN} 2026-04-01..2026-04-30", D("500.00"))


@pytest.mark.parametrize(("broken", "fixed", "words"), [
    (b"<DTPOSTED>20260430221500[-5:EST]", b"<DTPOSTED>2026-04-30", "'2026-04-30' in <DTPOSTED> is not an OFX date"),
    (b"<TRNAMT>-45,90", b"<TRNAMT>-45,9O", "Line 17: The <TRNAMT> '-45,9O' is not a number."),
    (b"<LEDGERBAL><BALAMT>2691.60<DTASOF>20260430235959[-5:EST]</LEDGERBAL>", b"", "no closing balance"),
])
def test_an_ofx_with_a_field_keel_uses_broken_is_refused(gb, broken, fixed, words):
    data = _file("ofx_lenient.ofx")
    assert broken in data
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "ofx", data.replace(broken, fixed))
    assert refused.value.code == "statement.malformed" and words in refused.value.message
    _nothing_imported()


# -- CAMT.053 ---------------------------------------------------------------------------------


def test_camt053_batch_entries_keep_each_details_counterparty_and_reference(gb, de):
    """Two statements of two accounts; a credit batch of three TxDtls (AmtDtls/TxAmt or Amt,
    Dbtr/Nm or Dbtr/Pty/Nm, Strd or Ustrd remittance) and a debit batch of two."""
    london, frankfurt = _import(gb, "camt053", _file("camt053_batches.xml"))
    assert (london.bank_account, frankfurt.bank_account) == (gb, de)
    assert _lines(london) == [
        (dt.date(2026, 4, 2), D("400.00"), "Hooli Ltd", "DE89370400440532013000", "RF18INV2026031", "", "DD-77-1"),
        (dt.date(2026, 4, 2), D("350.00"), "Initech B.V.", "NL91ABNA0417164300", "E2E-INITECH-2",
         "Invoice INV-2026-032 April", "BATCH-DD-77/2"),
        (dt.date(2026, 4, 2), D("250.00"), "Vandelay Industries", "", "", "INV-2026-033", "BATCH-DD-77/3"),
    ]
    assert _lines(frankfurt) == [
        (dt.date(2026, 4, 2), D("-1800.00"), "Jane Doe", "GB33BUKB20201555555555", "PAY-04-JD", "Salary April",
         "PAYRUN-04/1"),
        (dt.date(2026, 4, 2), D("-1200.00"), "John Roe", "NL91ABNA0417164300", "PAY-04-JR", "Salary April",
         "PAYRUN-04/2"),
    ]
    assert (frankfurt.opening_balance, frankfurt.closing_balance) == (D("5000.00"), D("2000.00"))


def test_a_batch_whose_details_do_not_add_up_is_refused(gb, de):
    data = _file("camt053_batches.xml").replace(b'<Amt Ccy="EUR">250.00</Amt>', b'<Amt Ccy="EUR">260.00</Amt>')
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "camt053", data)
    assert refused.value.code == "statement.malformed"
    assert "Line 10: The 3 transaction details of the batch entry add up to 1010.00, not to the entry's 1000.00" \
        in refused.value.message
    _nothing_imported()


@pytest.mark.parametrize(("amount", "words"), [
    ("100000000000.00", "Line 24: The amount 100,000,000,000 is too large: Keel stores amounts up to "
                        "99,999,999,999.9999 exactly."),
    ("350.00001", "Line 24: The amount '350.00001' has more than 4 decimals."),
    ("-350.00", "Line 24: '-350.00' is not an amount."),
])
def test_a_camt_amount_keel_cannot_store_exactly_is_refused_naming_its_line(gb, de, amount, words):
    data = _file("camt053_batches.xml").replace(b'<Amt Ccy="EUR">350.00</Amt>', f'<Amt Ccy="EUR">{amount}</Amt>'.encode())
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "camt053", data)
    assert refused.value.code == "statement.malformed" and words in refused.value.message
    _nothing_imported()


def test_a_batch_whose_details_give_no_amounts_stays_one_line(gb, de):
    data = (_file("camt053_batches.xml").replace(b'<AmtDtls><TxAmt><Amt Ccy="EUR">400.00</Amt></TxAmt></AmtDtls>', b"")
            .replace(b'<Amt Ccy="EUR">350.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>', b""))
    london, _frankfurt = _import(gb, "camt053", data)
    assert _lines(london) == [(dt.date(2026, 4, 2), D("1000.00"), "", "", "", "Batch of 3 transactions", "BATCH-DD-77")]


# -- statements whose balances do not add up --------------------------------------------------


def _unbalanced() -> bytes:
    return sample("camt053").replace(b"1237.50", b"1300.00")


def test_an_unbalanced_statement_is_refused_stating_the_difference(gb):
    with pytest.raises(ValidationFailed) as refused:
        _import(gb, "camt053", _unbalanced())
    assert refused.value.code == "statement.unbalanced" and "file" in refused.value.fields
    assert refused.value.message.startswith(
        "The balances do not add up: opening 1,000.00 plus the transactions 237.50 is 1,237.50, but the closing "
        "balance is 1,300.00 EUR: a difference of 62.50 EUR.")
    _nothing_imported()


def test_an_accountant_imports_it_flagged_with_the_difference(books, gb, accountant):
    statement = import_statement(actor=accountant, bank_account=gb, file_format="camt053", data=_unbalanced(),
                                 accept_unbalanced=True)
    statement.refresh_from_db()
    assert (statement.is_unbalanced, statement.unbalanced_difference) == (True, D("62.50"))
    assert (statement.opening_balance, statement.closing_balance, statement.lines.count()) == (
        D("1000.00"), D("1300.00"), 2)
    facts = Activity.objects.get(verb="ledger.bank_statement_imported").data
    assert facts["unbalanced_difference"] == "62.50"


def test_accepting_does_not_flag_a_statement_that_adds_up(gb):
    [statement] = _import(gb, "camt053", sample("camt053"), accept_unbalanced=True)
    assert (statement.is_unbalanced, statement.unbalanced_difference) == (False, 0)


def test_without_the_permission_an_unbalanced_statement_is_not_imported_even_when_accepted(books, gb):
    role = Role.objects.create(company=books, code="bank_clerk", name="Bank clerk",
                               permissions=["ledger.view", "bank.import"])
    clerk = member(books, role.code)
    with pytest.raises(PermissionDenied) as refused:
        import_statements(actor=clerk, bank_account=gb, file_format="camt053", data=_unbalanced(),
                          accept_unbalanced=True)
    assert "a difference of 62.50 EUR" in refused.value.message and "bank.import_unbalanced" in refused.value.message
    _nothing_imported()
    # The same clerk imports a statement that adds up.
    [statement] = import_statements(actor=clerk, bank_account=gb, file_format="camt053", data=sample("camt053"))
    assert not statement.is_unbalanced


def test_owner_administrator_and_accountant_may_import_unbalanced_statements_and_a_clerk_may_not(books):
    from keel.core.access import has_permission

    allowed = {code: has_permission(member(books, code), books, "bank.import_unbalanced")
               for code in ("owner", "administrator", "accountant", "billing_clerk", "auditor")}
    assert allowed == {"owner": True, "administrator": True, "accountant": True, "billing_clerk": False,
                       "auditor": False}


def test_the_statement_pages_show_the_difference(books, gb, accountant, client_for):
    statement = import_statement(actor=accountant, bank_account=gb, file_format="camt053", data=_unbalanced(),
                                 accept_unbalanced=True)
    client = client_for(accountant)
    page = client.get(f"/ledger/bank/statements/{statement.pk}/").content.decode()
    assert 'id="statement-unbalanced"' in page
    assert "the closing balance 1,300.00 less the opening balance 1,000.00 and the lines is 62.50 EUR" in page
    assert "Unbalanced by 62.50" in client.get("/ledger/bank/statements/").content.decode()
    assert "Unbalanced by 62.50" in client.get(f"/ledger/bank/accounts/{gb.pk}/").content.decode()


def test_the_import_page_imports_flagged_only_when_asked_and_allowed(books, gb, accountant, client_for):
    client = client_for(accountant)

    def upload(**extra):
        return client.post("/ledger/bank/statements/import/", {
            "bank_account": str(gb.pk), "file_format": "camt053",
            "file": SimpleUploadedFile("march.xml", _unbalanced(), "text/xml"), **extra})

    refused = upload()
    assert refused.status_code == 200
    assert "a difference of 62.50 EUR" in " ".join(refused.context["form"].errors["file"])
    _nothing_imported()
    imported = upload(accept_unbalanced="on")
    statement = BankStatement.objects.get()
    assert imported.status_code == 302 and imported["Location"] == f"/ledger/bank/statements/{statement.pk}/"
    assert statement.is_unbalanced
    clerk_role = Role.objects.create(company=books, code="bank_clerk", name="Bank clerk",
                                     permissions=["ledger.view", "bank.import"])
    form = client_for(member(books, clerk_role.code)).get("/ledger/bank/statements/import/").context["form"]
    assert "accept_unbalanced" not in form.fields


def test_the_import_page_lists_every_statement_of_a_file(gb, de, accountant, client_for):
    response = client_for(accountant).post("/ledger/bank/statements/import/", {
        "bank_account": str(gb.pk), "file_format": "mt940",
        "file": SimpleUploadedFile("swift.sta", _file("mt940_swift_two_accounts.sta"))}, follow=True)
    assert response.redirect_chain[-1][0] == "/ledger/bank/statements/"
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["Statements imported: 00091/001 of London: 1 lines; 12/1 of Frankfurt: 2 lines."]


# -- the API ----------------------------------------------------------------------------------


def _upload(api, bank_id, file_format, data, **fields):
    return api.client.post(f"/api/ledger/bank-accounts/{bank_id}/statements", headers=api.headers, data={
        "format": file_format, "file": SimpleUploadedFile(f"upload.{file_format}", data), **fields})


def test_the_api_imports_every_statement_and_flags_an_unbalanced_one(books, gb, de, owner):
    api = ApiClient(owner, books)
    response = _upload(api, gb.pk, "mt940", _file("mt940_swift_two_accounts.sta"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"] == "00091/001"
    assert [(s["reference"], s["bank_account_id"]) for s in body["statements"]] == [("00091/001", gb.pk),
                                                                                    ("12/1", de.pk)]
    body = assert_error(_upload(api, gb.pk, "camt053", _unbalanced()), 400, "statement.unbalanced")
    assert "a difference of 62.50 EUR" in body["message"]
    # (It does not continue the closing of 00091/001 either: that gap is accepted separately.)
    response = _upload(api, gb.pk, "camt053", _unbalanced(), accept_unbalanced="true", accept_balance_gap="true")
    assert response.status_code == 201, response.content
    assert (response.json()["is_unbalanced"], response.json()["unbalanced_difference"]) == (True, "62.50")
    detail = api.get(f"/api/ledger/bank-statements/{response.json()['id']}").json()
    assert (detail["is_unbalanced"], detail["unbalanced_difference"]) == (True, "62.50")


def test_the_api_refuses_a_bad_opening_balance_with_the_amount_rules(books, gb, owner):
    api = ApiClient(owner, books)
    body = assert_error(_upload(api, gb.pk, "csv", sample("csv"), opening_balance="1,00x",
                                mapping='{"date_column": "Booking date"}'), 400, "money.not_a_number")
    assert "opening balance" in body["message"]
    _nothing_imported()


def test_import_sample_still_answers_with_one_statement(books, gb):
    statement = import_sample(gb, "mt940")
    assert statement.reference == "00042/001" and statement.lines.count() == 2


def test_the_import_page_reads_the_opening_balance_with_the_amount_rules(gb, accountant, client_for):
    client = client_for(accountant)
    mapping = {"csv_date_column": "Date", "csv_date_format": "%m/%d/%Y", "csv_debit_column": "Debit",
               "csv_credit_column": "Credit"}

    def upload(opening):
        return client.post("/ledger/bank/statements/import/", {
            "bank_account": str(gb.pk), "file_format": "csv", "opening_balance": opening,
            "file": SimpleUploadedFile("april.csv", _file("csv_debit_credit.csv"), "text/csv"), **mapping})

    refused = upload("1.000,00")
    assert "The opening balance (csv only) '1.000,00' is not a number" in " ".join(refused.context["form"].errors["opening_balance"])
    _nothing_imported()
    assert upload("1,000.00").status_code == 302
    assert BankStatement.objects.get().opening_balance == D("1000.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_uploads_of_a_two_account_file_at_once_from_either_account_let_exactly_one_through(company):
    """Each upload locks both bank accounts, in one order, whichever account it was started
    from: no deadlock, and the later uploads see the first one's statements."""
    import threading

    from django.db import connection, connections

    from keel.core.exceptions import KeelError
    from keel.ledger.tests.factories import set_up_books

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")
    set_up_books(company)
    london = bank_account(company, name="London", iban=GB_IBAN)
    frankfurt = bank_account(company, name="Frankfurt", account="1410", iban=DE_IBAN)
    data = _file("mt940_swift_two_accounts.sta")
    uploads = [(london, data), (frankfurt, data), (london, data + b"\r\n"), (frankfurt, data + b"\r\n\r\n")]
    barrier = threading.Barrier(len(uploads))
    outcomes: list[str] = []

    def upload(bank, content):
        try:
            barrier.wait()
            _import(bank, "mt940", content)
            outcomes.append("imported")
        except KeelError as exc:
            outcomes.append(exc.code)
        except BaseException as exc:  # noqa: BLE001 - an unexpected error (a deadlock) fails the test below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload, args=arguments) for arguments in uploads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["imported"] + ["statement.duplicate"] * (len(uploads) - 1)
    assert sorted(BankStatement.objects.filter(company=company).values_list("bank_account__name", "reference")) == [
        ("Frankfurt", "12/1"), ("London", "00091/001")]
    assert BankStatementLine.objects.filter(company=company).count() == 3
