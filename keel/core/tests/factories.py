"""Factories for the core's records; other apps' tests build on these."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from keel.core.access import forget
from keel.core.models import Company, Membership, Role
from keel.core.numbering import ensure_default_sequences
from keel.core.services.companies import create_default_roles

DEFAULT_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda u: u.username)
    password = factory.django.Password(DEFAULT_PASSWORD)


class CompanyFactory(factory.django.DjangoModelFactory):
    """A company with Keel's default roles and number sequences, as create_company makes it."""

    class Meta:
        model = Company
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"co{n}")
    legal_name = factory.Sequence(lambda n: f"Company {n} Ltd")
    country = "GB"
    base_currency_id = "EUR"
    fiscal_year_start_month = 1

    @factory.post_generation
    def setup(obj, create, extracted, **kwargs):
        if create:
            create_default_roles(obj)
            ensure_default_sequences(obj)


def member(company: Company, role_code: str = "owner", user=None, **user_kwargs):
    """A user with `role_code` in `company` (created when not given)."""
    user = user or UserFactory(**user_kwargs)
    role = Role.objects.get(company=company, code=role_code)
    Membership.objects.update_or_create(company=company, user=user, defaults={"role": role, "is_active": True})
    forget(user)
    return user
