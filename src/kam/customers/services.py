"""Writes to the customer master. Each validates, saves and audits in one transaction."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.audit.models import Action
from kam.audit.services import audit_record, changes_between, snapshot
from kam.customers.models import Account, Competitor, CompetitorPresence, Contact
from kam.customers.selectors import account_may_edit
from kam.users import roles
from kam.users.models import User

ACCOUNT_FIELDS = (
    "code", "legal_name", "short_name", "english_name", "credit_code", "industry", "region",
    "province", "city", "size", "employees", "parent", "kind", "cooperation_domain",
    "cooperation_depth", "project_type", "sales_stage", "owner", "team", "status", "tier",
    "wallet_size", "website", "address", "business_description",
    "financial_health", "goals",
)  # fmt: skip
CONTACT_FIELDS = (
    "name", "title", "department", "reports_to", "buying_role", "attitude", "influence",
    "phone", "email", "wechat", "has_left", "left_on", "notes",
)  # fmt: skip
PRESENCE_FIELDS = ("competitor", "products", "share_of_wallet", "notes")


def _assign(instance: models.Model, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(instance, name, value)


def _save_checked(instance: models.Model) -> None:
    """full_clean then save; a race on a unique value still becomes a field error."""
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError(
            _("This record conflicts with an existing one: %s") % error
        ) from error


def _audit_created(actor: User, instance: models.Model, account: Account, fields: tuple) -> None:
    changes = changes_between({}, snapshot(instance, fields))
    audit_record(
        actor=actor, action=Action.CREATE, instance=instance, account=account, changes=changes
    )


def _audit_updated(
    actor: User, instance: models.Model, account: Account, before: dict, fields: tuple
) -> None:
    """Audit the fields that changed since `before` (nothing when nothing changed)."""
    changes = changes_between(before, snapshot(instance, fields))
    if changes:
        audit_record(
            actor=actor, action=Action.UPDATE, instance=instance, account=account, changes=changes
        )


def _archive(actor: User, instance: Any, account: Account) -> bool:
    """Mark a record archived (kept, never deleted) and audit it; False if it already was."""
    if instance.archived:
        return False
    instance.archived = True
    instance.save(update_fields=["archived", "updated_at"])
    audit_record(
        actor=actor,
        action=Action.ARCHIVE,
        instance=instance,
        account=account,
        changes={"archived": [False, True]},
    )
    return True


def _check_parent(account: Account) -> None:
    """A group hierarchy has no cycles: the parent may not be the account or below it."""
    node = account.parent
    seen: set[int] = set()
    while node is not None:
        if node.pk == account.pk and account.pk is not None:
            raise ValidationError({"parent": _("An account cannot be its own parent or ancestor.")})
        if node.pk in seen:
            break
        seen.add(node.pk)
        node = node.parent


def _normalize_account(account: Account) -> None:
    account.credit_code = (account.credit_code or "").strip().upper()
    if (
        account.credit_code
        and Account.objects.filter(credit_code=account.credit_code).exclude(pk=account.pk).exists()
    ):
        raise ValidationError({"credit_code": _("Another account already has this credit code.")})
    # team_id first: the owner is only fetched when the team is missing.
    if not account.team_id and account.owner is not None:
        account.team_id = account.owner.team_id
    _check_parent(account)


def _check_may_edit(actor: User, account: Account) -> None:
    if account.pk is None:
        if not roles.may_edit_customers(actor):
            raise ValidationError(_("You may not create accounts."))
        return
    if not account_may_edit(actor, account):
        raise ValidationError(_("You may not change this account."))


@transaction.atomic
def account_create(*, actor: User, data: Mapping[str, Any]) -> Account:
    account = Account()
    _assign(account, data, ACCOUNT_FIELDS)
    if roles.account_scope(actor) is not None and account.owner_id is None:
        account.owner = actor  # an account manager creates into their own portfolio
    _check_may_edit(actor, account)
    _normalize_account(account)
    _save_checked(account)
    if not account_may_edit(actor, account):
        raise ValidationError({"owner": _("You may only create accounts in your own portfolio.")})
    _audit_created(actor, account, account, ACCOUNT_FIELDS)
    return account


@transaction.atomic
def account_update(*, actor: User, account: Account, data: Mapping[str, Any]) -> Account:
    account = Account.objects.select_for_update().get(pk=account.pk)
    _check_may_edit(actor, account)
    before = snapshot(account, ACCOUNT_FIELDS)
    _assign(account, data, ACCOUNT_FIELDS)
    _normalize_account(account)
    _save_checked(account)
    if not account_may_edit(actor, account):
        raise ValidationError({"owner": _("You may not move an account out of your portfolio.")})
    _audit_updated(actor, account, account, before, ACCOUNT_FIELDS)
    return account


@transaction.atomic
def account_archive(*, actor: User, account: Account, archived: bool = True) -> Account:
    """Archive (or restore) an account; accounts are never deleted from the UI."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    _check_may_edit(actor, account)
    if account.archived == archived:
        return account
    account.archived = archived
    account.save(update_fields=["archived", "updated_at"])
    audit_record(
        actor=actor,
        action=Action.ARCHIVE if archived else Action.RESTORE,
        instance=account,
        account=account,
        changes={"archived": [not archived, archived]},
    )
    return account


