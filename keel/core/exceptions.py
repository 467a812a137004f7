"""Domain errors with stable codes.

Every door (web form, API, CLI) turns these into the same message: the API maps them to
400/403/404/409 in one place (`keel.api.errors`), forms show them on the named field.
"""

from __future__ import annotations

from collections.abc import Mapping


class KeelError(Exception):
    """A refusal the user can act on: a stable code, a message and optionally fields."""

    status = 400
    default_code = "keel.invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        fields: Mapping[str, list[str] | str] | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        errors: dict[str, list[str]] = {}
        if fields:
            for name, value in fields.items():
                errors[name] = [value] if isinstance(value, str) else list(value)
        if field and field not in errors:
            errors[field] = [message]
        self.fields = errors
        self.extra = dict(extra or {})

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "code": self.code,
            "message": self.message,
            "errors": [
                {"field": name, "message": msg} for name, msgs in self.fields.items() for msg in msgs
            ],
        }
        body.update(self.extra)
        return body


class ValidationFailed(KeelError):
    """Input that breaks a rule; nothing was written."""

    default_code = "keel.invalid"


class NotFound(KeelError):
    """The record does not exist, or is in a company the user may not see (same answer)."""

    status = 404
    default_code = "keel.not_found"


class PermissionDenied(KeelError):
    """The user is a member of the company, but their role does not allow this."""

    status = 403
    default_code = "keel.permission_denied"


class Conflict(KeelError):
    """The request collides with the current state (a duplicate, a lost race, a wrong status)."""

    status = 409
    default_code = "keel.conflict"


class IllegalTransition(Conflict):
    default_code = "keel.illegal_transition"


def from_django_validation(exc, *, code: str = "keel.invalid") -> ValidationFailed:
    """Turn Django's ValidationError (from full_clean) into our coded error."""
    if hasattr(exc, "message_dict"):
        fields = {k if k != "__all__" else "non_field_errors": v for k, v in exc.message_dict.items()}
        first_field, first_messages = next(iter(fields.items()))
        return ValidationFailed(f"{first_field}: {first_messages[0]}", code=code, fields=fields)
    return ValidationFailed("; ".join(exc.messages), code=code)
