"""Ledger fixtures: companies with their books set up, and the people who keep them."""

from __future__ import annotations

import pytest

from keel.core.tests.factories import member
from keel.ledger.tests.factories import set_up_books


@pytest.fixture
def books(company):
    """`company` with the small-business chart, journals and fiscal years 2025-2027."""
    return set_up_books(company)


@pytest.fixture
def other_books(other_company):
    return set_up_books(other_company)


@pytest.fixture
def accountant(books):
    return member(books, "accountant", username="accountant@acme.test")


@pytest.fixture
def clerk(books):
    """A billing clerk: may see parties, may not post to the ledger."""
    return member(books, "billing_clerk", username="clerk@acme.test")
