"""The core's pages (namespace `core`)."""

from django.urls import path

from keel.core.views import (
    activities,
    attachments,
    companies,
    currencies,
    events,
    memberships,
    parties,
)

app_name = "core"

urlpatterns = [
    path("companies/", companies.company_list, name="company_list"),
    path("companies/new/", companies.company_create, name="company_create"),
    path("companies/<int:pk>/", companies.company_detail, name="company_detail"),
    path("companies/<int:pk>/edit/", companies.company_edit, name="company_edit"),
    path("companies/<int:pk>/logo/", companies.company_logo, name="company_logo"),
    path("members/", memberships.membership_list, name="membership_list"),
    path("members/new/", memberships.membership_create, name="membership_create"),
    path("members/<int:pk>/", memberships.membership_detail, name="membership_detail"),
    path("members/<int:pk>/edit/", memberships.membership_edit, name="membership_edit"),
    path("members/<int:pk>/deactivate/", memberships.membership_deactivate, name="membership_deactivate"),
    path("roles/", memberships.role_list, name="role_list"),
    path("roles/<int:pk>/", memberships.role_detail, name="role_detail"),
    path("roles/<int:pk>/edit/", memberships.role_edit, name="role_edit"),
    path("parties/", parties.party_list, name="party_list"),
    path("parties/new/", parties.party_create, name="party_create"),
    path("parties/<int:pk>/", parties.party_detail, name="party_detail"),
    path("parties/<int:pk>/edit/", parties.party_edit, name="party_edit"),
    path("parties/<int:pk>/addresses/new/", parties.address_create, name="address_create"),
    path("parties/<int:pk>/contact-points/new/", parties.contactpoint_create, name="contactpoint_create"),
    path("exchange-rates/", currencies.exchangerate_list, name="exchangerate_list"),
    path("exchange-rates/new/", currencies.exchangerate_create, name="exchangerate_create"),
    path("activity/", activities.activity_list, name="activity_list"),
    path("attachments/upload/<str:subject_type>/<str:subject_id>/", attachments.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", attachments.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/remove/", attachments.attachment_remove, name="attachment_remove"),
    path("events/", events.eventdelivery_list, name="eventdelivery_list"),
    path("events/<int:pk>/retry/", events.eventdelivery_retry, name="eventdelivery_retry"),
]
