from django.db import models


class PartyKind(models.TextChoices):
    ORGANISATION = "organisation", "Organisation"
    PERSON = "person", "Person"


class PartyRoleType(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    SUPPLIER = "supplier", "Supplier"
    EMPLOYEE = "employee", "Employee"
    CONTACT = "contact", "Contact"
    APPLICANT = "applicant", "Applicant"


class AddressKind(models.TextChoices):
    MAIN = "main", "Main"
    BILLING = "billing", "Billing"
    SHIPPING = "shipping", "Shipping"


class ContactKind(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    MOBILE = "mobile", "Mobile"
    WEBSITE = "website", "Website"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"
