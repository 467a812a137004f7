"""The permission catalogue and the roles Keel ships.

Apps add their permissions with `register_permissions` in their AppConfig.ready(); a role
holds patterns (`party.*`, `*.view`) matched against these names. Roles are data: each
company gets copies of DEFAULT_ROLES when it is created, which its administrators adjust.
"""

from __future__ import annotations

_catalogue: dict[str, str] = {}


def register_permissions(permissions: dict[str, str]) -> None:
    _catalogue.update(permissions)


def catalogue() -> dict[str, str]:
    return dict(sorted(_catalogue.items()))


register_permissions(
    {
        "company.view": "See the company's settings",
        "company.manage": "Change the company's settings, numbering and currencies",
        "membership.view": "See who works in the company and their roles",
        "membership.manage": "Add users, change roles and permissions",
        "party.view": "See customers, suppliers and other parties",
        "party.manage": "Create and edit parties",
        "currency.view": "See exchange rates",
        "currency.manage": "Enter exchange rates",
        "activity.view": "See the company's activity log",
        "event.view": "See event deliveries and failures",
        "event.manage": "Retry failed event deliveries",
        "attachment.view": "Download attachments of records one may see",
        "attachment.manage": "Upload and remove attachments",
        "task.view": "See the tasks assigned to you or your role, or created by you",
        "task.manage": "Create tasks; complete, cancel, reopen and hand on your own tasks",
        "task.supervise": "See every task of the company; reassign and complete anyone's",
        "kpi.view": "See the dashboard and KPIs",
        "kpi.manage": "Set KPI targets",
    }
)

# Everyone works their own tasks; supervising everyone's (`task.supervise`) is for owners and
# administrators (`*`) unless a company gives it to a role.
_COMMON = ["task.view", "task.manage", "kpi.view", "attachment.view", "company.view"]

# code -> (name, description, permission patterns)
DEFAULT_ROLES: dict[str, tuple[str, str, list[str]]] = {
    "owner": ("Owner", "Owns the company: everything, including memberships", ["*"]),
    "administrator": ("Administrator", "Runs the company's set-up and users", ["*"]),
    # `ledger.*` does not reach `books.reopen`: reopening a closed period is left to owners
    # and administrators (`*`).
    "accountant": (
        "Accountant",
        "Keeps the books: ledger, taxes, bank, with read access to billing and payables",
        [*_COMMON, "party.*", "ledger.*", "tax.*", "bank.*", "budget.*", "currency.*", "billing.view",
         "payables.view", "payroll.view", "activity.view", "attachment.manage", "membership.view"],
    ),
    "billing_clerk": (
        "Billing clerk", "Issues invoices and follows up receivables",
        [*_COMMON, "party.*", "billing.*", "sales.*", "contracts.view", "currency.view", "attachment.manage"],
    ),
    "payables_clerk": (
        "Payables clerk", "Enters supplier bills and prepares payments",
        [*_COMMON, "party.*", "payables.*", "procurement.view", "currency.view", "attachment.manage"],
    ),
    "hr_manager": (
        "HR manager", "Recruits, onboards and keeps employee records",
        [*_COMMON, "party.*", "hr.*", "payroll.view", "it.view", "attachment.manage", "membership.view"],
    ),
    "payroll_officer": (
        "Payroll officer", "Runs payroll",
        [*_COMMON, "party.view", "hr.view", "payroll.*", "ledger.view", "attachment.manage"],
    ),
    "procurement_officer": (
        "Procurement officer", "Buys from suppliers",
        [*_COMMON, "party.*", "procurement.*", "inventory.view", "payables.view", "attachment.manage"],
    ),
    "warehouse_clerk": (
        "Warehouse clerk", "Receives, moves and ships stock",
        [*_COMMON, "party.view", "inventory.*", "procurement.view", "sales.view"],
    ),
    "support_agent": (
        "Support agent", "Answers and escalates helpdesk tickets",
        [*_COMMON, "party.view", "helpdesk.*", "contracts.view", "attachment.manage"],
    ),
    "employee": ("Employee", "Works their own tasks", ["task.view", "task.manage", "company.view"]),
    "auditor": ("Auditor (read-only)", "Reads everything, changes nothing", ["*.view"]),
}
