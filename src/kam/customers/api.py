"""JSON API for accounts, contacts and competitor entries (same permission checks as the UI)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate
from pydantic import field_validator

from kam.core.http import AuthenticatedHttpRequest
from kam.customers import selectors, services
from kam.customers.models import (
    Account,
    AccountKind,
    AccountStatus,
    Attitude,
    BuyingRole,
    CompanySize,
    CompetitorPresence,
    Contact,
    CooperationDepth,
    CooperationDomain,
    FinancialHealth,
    Industry,
    ProjectType,
    Region,
    SalesStage,
)
from kam.users.models import Team, User

router = Router(tags=["customers"])


class AccountOut(Schema):
    id: int
    code: str
    legal_name: str
    short_name: str
    english_name: str
    credit_code: str
    industry: str
    region: str
    province: str
    city: str
    size: str
    employees: int | None
    parent_id: int | None
    kind: str
    cooperation_domain: str
    cooperation_depth: str
    project_type: str
    sales_stage: str
    owner_id: int | None
    team_id: int | None
    status: str
    archived: bool
    tier: str
    abc_class: str
    value_score: float | None
    potential_score: float | None
    clv: float | None
    scored_at: datetime | None
    wallet_size: Decimal | None
    website: str
    address: str
    business_description: str
    financial_health: str
    goals: str
    created_at: datetime
    updated_at: datetime


class AccountIn(Schema):
    """Fields to create an account; `code` and `legal_name` are required."""

    code: str = Field(..., max_length=32)
    legal_name: str = Field(..., max_length=200)
    short_name: str = Field("", max_length=100)
    english_name: str = Field("", max_length=200)
    credit_code: str = Field("", max_length=18)
    industry: Industry | None = None
    region: Region | None = None
    province: str = Field("", max_length=50)
    city: str = Field("", max_length=50)
    size: CompanySize | None = None
    employees: int | None = Field(None, ge=0)
    parent_id: int | None = None
    kind: AccountKind | None = None
    cooperation_domain: CooperationDomain | None = None
    cooperation_depth: CooperationDepth | None = None
    project_type: ProjectType | None = None
    sales_stage: SalesStage = SalesStage.TO_IDENTIFY
    owner_id: int | None = None
    team_id: int | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    wallet_size: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    website: str = Field("", max_length=200)
    address: str = Field("", max_length=300)
    business_description: str = Field("", max_length=5000)
    financial_health: FinancialHealth = FinancialHealth.UNKNOWN
    goals: str = Field("", max_length=5000)


class AccountPatch(Schema):
    """Fields to change; leave out what stays as it is."""

    code: str | None = Field(None, max_length=32)
    legal_name: str | None = Field(None, max_length=200)
    short_name: str | None = Field(None, max_length=100)
    english_name: str | None = Field(None, max_length=200)
    credit_code: str | None = Field(None, max_length=18)
    industry: Industry | None = None
    region: Region | None = None
    province: str | None = Field(None, max_length=50)
    city: str | None = Field(None, max_length=50)
    size: CompanySize | None = None
    employees: int | None = Field(None, ge=0)
    parent_id: int | None = None
    kind: AccountKind | None = None
    cooperation_domain: CooperationDomain | None = None
    cooperation_depth: CooperationDepth | None = None
    project_type: ProjectType | None = None
    sales_stage: SalesStage | None = None
    owner_id: int | None = None
    team_id: int | None = None
    status: AccountStatus | None = None
    wallet_size: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    website: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)
    business_description: str | None = Field(None, max_length=5000)
    financial_health: FinancialHealth | None = None
    goals: str | None = Field(None, max_length=5000)


class AccountFilterQuery(FilterSchema):
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


def _resolve_account_refs(user: User, payload: dict[str, Any]) -> dict[str, Any]:
    """Turn *_id references into records the user may see; unknown ids are field errors."""
    data: dict[str, Any] = {}
    for name, value in payload.items():
        if name == "parent_id":
            if value is None:
                data["parent"] = None
                continue
            parent = selectors.accounts_visible_to(user).filter(pk=value).first()
            if parent is None:
                raise ValidationError({"parent_id": f"No account with id {value}."})
            data["parent"] = parent
        elif name == "owner_id":
            owner = None if value is None else User.objects.filter(pk=value, is_active=True).first()
            if value is not None and owner is None:
                raise ValidationError({"owner_id": f"No active user with id {value}."})
            data["owner"] = owner
        elif name == "team_id":
            team = None if value is None else Team.objects.filter(pk=value).first()
            if value is not None and team is None:
                raise ValidationError({"team_id": f"No team with id {value}."})
            data["team"] = team
        else:
            data[name] = _blank_if_text(Account, name, value)
    return data


def _blank_if_text(model: type[models.Model], name: str, value: Any) -> Any:
    """Text fields store "nothing" as an empty string, numbers and dates as NULL."""
    is_text = isinstance(model._meta.get_field(name), (models.CharField, models.TextField))
    return "" if value is None and is_text else value


@router.get("/accounts", response=list[AccountOut], summary="List accounts")
@paginate(PageNumberPagination, page_size=50)
def accounts_list(request: AuthenticatedHttpRequest, filters: Query[AccountFilterQuery]) -> Any:
    return selectors.account_list(request.user, selectors.AccountFilters(**filters.dict()))


@router.get("/accounts/{account_id}", response=AccountOut, summary="Get one account")
def accounts_get(request: AuthenticatedHttpRequest, account_id: int) -> Account:
    return selectors.account_get_for_user(request.user, account_id)


@router.post("/accounts", response={201: AccountOut}, summary="Create an account")
def accounts_create(request: AuthenticatedHttpRequest, payload: AccountIn) -> Status:
    data = _resolve_account_refs(request.user, payload.dict())
    account = services.account_create(actor=request.user, data=data)
    return Status(201, _read_back(request, account))


@router.patch("/accounts/{account_id}", response=AccountOut, summary="Update an account")
def accounts_update(
    request: AuthenticatedHttpRequest, account_id: int, payload: AccountPatch
) -> Account:
    account = selectors.account_get_for_user(request.user, account_id, for_edit=True)
    data = _resolve_account_refs(request.user, payload.dict(exclude_unset=True))
    return _read_back(
        request, services.account_update(actor=request.user, account=account, data=data)
    )


@router.post("/accounts/{account_id}/archive", response=AccountOut, summary="Archive an account")
def accounts_archive(request: AuthenticatedHttpRequest, account_id: int) -> Account:
    account = selectors.account_get_for_user(request.user, account_id, for_edit=True)
    return _read_back(request, services.account_archive(actor=request.user, account=account))


def _read_back(request: AuthenticatedHttpRequest, account: Account) -> Account:
    """The written account as the getter reads it: with its scores of the latest run."""
    return selectors.account_get_for_user(request.user, account.pk)


class ContactOut(Schema):
    id: int
    account_id: int
    name: str
    title: str
    department: str
    reports_to_id: int | None
    buying_role: str
    attitude: str
    influence: int
    phone: str
    email: str
    wechat: str
    has_left: bool
    left_on: date | None
    notes: str
    archived: bool


class ContactIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    title: str = Field("", max_length=100)
    department: str = Field("", max_length=100)
    reports_to_id: int | None = None
    buying_role: BuyingRole | None = None
    attitude: Attitude = Attitude.NEUTRAL
    influence: int = Field(3, ge=1, le=5)
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    wechat: str = Field("", max_length=64)
    has_left: bool = False
    left_on: date | None = None
    notes: str = Field("", max_length=2000)


class ContactPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    title: str | None = Field(None, max_length=100)
    department: str | None = Field(None, max_length=100)
    reports_to_id: int | None = None
    buying_role: BuyingRole | None = None
    attitude: Attitude | None = None
    influence: int | None = Field(None, ge=1, le=5)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    wechat: str | None = Field(None, max_length=64)
    has_left: bool | None = None
    left_on: date | None = None
    notes: str | None = Field(None, max_length=2000)


def _resolve_contact_refs(account: Account, payload: dict[str, Any]) -> dict[str, Any]:
    data = {}
    for name, value in payload.items():
        if name == "reports_to_id":
            boss = None if value is None else account.contacts.filter(pk=value).first()
            if value is not None and boss is None:
                raise ValidationError({"reports_to_id": f"No contact {value} at this account."})
            data["reports_to"] = boss
        else:
            data[name] = _blank_if_text(Contact, name, value)
    return data


@router.get("/accounts/{account_id}/contacts", response=list[ContactOut], summary="Contacts")
def contacts_list(request: AuthenticatedHttpRequest, account_id: int) -> Any:
    account = selectors.account_get_for_user(request.user, account_id)
    return list(selectors.contacts_of(account))


@router.post("/accounts/{account_id}/contacts", response={201: ContactOut}, summary="Add a contact")
def contacts_create(
    request: AuthenticatedHttpRequest, account_id: int, payload: ContactIn
) -> Status:
    account = selectors.account_get_for_user(request.user, account_id, for_edit=True)
    data = _resolve_contact_refs(account, payload.dict())
    return Status(201, services.contact_create(actor=request.user, account=account, data=data))


@router.get("/contacts/{contact_id}", response=ContactOut, summary="Get a contact")
def contacts_get(request: AuthenticatedHttpRequest, contact_id: int) -> Contact:
    return selectors.contact_get_for_user(request.user, contact_id)


@router.patch("/contacts/{contact_id}", response=ContactOut, summary="Update a contact")
def contacts_update(
    request: AuthenticatedHttpRequest, contact_id: int, payload: ContactPatch
) -> Contact:
    contact = selectors.contact_get_for_user(request.user, contact_id, for_edit=True)
    data = _resolve_contact_refs(contact.account, payload.dict(exclude_unset=True))
    return services.contact_update(actor=request.user, contact=contact, data=data)


@router.post("/contacts/{contact_id}/archive", response=ContactOut, summary="Archive a contact")
def contacts_archive(request: AuthenticatedHttpRequest, contact_id: int) -> Contact:
    contact = selectors.contact_get_for_user(request.user, contact_id, for_edit=True)
    return services.contact_archive(actor=request.user, contact=contact)


class CompetitorOut(Schema):
    id: int
    account_id: int
    competitor: str = Field(..., alias="competitor.name")
    products: str
    share_of_wallet: Decimal | None
    notes: str
    archived: bool


class CompetitorIn(Schema):
    competitor: str = Field(..., min_length=1, max_length=200)
    products: str = Field("", max_length=300)
    share_of_wallet: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    notes: str = Field("", max_length=2000)

    @field_validator("competitor")
    @classmethod
    def strip(cls, value: str) -> str:
        return value.strip()


class CompetitorPatch(Schema):
    competitor: str | None = Field(None, min_length=1, max_length=200)
    products: str | None = Field(None, max_length=300)
    share_of_wallet: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    notes: str | None = Field(None, max_length=2000)


def _presence_data(payload: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in payload.items()}
    for name in ("products", "notes"):
        if name in data:
            data[name] = _blank_if_text(CompetitorPresence, name, data[name])
    if "competitor" in data:
        data["competitor"] = services.competitor_get_or_create(name=data["competitor"])
    return data


@router.get(
    "/accounts/{account_id}/competitors", response=list[CompetitorOut], summary="Competitors"
)
def competitors_list(request: AuthenticatedHttpRequest, account_id: int) -> Any:
    account = selectors.account_get_for_user(request.user, account_id)
    return list(selectors.competitor_presences_of(account))


@router.post(
    "/accounts/{account_id}/competitors",
    response={201: CompetitorOut},
    summary="Add a competitor at an account",
)
def competitors_create(
    request: AuthenticatedHttpRequest, account_id: int, payload: CompetitorIn
) -> Status:
    account = selectors.account_get_for_user(request.user, account_id, for_edit=True)
    presence = services.competitor_presence_create(
        actor=request.user, account=account, data=_presence_data(payload.dict())
    )
    return Status(201, presence)


@router.get("/competitors/{presence_id}", response=CompetitorOut, summary="Get a competitor entry")
def competitors_get(request: AuthenticatedHttpRequest, presence_id: int) -> CompetitorPresence:
    return selectors.competitor_presence_get_for_user(request.user, presence_id)


@router.patch("/competitors/{presence_id}", response=CompetitorOut, summary="Update")
def competitors_update(
    request: AuthenticatedHttpRequest, presence_id: int, payload: CompetitorPatch
) -> CompetitorPresence:
    presence = selectors.competitor_presence_get_for_user(request.user, presence_id, for_edit=True)
    return services.competitor_presence_update(
        actor=request.user, presence=presence, data=_presence_data(payload.dict(exclude_unset=True))
    )


@router.post("/competitors/{presence_id}/archive", response=CompetitorOut, summary="Archive")
def competitors_archive(request: AuthenticatedHttpRequest, presence_id: int) -> CompetitorPresence:
    presence = selectors.competitor_presence_get_for_user(request.user, presence_id, for_edit=True)
    return services.competitor_presence_archive(actor=request.user, presence=presence)
