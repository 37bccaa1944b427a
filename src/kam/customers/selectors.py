"""Permission-checked reads of accounts, contacts and competitor entries.

Every view and API endpoint fetches customer records through these functions;
what a user may not see is a 404, what they may see but not change is a 403.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from kam.customers.models import Account, CompetitorPresence, Contact
from kam.segmentation.selectors import accounts_with_scores
from kam.users import roles
from kam.users.models import User


def accounts_visible_to(user: User, *, include_archived: bool = False) -> QuerySet[Account]:
    """The accounts the user may see, each with its ABC class, scores and CLV of the latest scoring."""
    accounts = accounts_with_scores(Account.objects.all())
    scope = roles.account_scope(user)
    if scope is not None:
        accounts = accounts.filter(scope)
    if not include_archived:
        accounts = accounts.filter(archived=False)
    return accounts


def account_may_edit(user: User, account: Account) -> bool:
    scope = roles.edit_scope(user)
    if scope is None:
        return True
    return Account.objects.filter(scope, pk=account.pk).exists()


def account_get_for_user(user: User, pk: int, *, for_edit: bool = False) -> Account:
    """The account if the user may see it (404 otherwise); 403 if editing is asked and not allowed."""
    try:
        account = (
            accounts_visible_to(user, include_archived=True)
            .select_related("owner", "team", "parent")
            .get(pk=pk)
        )
    except (Account.DoesNotExist, ValueError, TypeError):
        raise Http404("No such account") from None
    if for_edit and not account_may_edit(user, account):
        raise PermissionDenied("You may not change this account")
    return account


def contact_get_for_user(user: User, pk: int, *, for_edit: bool = False) -> Contact:
    try:
        contact = Contact.objects.select_related("account", "reports_to").get(pk=pk)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404("No such contact") from None
    account_get_for_user(user, contact.account_id, for_edit=for_edit)
    return contact


def competitor_presence_get_for_user(
    user: User, pk: int, *, for_edit: bool = False
) -> CompetitorPresence:
    try:
        presence = CompetitorPresence.objects.select_related("account", "competitor").get(pk=pk)
    except (CompetitorPresence.DoesNotExist, ValueError, TypeError):
        raise Http404("No such competitor entry") from None
    account_get_for_user(user, presence.account_id, for_edit=for_edit)
    return presence


@dataclass(frozen=True)
class AccountFilters:
    """What the account list can be searched, filtered and sorted by."""

    q: str = ""
    region: str = ""
    industry: str = ""
    kind: str = ""
    sales_stage: str = ""
    tier: str = ""
    abc_class: str = ""
    owner: int | None = None
    team: int | None = None
    archived: bool = False
    sort: str = "legal_name"


SORTS = {
    "legal_name": "legal_name",
    "-legal_name": "-legal_name",
    "code": "code",
    "-code": "-code",
    "updated": "updated_at",
    "-updated": "-updated_at",
    "tier": "tier",
    "region": "region",
    "-value_score": "-value_score",
    "-clv": "-clv",
}


def account_list(user: User, filters: AccountFilters) -> QuerySet[Account]:
    """Accounts the user may see, searched (Chinese/English name, code, credit code) and filtered."""
    accounts = accounts_visible_to(user, include_archived=filters.archived)
    if filters.archived:
        accounts = accounts.filter(archived=True)
    text = filters.q.strip()
    if text:
        accounts = accounts.filter(
            Q(legal_name__icontains=text)
            | Q(short_name__icontains=text)
            | Q(english_name__icontains=text)
            | Q(code__iexact=text)
            | Q(credit_code__iexact=text.upper())
        )
    for name in ("region", "industry", "kind", "sales_stage", "tier", "abc_class"):
        value = getattr(filters, name)
        if value:
            accounts = accounts.filter(**{name: value})
    if filters.owner:
        accounts = accounts.filter(owner_id=filters.owner)
    if filters.team:
        accounts = accounts.filter(team_id=filters.team)
    order = SORTS.get(filters.sort, "legal_name")
    return accounts.select_related("owner", "team").order_by(order, "pk")


def account_group_tree(account: Account) -> tuple[Account, list[tuple[Account, int]]]:
    """The group's top account and every member below it as (account, depth), depth-first."""
    top = account.ancestors()[-1] if account.parent_id else account
    rows: list[tuple[Account, int]] = []
    level = [top.pk]
    children: dict[int | None, list[Account]] = {}
    seen = {top.pk}
    # Breadth-first by level keeps it to one query per depth of the group.
    while level:
        found = list(
            Account.objects.filter(parent_id__in=level, archived=False).order_by("legal_name")
        )
        level = []
        for child in found:
            if child.pk not in seen:
                seen.add(child.pk)
                children.setdefault(child.parent_id, []).append(child)
                level.append(child.pk)

    def walk(node: Account, depth: int) -> None:
        rows.append((node, depth))
        for child in children.get(node.pk, []):
            walk(child, depth + 1)

    walk(top, 0)
    return top, rows


def contacts_of(account: Account) -> QuerySet[Contact]:
    return account.contacts.filter(archived=False).select_related("reports_to")


def competitor_presences_of(account: Account) -> QuerySet[CompetitorPresence]:
    return account.competitors.filter(archived=False).select_related("competitor")
