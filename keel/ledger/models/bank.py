"""The ledger's bank models (see models/__init__.py)."""

__all__: list[str] = []
