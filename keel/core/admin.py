"""Django admin for the core's records: a fallback for operators, not the daily UI.

Activities and the chain head are read-only: history is append-only and hash-chained.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from keel.core.models import (
    Activity,
    ActivityChainHead,
    Address,
    Attachment,
    Company,
    ContactPoint,
    Currency,
    EventDelivery,
    ExchangeRate,
    Membership,
    NumberSequence,
    Party,
    PartyRole,
    Role,
    SequenceCounter,
    SubmissionCount,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("legal_name", "code", "country", "base_currency", "is_active")
    list_filter = ("is_active", "country")
    search_fields = ("legal_name", "code", "tax_id")


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "decimals", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "company", "is_system")
    list_filter = ("company", "is_system")
    search_fields = ("name", "code")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "company", "role", "is_active")
    list_filter = ("company", "is_active")
    search_fields = ("user__username",)
    list_select_related = ("user", "company", "role")
    raw_id_fields = ("user",)


class PartyRoleInline(admin.TabularInline):
    model = PartyRole
    extra = 0
    exclude = ("company",)


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0
    exclude = ("company",)


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    extra = 0
    exclude = ("company",)


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "company", "tax_id", "email", "is_active")
    list_filter = ("company", "kind", "is_active")
    search_fields = ("name", "tax_id", "email")
    list_select_related = ("company",)
    inlines = [PartyRoleInline, AddressInline, ContactPointInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_formset(self, request, form, formset, change):
        # Inline rows belong to the party's company.
        for row in formset.save(commit=False):
            row.company_id = form.instance.company_id
            row.save()
        for row in formset.deleted_objects:
            row.delete()


@admin.register(PartyRole)
class PartyRoleAdmin(admin.ModelAdmin):
    list_display = ("party", "role", "company")
    list_filter = ("company", "role")
    raw_id_fields = ("party",)


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("party", "kind", "street", "city", "country", "company")
    list_filter = ("company", "kind", "country")
    raw_id_fields = ("party",)


@admin.register(ContactPoint)
class ContactPointAdmin(admin.ModelAdmin):
    list_display = ("party", "kind", "value", "company")
    list_filter = ("company", "kind")
    raw_id_fields = ("party",)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("company", "currency", "date", "rate", "source")
    list_filter = ("company", "currency")
    date_hierarchy = "date"


@admin.register(NumberSequence)
class NumberSequenceAdmin(admin.ModelAdmin):
    list_display = ("company", "code", "name", "pattern", "restart_each_fiscal_year")
    list_filter = ("company",)


@admin.register(SequenceCounter)
class SequenceCounterAdmin(ReadOnlyAdmin):
    list_display = ("company", "sequence", "fiscal_year", "last_value")
    list_filter = ("company",)


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("seq", "company", "occurred_at", "actor", "verb", "subject_type", "subject_id", "subject_repr")
    list_filter = ("company", "department")
    search_fields = ("verb", "subject_type", "subject_id", "subject_repr")
    list_select_related = ("company", "actor")
    show_full_result_count = False  # the log is large: no COUNT(*) of the whole table


@admin.register(ActivityChainHead)
class ActivityChainHeadAdmin(ReadOnlyAdmin):
    list_display = ("company", "last_seq", "last_hash")


@admin.register(EventDelivery)
class EventDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "company", "event", "handler", "status", "attempts", "updated_at")
    list_filter = ("company", "status", "event")
    search_fields = ("handler", "event")
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("filename", "company", "subject_type", "subject_id", "size", "uploaded_by", "uploaded_at")
    list_filter = ("company", "subject_type")
    search_fields = ("filename", "sha256")


@admin.register(SubmissionCount)
class SubmissionCountAdmin(ReadOnlyAdmin):
    list_display = ("company", "document_type", "day", "submitted", "rejected")
    list_filter = ("company", "document_type")
    date_hierarchy = "day"
