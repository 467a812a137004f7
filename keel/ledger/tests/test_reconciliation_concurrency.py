"""Two accountants reconcile the same statement line at the same moment (PostgreSQL):
exactly one wins, the other gets a clear refusal, and nothing is matched twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from keel.core.exceptions import KeelError
from keel.core.tests.factories import member
from keel.ledger.models import BankMatch, BankReconciliation
from keel.ledger.services.reconciliation import reconcile_statement_line
from keel.ledger.tests.bank_helpers import bank_account, bank_line, import_sample, receipt
from keel.ledger.tests.factories import set_up_books

CLERKS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_reconciliations_of_one_statement_line_let_exactly_one_through(company):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")
    set_up_books(company)
    accountant = member(company, "accountant", username="accountant@acme.test")
    statement = import_sample(bank_account(company), "camt053")
    received = statement.lines.order_by("position").first()
    ledger_line = bank_line(receipt(company))
    barrier = threading.Barrier(CLERKS)
    outcomes: list[object] = []

    def clerk():
        try:
            barrier.wait()
            reconcile_statement_line(actor=accountant, statement_line=received, line_ids=[ledger_line.pk])
            outcomes.append("reconciled")
        except KeelError as exc:
            outcomes.append(exc.code)
        except BaseException as exc:  # noqa: BLE001 - an unexpected error fails the test below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=clerk) for _ in range(CLERKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["reconciled"] + ["statement_line.already_reconciled"] * (CLERKS - 1)
    assert BankReconciliation.objects.filter(company=company).count() == 1
    assert list(BankMatch.objects.filter(company=company).values_list("line_id", flat=True)) == [ledger_line.pk]