def _check_reports_to(contact: Contact) -> None:
    boss = contact.reports_to
    if boss is None:
        return
    if boss.account_id != contact.account_id:
        raise ValidationError({"reports_to": _("The manager must work at the same account.")})
    seen: set[int] = set()
    while boss is not None:
        if contact.pk is not None and boss.pk == contact.pk:
            raise ValidationError({"reports_to": _("This would make a reporting cycle.")})
        if boss.pk in seen:
            break
        seen.add(boss.pk)
        boss = boss.reports_to


@transaction.atomic
def contact_create(*, actor: User, account: Account, data: Mapping[str, Any]) -> Contact:
    _check_may_edit(actor, account)
    contact = Contact(account=account)
    _assign(contact, data, CONTACT_FIELDS)
    _check_reports_to(contact)
    _save_checked(contact)
    _audit_created(actor, contact, account, CONTACT_FIELDS)
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, data: Mapping[str, Any]) -> Contact:
    contact = Contact.objects.select_for_update().select_related("account").get(pk=contact.pk)
    _check_may_edit(actor, contact.account)
    before = snapshot(contact, CONTACT_FIELDS)
    _assign(contact, data, CONTACT_FIELDS)
    if contact.has_left and contact.left_on is None:
        contact.left_on = timezone.localdate()
    _check_reports_to(contact)
    _save_checked(contact)
    _audit_updated(actor, contact, contact.account, before, CONTACT_FIELDS)
    return contact


@transaction.atomic
def contact_archive(*, actor: User, contact: Contact) -> Contact:
    contact = Contact.objects.select_for_update().select_related("account").get(pk=contact.pk)
    _check_may_edit(actor, contact.account)
    if _archive(actor, contact, contact.account):
        Contact.objects.filter(reports_to=contact).update(reports_to=None)
    return contact


def competitor_get_or_create(*, name: str) -> Competitor:
    clean = name.strip()
    if not clean:
        raise ValidationError({"competitor": _("Name the competitor.")})
    if len(clean) > 200:
        raise ValidationError({"competitor": _("At most 200 characters.")})
    competitor, _created = Competitor.objects.get_or_create(name=clean)
    return competitor


@transaction.atomic
def competitor_presence_create(
    *, actor: User, account: Account, data: Mapping[str, Any]
) -> CompetitorPresence:
    _check_may_edit(actor, account)
    presence = CompetitorPresence(account=account)
    _assign(presence, data, PRESENCE_FIELDS)
    if (
        presence.competitor_id
        and CompetitorPresence.objects.filter(
            account=account, competitor=presence.competitor, archived=False
        ).exists()
    ):
        raise ValidationError({"competitor": _("This competitor is already listed here.")})
    _save_checked(presence)
    _audit_created(actor, presence, account, PRESENCE_FIELDS)
    return presence


@transaction.atomic
def competitor_presence_update(
    *, actor: User, presence: CompetitorPresence, data: Mapping[str, Any]
) -> CompetitorPresence:
    presence = (
        CompetitorPresence.objects.select_for_update().select_related("account").get(pk=presence.pk)
    )
    _check_may_edit(actor, presence.account)
    before = snapshot(presence, PRESENCE_FIELDS)
    _assign(presence, data, PRESENCE_FIELDS)
    _save_checked(presence)
    _audit_updated(actor, presence, presence.account, before, PRESENCE_FIELDS)
    return presence


@transaction.atomic
def competitor_presence_archive(*, actor: User, presence: CompetitorPresence) -> CompetitorPresence:
    presence = (
        CompetitorPresence.objects.select_for_update().select_related("account").get(pk=presence.pk)
    )
    _check_may_edit(actor, presence.account)
    _archive(actor, presence, presence.account)
    return presence
