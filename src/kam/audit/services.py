"""Recording audit entries. Every write service calls `audit_record` in its transaction."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db import models

from kam.audit.models import Action, AuditEntry


def _plain(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Values of the given fields, with foreign keys as their display text."""
    values: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        raw = getattr(instance, name)
        if isinstance(field, models.ForeignKey) or raw is None:
            values[name] = _plain(raw)
            continue
        value = cast(models.Field, field).to_python(raw)  # the names are concrete fields
        if isinstance(field, models.DecimalField):
            # Same text before and after a save: 25 and 25.00 are one value.
            value = value.quantize(Decimal(1).scaleb(-field.decimal_places))
        values[name] = _plain(value)
    return values


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field whose value differs."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def _entry(
    actor: Any,
    action: str,
    instance: models.Model,
    account: Any,
    changes: dict[str, list[Any]] | None,
    message: str,
) -> AuditEntry:
    """An unsaved entry; the actor only when it is a signed-in user."""
    return AuditEntry(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        account=account,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        changes=changes or {},
        message=message[:500],
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    account: Any = None,
    changes: dict[str, list[Any]] | None = None,
    message: str = "",
) -> AuditEntry:
    """Store one audit entry for `instance` (call inside the write's transaction)."""
    entry = _entry(actor, action, instance, account, changes, message)
    entry.save(force_insert=True)
    return entry


def audit_records_bulk(
    *,
    actor: Any,
    action: str,
    entries: Iterable[tuple[models.Model, Any, dict[str, list[Any]], str]],
) -> int:
    """Store many entries at once: (instance, account, changes, message) each.

    For set-based writes (thousands of records in one statement); the entries are the
    same as ``audit_record`` would store one by one.
    """
    created = AuditEntry.objects.bulk_create(
        _entry(actor, action, instance, account, changes, message)
        for instance, account, changes, message in entries
    )
    return len(created)


__all__ = ["Action", "audit_record", "audit_records_bulk", "changes_between", "snapshot"]
