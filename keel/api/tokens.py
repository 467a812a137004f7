"""Personal API tokens: `keel_<prefix>_<secret>`, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from keel.api.models import ApiToken
from keel.core.exceptions import NotFound, ValidationFailed


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token; returns it with the full key, which is never shown again."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("A token needs a name of at most 100 characters.", code="token.invalid", field="name")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = f"keel_{prefix}_{secret}"
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=_hash(key))
    return token, key


def revoke_token(*, user, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound("No such token.", code="token.not_found")
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db()
    return token


def authenticate_key(key: str):
    """The active user behind a key, or None."""
    parts = (key or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "keel":
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.key_hash, _hash(key)) or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
