"""`flush` that can empty the ledger's tables on SQLite.

Django's flush deletes every row (DELETE FROM on SQLite); the ledger's immutability
triggers refuse deleting posted entries unless the guard is in maintenance. Test runners
(TransactionTestCase, pytest-django's transactional_db and live_server) call flush between
tests, so this command only wraps Django's in `keel.ledger.guard.maintenance()`.
"""

from django.core.management.commands.flush import Command as FlushCommand

from keel.ledger.guard import maintenance


class Command(FlushCommand):
    def handle(self, **options):
        with maintenance():
            return super().handle(**options)
