from __future__ import annotations

from django.conf import settings
from django.db import models

from keel.core.choices import DeliveryStatus
from keel.core.models.base import CompanyOwned


class Activity(CompanyOwned):
    """One change of state, recorded in the transaction that made it; append-only.

    Rows are hash-chained per company: `hash` is SHA-256 over `prev_hash` and the row's
    canonical content (see `keel.core.activity.canonical_bytes`), so an edit or a deletion
    anywhere in the history is found by `keel audit verify`.
    """

    view_permission = "activity.view"

    seq = models.PositiveBigIntegerField(help_text="Position in the company's chain, from 1, without gaps.")
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verb = models.CharField(max_length=100)
    department = models.CharField(max_length=50)
    subject_type = models.CharField(max_length=100, help_text="app_label.model of the record")
    subject_id = models.CharField(max_length=64)
    subject_repr = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    hash_version = models.PositiveSmallIntegerField(
        default=1, help_text="Canonical form the hash covers (keel.core.activity); 1 for rows recorded before versions."
    )

    class Meta:
        ordering = ["-seq"]
        verbose_name_plural = "activities"
        constraints = [models.UniqueConstraint(fields=["company", "seq"], name="core_activity_chain_position")]
        indexes = [
            models.Index(fields=["company", "subject_type", "subject_id", "-seq"], name="core_activity_subject"),
            models.Index(fields=["company", "occurred_at"], name="core_activity_time"),
            models.Index(fields=["company", "department", "occurred_at"], name="core_activity_department"),
            models.Index(fields=["company", "verb", "-seq"], name="core_activity_verb"),
            models.Index(fields=["company", "actor", "-seq"], name="core_activity_actor"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.verb} {self.subject_type}:{self.subject_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("Activities are append-only; record a new one instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Activities are append-only and cannot be deleted.")


class ActivityChainHead(CompanyOwned):
    """The end of a company's activity chain; locked by every append so writers queue."""

    view_permission = "activity.view"

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company"], name="core_chain_head_one_per_company")]

    def __str__(self) -> str:
        return f"chain of {self.company_id} at {self.last_seq}"


class EventDelivery(CompanyOwned):
    """One handler's reaction to one activity: run after commit, retried until it succeeds.

    Written in the same transaction as the activity, so a crash between commit and handling
    loses nothing: `keel events retry` (and the worker) pick up what is still pending.
    """

    view_permission = "event.view"

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="deliveries")
    event = models.CharField(max_length=100)
    handler = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "event deliveries"
        constraints = [
            models.UniqueConstraint(fields=["company", "activity", "handler"], name="core_delivery_once_per_handler")
        ]
        indexes = [models.Index(fields=["company", "status", "id"], name="core_delivery_status")]

    def __str__(self) -> str:
        return f"{self.event} -> {self.handler} ({self.status})"
