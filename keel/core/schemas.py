"""The core's API schemas: what goes in (bounded, strict) and what comes out.

Amounts and rates come out as strings (Decimal, never float); datetimes as ISO 8601 with
their timezone. Input text is bounded to the column sizes, so the database never sees a
value it would refuse.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema

from keel.api.schemas import ApiDate, FilterSchema, InputSchema
from keel.core.choices import AddressKind, ContactKind, PartyKind, PartyRoleType


def _text(max_length: int, *, min_length: int = 0):
    return Annotated[str, Field(min_length=min_length, max_length=max_length)]


# -- companies -----------------------------------------------------------------------------


class CompanyOut(Schema):
    id: int
    code: str
    legal_name: str
    country: str
    base_currency: str = Field(validation_alias="base_currency_id")
    fiscal_year_start_month: int
    registration_number: str
    tax_id: str
    street: str
    postal_code: str
    city: str
    region: str
    is_active: bool
    created_at: dt.datetime


class CompanyCreateIn(InputSchema):
    code: _text(32, min_length=1)
    legal_name: _text(200, min_length=1)
    country: _text(2, min_length=2)
    base_currency: _text(3, min_length=3)
    fiscal_year_start_month: Annotated[int, Field(ge=1, le=12)] = 1
    registration_number: _text(50) = ""
    tax_id: _text(50) = ""
    street: _text(200) = ""
    postal_code: _text(20) = ""
    city: _text(100) = ""
    region: _text(100) = ""


class CompanyUpdateIn(InputSchema):
    legal_name: _text(200, min_length=1) | None = None
    country: _text(2, min_length=2) | None = None
    base_currency: _text(3, min_length=3) | None = None
    fiscal_year_start_month: Annotated[int, Field(ge=1, le=12)] | None = None
    registration_number: _text(50) | None = None
    tax_id: _text(50) | None = None
    street: _text(200) | None = None
    postal_code: _text(20) | None = None
    city: _text(100) | None = None
    region: _text(100) | None = None


# -- memberships and roles -------------------------------------------------------------------


class RoleOut(Schema):
    id: int
    code: str
    name: str
    description: str
    permissions: list[str]
    is_system: bool


class RoleUpdateIn(InputSchema):
    permissions: Annotated[list[_text(100, min_length=1)], Field(max_length=200)]
    name: _text(100, min_length=1) | None = None


class MembershipOut(Schema):
    id: int
    user_id: int
    username: str
    email: str
    role: str
    role_name: str
    is_active: bool
    created_at: dt.datetime

    @staticmethod
    def resolve_username(obj) -> str:
        return obj.user.username

    @staticmethod
    def resolve_email(obj) -> str:
        return obj.user.email

    @staticmethod
    def resolve_role(obj) -> str:
        return obj.role.code

    @staticmethod
    def resolve_role_name(obj) -> str:
        return obj.role.name


class MembershipCreateIn(InputSchema):
    email: _text(254, min_length=1)
    role: _text(50, min_length=1)
    first_name: _text(150) = ""
    last_name: _text(150) = ""
    password: _text(128) | None = None


class MembershipUpdateIn(InputSchema):
    role: _text(50, min_length=1) | None = None
    is_active: bool | None = None


# -- parties ----------------------------------------------------------------------------------


class AddressIn(InputSchema):
    kind: AddressKind = AddressKind.MAIN
    street: _text(200, min_length=1)
    postal_code: _text(20) = ""
    city: _text(100, min_length=1)
    region: _text(100) = ""
    country: _text(2, min_length=2)


class AddressOut(Schema):
    id: int
    kind: str
    street: str
    postal_code: str
    city: str
    region: str
    country: str


class ContactPointIn(InputSchema):
    kind: ContactKind
    value: _text(254, min_length=1)
    label: _text(100) = ""


class ContactPointOut(Schema):
    id: int
    kind: str
    value: str
    label: str


class PartyCreateIn(InputSchema):
    name: _text(200, min_length=1)
    kind: PartyKind = PartyKind.ORGANISATION
    roles: Annotated[list[PartyRoleType], Field(max_length=10)] = []
    tax_id: _text(50) = ""
    tax_country: _text(2) = ""
    email: _text(254) = ""
    phone: _text(50) = ""
    website: _text(200) = ""
    notes: _text(5000) = ""
    addresses: Annotated[list[AddressIn], Field(max_length=20)] = []
    allow_duplicate: bool = Field(False, description="Create even when it looks like an existing party.")


class PartyUpdateIn(InputSchema):
    name: _text(200, min_length=1) | None = None
    kind: PartyKind | None = None
    roles: Annotated[list[PartyRoleType], Field(max_length=10)] | None = None
    tax_id: _text(50) | None = None
    tax_country: _text(2) | None = None
    email: _text(254) | None = None
    phone: _text(50) | None = None
    website: _text(200) | None = None
    notes: _text(5000) | None = None
    is_active: bool | None = None


class PartyFilters(FilterSchema):
    q: _text(200) | None = Field(None, description="Search in name, tax ID and email.")
    role: PartyRoleType | None = None
    kind: PartyKind | None = None
    is_active: bool | None = None


class PartyOut(Schema):
    id: int
    kind: str
    name: str
    tax_id: str
    tax_country: str
    email: str
    phone: str
    is_active: bool
    roles: list[str]

    @staticmethod
    def resolve_roles(obj) -> list[str]:
        return obj.role_codes


class PartyDetailOut(PartyOut):
    website: str
    notes: str
    created_at: dt.datetime
    updated_at: dt.datetime
    addresses: list[AddressOut]
    contact_points: list[ContactPointOut]

    @staticmethod
    def resolve_addresses(obj) -> list[Any]:
        return list(obj.addresses.all())

    @staticmethod
    def resolve_contact_points(obj) -> list[Any]:
        return list(obj.contact_points.all())


# -- exchange rates -----------------------------------------------------------------------------


class ExchangeRateOut(Schema):
    id: int
    currency: str = Field(validation_alias="currency_id")
    date: dt.date
    rate: Decimal
    source: str
    created_at: dt.datetime


class ExchangeRateIn(InputSchema):
    currency: _text(3, min_length=3)
    date: ApiDate
    rate: Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=10)]
    source: _text(50) = "api"


class ExchangeRateFilters(FilterSchema):
    currency: _text(3) | None = None
    date_from: ApiDate | None = None
    date_to: ApiDate | None = None


class RateLookupOut(Schema):
    currency: str
    date: dt.date
    rate: Decimal


# -- activities, attachments, events -------------------------------------------------------------


class ActivityFilters(FilterSchema):
    actor: _text(150) | None = Field(None, description="The actor's user id or username.")
    verb: _text(100) | None = None
    subject_type: _text(100) | None = None
    subject_id: _text(64) | None = None
    date_from: ApiDate | None = None
    date_to: ApiDate | None = None


class ActivityOut(Schema):
    id: int
    company: str
    seq: int
    occurred_at: dt.datetime
    actor: str | None
    verb: str
    department: str
    subject_type: str
    subject_id: str
    subject_repr: str
    data: dict[str, Any]
    hash: str

    @staticmethod
    def resolve_company(obj) -> str:
        return obj.company.code

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return obj.actor.username if obj.actor_id else None


class AttachmentOut(Schema):
    id: int
    subject_type: str
    subject_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime

    @staticmethod
    def resolve_uploaded_by(obj) -> str:
        return obj.uploaded_by.username


class SubjectQuery(FilterSchema):
    subject_type: _text(100, min_length=1)
    subject_id: _text(64, min_length=1)


class EventDeliveryOut(Schema):
    id: int
    activity_id: int
    event: str
    handler: str
    status: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    updated_at: dt.datetime
    done_at: dt.datetime | None


class EventDeliveryFilters(FilterSchema):
    status: Annotated[str, Field(pattern="^(failed|retrying|pending|done)$")] | None = Field(
        None, description="Default: failed and retrying."
    )
