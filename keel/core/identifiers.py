"""Validation of tax and registration identifiers with python-stdnum, by country."""

from __future__ import annotations

import importlib

import pycountry
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from keel.core.exceptions import ValidationFailed

# Company registration numbers where stdnum knows the national format.
_REGISTRATION_MODULES = {
    "AU": "stdnum.au.acn", "BR": "stdnum.br.cnpj", "DE": "stdnum.de.handelsregisternummer",
    "DK": "stdnum.dk.cvr", "EE": "stdnum.ee.registrikood", "FR": "stdnum.fr.siren",
    "IN": "stdnum.in_.pan", "NZ": "stdnum.nz.ird", "US": "stdnum.us.ein", "PL": "stdnum.pl.regon",
}


def validate_country(code: str, *, field: str = "country") -> str:
    code = (code or "").strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValidationFailed(f"'{code}' is not an ISO 3166 country code.", code="country.unknown", field=field)
    return code


def _tax_module(country: str):
    return get_cc_module(country.lower(), "vat") or get_cc_module(country.lower(), "tin")


def validate_tax_id(value: str, country: str, *, field: str = "tax_id") -> str:
    """Return the compact form of a valid tax identifier; raise naming the field otherwise.

    A number with an EU country prefix (DE..., FR...) is checked as an EU VAT number; other
    numbers with the rules of `country`. Countries stdnum does not know accept any value.
    """
    value = (value or "").strip()
    if not value:
        return ""
    prefix = value[:2].upper()
    try:
        if prefix.isalpha() and prefix in {c.upper() for c in eu_vat.MEMBER_STATES} | {"EL"}:
            return eu_vat.validate(value)
        module = _tax_module(country) if country else None
        if module is None:
            return value
        return module.validate(value)
    except StdnumError as exc:
        raise ValidationFailed(
            f"'{value}' is not a valid tax identifier for {country or prefix}: {exc}.",
            code="tax_id.invalid",
            field=field,
        )


def validate_registration_number(value: str, country: str, *, field: str = "registration_number") -> str:
    value = (value or "").strip()
    if not value or country.upper() not in _REGISTRATION_MODULES:
        return value
    module = importlib.import_module(_REGISTRATION_MODULES[country.upper()])
    try:
        return module.validate(value)
    except StdnumError as exc:
        raise ValidationFailed(
            f"'{value}' is not a valid registration number for {country}: {exc}.",
            code="registration_number.invalid",
            field=field,
        )
