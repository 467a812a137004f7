"""Personal API tokens of the caller: list, create (the key is shown once), revoke."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from keel.api.auth import actor
from keel.api.models import ApiToken
from keel.api.pagination import Page, PageQuery, paginate
from keel.api.schemas import InputSchema, RecordId
from keel.api.tokens import create_token, revoke_token

router = Router()


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    is_active: bool


class TokenCreated(TokenOut):
    key: str = Field(description="The full key; shown only in this answer.")


class TokenIn(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=100)]


@router.get("/tokens", response=Page[TokenOut], url_name="token_list")
def list_tokens(request: HttpRequest, page: Query[PageQuery]):
    """The caller's own tokens, newest first (the keys themselves are never shown again)."""
    return paginate(ApiToken.objects.filter(user=actor(request)), page, ordering=("-id",))


@router.post("/tokens", response={201: TokenCreated}, url_name="token_create")
def create_token_endpoint(request: HttpRequest, payload: TokenIn):
    token, key = create_token(user=actor(request), name=payload.name)
    return Status(201, {**TokenOut.model_validate(token).model_dump(), "key": key})


@router.delete("/tokens/{token_id}", response=TokenOut, url_name="token_revoke")
def revoke_token_endpoint(request: HttpRequest, token_id: RecordId):
    """Revoke one of the caller's tokens; it stops working at once."""
    return revoke_token(user=actor(request), token_id=token_id)
