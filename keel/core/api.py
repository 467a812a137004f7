"""The core's API: companies, memberships and roles, parties, exchange rates, activities,
attachments and event deliveries. Thin: parse, call a service, serialise."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import FileResponse, HttpRequest
from django.utils import timezone
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from keel.api.auth import actor
from keel.api.context import CompanyRef, company_for, optional_company_for, track
from keel.api.pagination import Page, PageQuery, paginate
from keel.api.schemas import RecordId
from keel.core import events
from keel.core.access import get_visible, memberships, require_permission
from keel.core.activity import subject_label
from keel.core.choices import DeliveryStatus
from keel.core.exceptions import NotFound
from keel.core.models import (
    Activity,
    Attachment,
    Company,
    EventDelivery,
    ExchangeRate,
    Membership,
    Party,
    Role,
)
from keel.core.records import parse_id
from keel.core.schemas import (
    ActivityFilters,
    ActivityOut,
    AddressIn,
    AddressOut,
    AttachmentOut,
    CompanyCreateIn,
    CompanyOut,
    CompanyUpdateIn,
    ContactPointIn,
    ContactPointOut,
    EventDeliveryFilters,
    EventDeliveryOut,
    ExchangeRateFilters,
    ExchangeRateIn,
    ExchangeRateOut,
    MembershipCreateIn,
    MembershipOut,
    MembershipUpdateIn,
    PartyCreateIn,
    PartyDetailOut,
    PartyFilters,
    PartyOut,
    PartyUpdateIn,
    RateLookupOut,
    RoleOut,
    RoleUpdateIn,
    SubjectQuery,
)
from keel.core.selectors import search_parties
from keel.core.services import attachments as attachment_services
from keel.core.services import companies as company_services
from keel.core.services import currencies as currency_services
from keel.core.services import memberships as membership_services
from keel.core.services import parties as party_services
from keel.core.subjects import resolve_subject

router = Router()


def _changes(payload) -> dict:
    """The fields a PATCH sent with a value (an explicit null means 'leave as is')."""
    return {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


# -- companies ---------------------------------------------------------------------------------


def _company(request: HttpRequest, company_id: int, permission: str = "company.view") -> Company:
    require_permission(actor(request), company_id, permission)
    return memberships(actor(request))[company_id].company


@router.get("/companies", response=Page[CompanyOut], url_name="company_list", tags=["companies"])
def list_companies(request: HttpRequest, page: Query[PageQuery]):
    """The companies the caller belongs to."""
    ids = list(memberships(actor(request)))
    return paginate(Company.objects.filter(pk__in=ids), page, ordering=("legal_name", "id"))


@router.get("/companies/{company_id}", response=CompanyOut, url_name="company_detail", tags=["companies"])
def get_company(request: HttpRequest, company_id: RecordId):
    return _company(request, company_id)


@router.post("/companies", response={201: CompanyOut}, url_name="company_create", tags=["companies"])
def create_company(request: HttpRequest, payload: CompanyCreateIn):
    """Set up a company with its roles and numbering; the caller becomes its owner. Staff only."""
    company = company_services.create_company(actor=actor(request), **payload.model_dump())
    return Status(201, company)


@router.patch("/companies/{company_id}", response=CompanyOut, url_name="company_update", tags=["companies"])
def update_company(request: HttpRequest, company_id: RecordId, payload: CompanyUpdateIn):
    company = _company(request, company_id)
    with track(request, company):
        return company_services.update_company(actor=actor(request), company=company, **_changes(payload))


# -- memberships and roles -----------------------------------------------------------------------


@router.get("/memberships", response=Page[MembershipOut], url_name="membership_list", tags=["memberships"])
def list_memberships(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    company = company_for(request, company_ref, "membership.view")
    queryset = Membership.objects.for_company(company).select_related("user", "role")
    return paginate(queryset, page, ordering=("id",))


@router.post("/memberships", response={201: MembershipOut}, url_name="membership_create", tags=["memberships"])
def add_membership(request: HttpRequest, company_ref: CompanyRef, payload: MembershipCreateIn):
    """Give a user (created when new) a role in the company."""
    company = company_for(request, company_ref, "membership.view")
    with track(request, company):
        membership = membership_services.add_member(actor=actor(request), company=company, **payload.model_dump())
    return Status(201, membership)


@router.patch(
    "/memberships/{membership_id}", response=MembershipOut, url_name="membership_update", tags=["memberships"]
)
def change_membership(request: HttpRequest, company_ref: CompanyRef, membership_id: RecordId, payload: MembershipUpdateIn):
    """Change a member's role, or (de)activate them."""
    company = company_for(request, company_ref, "membership.view")
    membership = get_visible(
        Membership.objects.select_related("company", "role"), actor(request), "membership.view",
        company=company, pk=membership_id,
    )
    with track(request, company):
        return membership_services.change_membership(actor=actor(request), membership=membership, **_changes(payload))


