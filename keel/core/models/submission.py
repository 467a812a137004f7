from __future__ import annotations

from django.db import models

from keel.core.models.base import CompanyOwned


class SubmissionCount(CompanyOwned):
    """Submissions of one document type on one day, and how many were rejected.

    Feeds the data-entry error rate KPI; counted by `keel.core.submissions.track`, which
    every form view and API write goes through.
    """

    view_permission = "kpi.view"

    document_type = models.CharField(max_length=100)
    day = models.DateField()
    submitted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "document_type", "day"], name="core_submission_day_unique")
        ]
        indexes = [models.Index(fields=["company", "day"], name="core_submission_day")]

    def __str__(self) -> str:
        return f"{self.document_type} {self.day}: {self.rejected}/{self.submitted}"
