"""The ledger's taxes models (see models/__init__.py)."""

__all__: list[str] = []
