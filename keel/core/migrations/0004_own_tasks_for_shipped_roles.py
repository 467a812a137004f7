"""Shipped roles other than owner and administrator held `task.*`, which now also matches
`task.supervise` (see and reassign everyone's tasks). They get what they were meant to have:
their own tasks (`task.view`, `task.manage`). Roles a company made itself keep their patterns."""

from django.db import migrations

SHIPPED = {"accountant", "billing_clerk", "payables_clerk", "hr_manager", "payroll_officer",
           "procurement_officer", "warehouse_clerk", "support_agent", "employee"}


def own_tasks(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.filter(is_system=True, code__in=SHIPPED):
        if "task.*" in role.permissions:
            kept = [p for p in role.permissions if p != "task.*"]
            role.permissions = sorted({*kept, "task.view", "task.manage"})
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("core", "0003_activity_hash_version")]
    operations = [migrations.RunPython(own_tasks, migrations.RunPython.noop)]
