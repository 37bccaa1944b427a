"""API endpoints of this app (registered under /api/ledger/ in kam.api)."""

from datetime import date
from decimal import Decimal
from typing import Any

from ninja import Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from kam.core.http import AuthenticatedHttpRequest
from kam.customers.selectors import account_get_for_user
from kam.ledger import selectors

router = Router(tags=["ledger"])


class OrderLineOut(Schema):
    id: int
    order_no: str
    line_no: int
    order_date: date
    product_code: str | None
    product_name: str | None
    quantity: Decimal
    revenue: Decimal
    cost: Decimal | None
    margin: Decimal | None
    currency: str
    channel: str
    sales_rep: str
    credit_for_order_no: str

    @staticmethod
    def resolve_product_code(line: Any) -> str | None:
        return line.product.code if line.product else None

    @staticmethod
    def resolve_product_name(line: Any) -> str | None:
        return line.product.name if line.product else None


class MonthOut(Schema):
    month: str
    revenue: Decimal
    cost: Decimal | None
    margin: Decimal | None


class DateRange(Schema):
    date_from: date | None = None
    date_to: date | None = None


@router.get("/accounts/{account_id}/orders", response=list[OrderLineOut], summary="Order lines")
@paginate(PageNumberPagination, page_size=50)
def account_orders(
    request: AuthenticatedHttpRequest, account_id: int, dates: Query[DateRange]
) -> Any:
    account = account_get_for_user(request.user, account_id)
    return selectors.order_lines_of(account, date_from=dates.date_from, date_to=dates.date_to)


@router.get("/accounts/{account_id}/monthly", response=list[MonthOut], summary="Monthly totals")
def account_monthly(
    request: AuthenticatedHttpRequest, account_id: int, months: int | None = None
) -> Any:
    """Revenue, cost and gross margin per month (margin over lines that have a cost)."""
    account = account_get_for_user(request.user, account_id)
    return selectors.monthly_totals(account, months=months)
