"""The ledger's budgets models (see models/__init__.py)."""

__all__: list[str] = []
