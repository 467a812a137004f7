"""Reference data every installation has: ISO 4217 currencies.

Loaded by migration core 0002 and again after every `post_migrate`, because `flush` (run by
transactional tests and by `manage.py flush`) empties the table and then emits that signal.
"""

from __future__ import annotations


def load_currencies(currency_model, using: str = "default") -> int:
    """Create the ISO currencies that are missing; return how many were created."""
    import pycountry

    from keel.core.money import currency_decimals

    manager = currency_model.objects.using(using)
    existing = set(manager.values_list("code", flat=True))
    missing = [
        currency_model(code=c.alpha_3, name=c.name[:100], decimals=currency_decimals(c.alpha_3))
        for c in pycountry.currencies
        if c.alpha_3 not in existing
    ]
    manager.bulk_create(missing)
    return len(missing)


def reload_after_migrate(sender, using="default", apps=None, **kwargs) -> None:
    if apps is None:  # flush sends no app registry: use the installed one
        from django.apps import apps
    try:
        currency_model = apps.get_model("core", "Currency")
    except LookupError:  # migrating backwards past core 0001
        return
    load_currencies(currency_model, using)
