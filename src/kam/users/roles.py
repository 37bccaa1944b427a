"""The one place that decides who may see and change which accounts.

Every HTML view, API endpoint and CLI path reaches accounts through
`kam.customers.selectors`, which asks this module for the user's scope.
"""

from django.db.models import Q

from kam.users.models import Role, User

SEE_ALL_ROLES = {
    Role.ADMINISTRATOR,
    Role.DIRECTOR,
    Role.SERVICE_MANAGER,
    Role.SERVICE_AGENT,
    Role.READ_ONLY,
}
EDIT_ALL_ROLES = {Role.ADMINISTRATOR, Role.DIRECTOR}


def sees_all_accounts(user: User) -> bool:
    return user.is_superuser or user.role in SEE_ALL_ROLES


def edits_all_accounts(user: User) -> bool:
    return user.is_superuser or user.role in EDIT_ALL_ROLES


def may_edit_customers(user: User) -> bool:
    """Whether the user may edit any account at all (their own portfolio at least)."""
    return edits_all_accounts(user) or user.role == Role.ACCOUNT_MANAGER


def is_director(user: User) -> bool:
    return user.is_superuser or user.role in {Role.DIRECTOR, Role.ADMINISTRATOR}


def is_service_manager(user: User) -> bool:
    return is_director(user) or user.role == Role.SERVICE_MANAGER


def portfolio_filter(user: User, prefix: str = "") -> Q:
    """Q selecting the accounts in an account manager's portfolio (and their team's if lead).

    `prefix` lets other apps filter related rows, e.g. prefix="account__" on tickets.
    """
    condition = Q(**{f"{prefix}owner": user})
    led_team_ids = list(user.led_teams.values_list("id", flat=True))
    if led_team_ids:
        condition |= Q(**{f"{prefix}team__in": led_team_ids})
    return condition


def account_scope(user: User, prefix: str = "") -> Q | None:
    """Q of accounts the user may see, or None when they may see all."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if sees_all_accounts(user):
        return None
    return portfolio_filter(user, prefix)


def edit_scope(user: User, prefix: str = "") -> Q | None:
    """Q of accounts the user may change, or None when they may change all."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if edits_all_accounts(user):
        return None
    if user.role == Role.ACCOUNT_MANAGER:
        return portfolio_filter(user, prefix)
    return Q(pk__in=[])
