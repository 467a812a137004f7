"""The task inbox's API schemas."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Schema

from keel.api.schemas import ApiDate, FilterSchema, InputSchema


class TaskOut(Schema):
    id: int
    company: str
    title: str
    description: str
    status: str
    assignee: str | None
    assignee_role: str | None
    due_date: dt.date | None
    is_overdue: bool
    subject_type: str
    subject_id: str
    subject_repr: str
    source: str
    created_at: dt.datetime
    completed_at: dt.datetime | None

    @staticmethod
    def resolve_company(obj) -> str:
        return obj.company.code

    @staticmethod
    def resolve_assignee(obj) -> str | None:
        return obj.assignee.username if obj.assignee_id else None

    @staticmethod
    def resolve_assignee_role(obj) -> str | None:
        return obj.assignee_role.code if obj.assignee_role_id else None

    @staticmethod
    def resolve_is_overdue(obj) -> bool:
        return obj.is_overdue(timezone.localdate())


class TaskFilters(FilterSchema):
    status: Literal["open", "done", "cancelled", "any"] = "open"


class TaskCreateIn(InputSchema):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=5000)] = ""
    assignee: Annotated[str, Field(min_length=1, max_length=150)] | None = Field(
        None, description="The assignee's username (email); or give assignee_role."
    )
    assignee_role: Annotated[str, Field(min_length=1, max_length=50)] | None = Field(
        None, description="The code of the role whose holders may work on it."
    )
    due_date: ApiDate | None = None
    subject_type: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    subject_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class TaskAssignIn(InputSchema):
    assignee: Annotated[str, Field(min_length=1, max_length=150)] | None = None
    assignee_role: Annotated[str, Field(min_length=1, max_length=50)] | None = None
