from keel.core.models.access import Membership, Role
from keel.core.models.activity import Activity, ActivityChainHead, EventDelivery
from keel.core.models.attachment import Attachment
from keel.core.models.base import CompanyOwned, CompanyQuerySet
from keel.core.models.company import Company
from keel.core.models.currency import Currency, ExchangeRate
from keel.core.models.numbering import NumberSequence, SequenceCounter
from keel.core.models.party import Address, ContactPoint, Party, PartyRole
from keel.core.models.submission import SubmissionCount

__all__ = [
    "Activity", "ActivityChainHead", "Address", "Attachment", "Company", "CompanyOwned",
    "CompanyQuerySet", "ContactPoint", "Currency", "EventDelivery", "ExchangeRate",
    "Membership", "NumberSequence", "Party", "PartyRole", "Role", "SequenceCounter",
    "SubmissionCount",
]
