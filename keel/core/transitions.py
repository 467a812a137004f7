"""Declared workflows: one helper applies a status change with a conditional UPDATE.

`UPDATE ... SET status = <to> WHERE id = <id> AND status = <from>`: of two concurrent
requests only one changes a row, the other gets a coded error. Buttons and API actions
read the same transition table to know what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from keel.core.exceptions import IllegalTransition

Transitions = frozenset[tuple[str, str]]


def allowed_targets(transitions: Iterable[tuple[str, str]], current: str) -> list[str]:
    return sorted(to for frm, to in transitions if frm == current)


def apply_transition(
    obj: models.Model,
    *,
    transitions: Iterable[tuple[str, str]],
    to: str,
    field: str = "status",
    code: str = "transition.illegal",
    **changes,
) -> None:
    """Move `obj` to status `to` if allowed and still in the status we read; update obj."""
    current = getattr(obj, field)
    if (current, to) not in set(transitions):
        label = obj._meta.verbose_name
        raise IllegalTransition(f"A {label} cannot go from '{current}' to '{to}'.", code=code)
    updated = type(obj)._base_manager.filter(pk=obj.pk, **{field: current}).update(**{field: to}, **changes)
    if updated != 1:
        raise IllegalTransition(
            f"This {obj._meta.verbose_name} was changed by someone else; reload and try again.",
            code=code.replace("illegal", "conflict") if "illegal" in code else f"{code}.conflict",
        )
    setattr(obj, field, to)
    for name, value in changes.items():
        setattr(obj, name, value)