@router.get("/roles", response=Page[RoleOut], url_name="role_list", tags=["memberships"])
def list_roles(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    company = company_for(request, company_ref, "membership.view")
    return paginate(Role.objects.for_company(company), page, ordering=("name", "id"))


@router.patch("/roles/{role_id}", response=RoleOut, url_name="role_update", tags=["memberships"])
def update_role(request: HttpRequest, company_ref: CompanyRef, role_id: RecordId, payload: RoleUpdateIn):
    """Replace a role's permission patterns (`party.*`, `*.view`, ...)."""
    company = company_for(request, company_ref, "membership.view")
    role = get_visible(Role.objects.select_related("company"), actor(request), "membership.view", company=company, pk=role_id)
    with track(request, company):
        return membership_services.set_role_permissions(
            actor=actor(request), role=role, permissions=payload.permissions, name=payload.name
        )


# -- parties ---------------------------------------------------------------------------------------


def _party(request: HttpRequest, company: Company, party_id: int, *, detail: bool = False) -> Party:
    queryset = Party.objects.select_related("company").prefetch_related("roles")
    if detail:
        queryset = queryset.prefetch_related("addresses", "contact_points")
    return get_visible(queryset, actor(request), "party.view", company=company, pk=party_id)


@router.get("/parties", response=Page[PartyOut], url_name="party_list", tags=["parties"])
def list_parties(request: HttpRequest, company_ref: CompanyRef, filters: Query[PartyFilters], page: Query[PageQuery]):
    """Parties by name; `q` searches name, tax ID and email."""
    company = company_for(request, company_ref, "party.view")
    queryset = search_parties(company, filters.q or "").prefetch_related("roles")
    if filters.role:
        queryset = queryset.filter(roles__role=filters.role)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.is_active is not None:
        queryset = queryset.filter(is_active=filters.is_active)
    return paginate(queryset, page, ordering=("name", "id"))


@router.get("/parties/{party_id}", response=PartyDetailOut, url_name="party_detail", tags=["parties"])
def get_party(request: HttpRequest, company_ref: CompanyRef, party_id: RecordId):
    company = company_for(request, company_ref, "party.view")
    return _party(request, company, party_id, detail=True)


@router.post(
    "/parties", response={201: PartyDetailOut}, url_name="party_create", tags=["parties"],
    openapi_extra={"responses": {409: {"description": "party.possible_duplicate: lists `duplicates`"}}},
)
def create_party(request: HttpRequest, company_ref: CompanyRef, payload: PartyCreateIn):
    """Create a party; one that looks like an existing party is a 409 listing the `duplicates`,
    unless `allow_duplicate` is true."""
    company = company_for(request, company_ref, "party.view")
    values = payload.model_dump()
    values["addresses"] = [dict(a) for a in values["addresses"]]
    with track(request, company):
        party = party_services.create_party(actor=actor(request), company=company, **values)
    return Status(201, _party(request, company, party.pk, detail=True))


@router.patch("/parties/{party_id}", response=PartyDetailOut, url_name="party_update", tags=["parties"])
def update_party(request: HttpRequest, company_ref: CompanyRef, party_id: RecordId, payload: PartyUpdateIn):
    company = company_for(request, company_ref, "party.view")
    party = _party(request, company, party_id)
    with track(request, company):
        party_services.update_party(actor=actor(request), party=party, **_changes(payload))
    return _party(request, company, party_id, detail=True)


@router.post(
    "/parties/{party_id}/addresses", response={201: AddressOut}, url_name="party_address_create", tags=["parties"]
)
def add_address(request: HttpRequest, company_ref: CompanyRef, party_id: RecordId, payload: AddressIn):
    company = company_for(request, company_ref, "party.view")
    party = _party(request, company, party_id)
    with track(request, company):
        address = party_services.add_address(actor=actor(request), party=party, **payload.model_dump())
    return Status(201, address)


@router.post(
    "/parties/{party_id}/contact-points", response={201: ContactPointOut},
    url_name="party_contact_point_create", tags=["parties"],
)
def add_contact_point(request: HttpRequest, company_ref: CompanyRef, party_id: RecordId, payload: ContactPointIn):
    company = company_for(request, company_ref, "party.view")
    party = _party(request, company, party_id)
    with track(request, company):
        point = party_services.add_contact_point(actor=actor(request), party=party, **payload.model_dump())
    return Status(201, point)


# -- exchange rates -------------------------------------------------------------------------------


@router.get("/exchange-rates", response=Page[ExchangeRateOut], url_name="exchange_rate_list", tags=["currencies"])
def list_exchange_rates(
    request: HttpRequest, company_ref: CompanyRef, filters: Query[ExchangeRateFilters], page: Query[PageQuery]
):
    company = company_for(request, company_ref, "currency.view")
    queryset = ExchangeRate.objects.for_company(company)
    if filters.currency:
        queryset = queryset.filter(currency_id=filters.currency.upper())
    if filters.date_from:
        queryset = queryset.filter(date__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(date__lte=filters.date_to)
    return paginate(queryset, page, ordering=("-date", "-id"))


@router.post("/exchange-rates", response=ExchangeRateOut, url_name="exchange_rate_set", tags=["currencies"])
def set_exchange_rate(request: HttpRequest, company_ref: CompanyRef, payload: ExchangeRateIn):
    """Enter (or correct) the rate of a currency on a day."""
    company = company_for(request, company_ref, "currency.view")
    with track(request, company):
        return currency_services.set_rate(
            actor=actor(request), company=company, currency=payload.currency, on_date=payload.date,
            rate=payload.rate, source=payload.source,
        )


@router.get("/exchange-rates/lookup", response=RateLookupOut, url_name="exchange_rate_lookup", tags=["currencies"])
def lookup_exchange_rate(
    request: HttpRequest, company_ref: CompanyRef, currency: Annotated[str, Query(min_length=3, max_length=3)],
    date: Annotated[dt.date, Query(ge=dt.date(1900, 1, 1), le=dt.date(9999, 12, 30))],
):
    """The rate in force on a date: the latest entered on or before it (1 for the base currency)."""
    company = company_for(request, company_ref, "currency.view")
    rate = currency_services.get_rate(company=company, currency=currency, on_date=date)
    return {"currency": currency.upper(), "date": date, "rate": rate}


# -- activities -------------------------------------------------------------------------------------


@router.get("/activities", response=Page[ActivityOut], url_name="activity_list", tags=["activities"])
def list_activities(
    request: HttpRequest, company_ref: CompanyRef, filters: Query[ActivityFilters], page: Query[PageQuery]
):
    """The activity log, newest first: of the header's company, or of every company where the
    caller may see it."""
    company = optional_company_for(request, company_ref, "activity.view")
    queryset = (
        Activity.objects.for_company(company) if company is not None
        else Activity.objects.visible_to(actor(request), "activity.view")
    ).select_related("actor", "company")
    if filters.actor:
        actor_id = parse_id(filters.actor)
        if actor_id is None:
            queryset = queryset.filter(actor__username=filters.actor)
        else:
            queryset = queryset.filter(actor_id=actor_id)
    if filters.verb:
        queryset = queryset.filter(verb=filters.verb)
    if filters.subject_type:
        queryset = queryset.filter(subject_type=filters.subject_type)
    if filters.subject_id:
        queryset = queryset.filter(subject_id=filters.subject_id)
    if filters.date_from:
        queryset = queryset.filter(occurred_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        queryset = queryset.filter(occurred_at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    return paginate(queryset, page, ordering=("-id",))


# -- attachments ------------------------------------------------------------------------------------


@router.post("/attachments", response={201: AttachmentOut}, url_name="attachment_create", tags=["attachments"])
def upload_attachment(
    request: HttpRequest,
    subject_type: Annotated[str, Form(min_length=1, max_length=100)],
    subject_id: Annotated[str, Form(min_length=1, max_length=64)],
    file: File[UploadedFile],
):
    """Attach a file (multipart) to the record `subject_type` (`app.model`) + `subject_id`."""
    subject = resolve_subject(actor(request), subject_type, subject_id)
    with track(request, attachment_services.record_company(subject)):
        attachment = attachment_services.attach_file(actor=actor(request), subject=subject, upload=file)
    return Status(201, Attachment.objects.select_related("uploaded_by").get(pk=attachment.pk))


@router.get("/attachments", response=Page[AttachmentOut], url_name="attachment_list", tags=["attachments"])
def list_attachments(request: HttpRequest, subject: Query[SubjectQuery], page: Query[PageQuery]):
    """The files attached to one record the caller may see."""
    record = resolve_subject(actor(request), subject.subject_type, subject.subject_id)
    company = attachment_services.record_company(record)
    require_permission(actor(request), company, "attachment.view")
    queryset = Attachment.objects.for_company(company).filter(
        subject_type=subject_label(record), subject_id=str(record.pk)
    ).select_related("uploaded_by")
    return paginate(queryset, page, ordering=("-id",))


@router.get("/attachments/{attachment_id}/download", url_name="attachment_download", tags=["attachments"])
def download_attachment(request: HttpRequest, attachment_id: RecordId):
    """The file, streamed; only when the caller may see the record it is attached to."""
    attachment = get_visible(Attachment.objects.all(), actor(request), "attachment.view", pk=attachment_id)
    resolve_subject(actor(request), attachment.subject_type, attachment.subject_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise NotFound("The file is missing from storage.", code="attachment.file_missing")
    return FileResponse(handle, as_attachment=True, filename=attachment.filename, content_type=attachment.content_type)


# -- event deliveries ---------------------------------------------------------------------------------


@router.get("/event-deliveries", response=Page[EventDeliveryOut], url_name="event_delivery_list", tags=["events"])
def list_event_deliveries(
    request: HttpRequest, company_ref: CompanyRef, filters: Query[EventDeliveryFilters], page: Query[PageQuery]
):
    """Deliveries of events to handlers; by default the ones that failed or wait for a retry."""
    company = company_for(request, company_ref, "event.view")
    queryset = EventDelivery.objects.for_company(company)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    else:
        queryset = queryset.filter(status__in=[DeliveryStatus.FAILED, DeliveryStatus.RETRYING])
    return paginate(queryset, page, ordering=("-id",))


@router.post(
    "/event-deliveries/{delivery_id}/retry", response=EventDeliveryOut, url_name="event_delivery_retry", tags=["events"]
)
def retry_event_delivery(request: HttpRequest, company_ref: CompanyRef, delivery_id: RecordId):
    """Run a failed delivery again now."""
    company = company_for(request, company_ref, "event.manage")
    delivery = get_visible(EventDelivery.objects.all(), actor(request), "event.manage", company=company, pk=delivery_id)
    with track(request, company):
        events.retry(delivery.pk)
    delivery.refresh_from_db()
    return delivery
