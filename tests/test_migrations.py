"""Migrations are generated from the models and complete."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:  # makemigrations --check exits 1 when changes are missing
        pytest.fail(f"Missing migrations:\n{out.getvalue()} ({exit_})")
