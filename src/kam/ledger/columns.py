"""The columns of the account, contact and order files: one list for import, export and templates.

Each column has its canonical English name (what export writes) and the Chinese
header Chinese Excel users type; both are accepted on import, in any order.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import TextChoices
from django.utils import translation
from django.utils.translation import gettext_noop

from kam.customers import models as customer_models
from kam.lib import tabular
from kam.lib.tabular import (
    CellError,
    ColumnSpec,
    Parser,
    choice_parser,
    decimal_parser,
    parse_date,
    parse_int,
)


@dataclass(frozen=True)
class Column:
    """A file column: canonical name, Chinese header, parser; read_only columns are export-only."""

    name: str
    chinese: str
    parser: Parser = tabular.text_parser(200)
    required: bool = False
    aliases: tuple[str, ...] = ()
    read_only: bool = False

    def spec(self) -> ColumnSpec:
        return ColumnSpec(
            self.name, (self.chinese, *self.aliases), required=self.required, parser=self.parser
        )


def amount_parser(max_digits: int, places: int) -> Parser:
    """An exact amount that fits a DecimalField(max_digits, places)."""
    exact = decimal_parser(places)
    limit = Decimal(10) ** (max_digits - places)
    # Plain "1234.50" is nearly every cell of a million-line file: one regex, one Decimal.
    plain = re.compile(rf"-?\d{{1,{max_digits - places}}}(?:\.\d{{1,{places}}})?").fullmatch

    def parse(value: Any) -> Decimal:
        if value.__class__ is str and plain(value):
            return Decimal(value)
        number = exact(value)
        if abs(number) >= limit:
            raise CellError(
                gettext_noop("amount %(value)s is too large (at most %(digits)s digits)"),
                value=number,
                digits=max_digits - places,
            )
        return number

    return parse


def text_parser(max_length: int) -> Parser:
    """tabular.text_parser with a fast path for the usual short string."""
    checked = tabular.text_parser(max_length)

    def parse(value: Any) -> str:
        if value.__class__ is str and len(value) <= max_length:
            return value
        return checked(value)

    return parse


def positive_int_parser(maximum: int = 2_147_483_647) -> Parser:
    def parse(value: Any) -> int:
        number = parse_int(value)
        if not 0 < number <= maximum:
            raise CellError(
                gettext_noop("must be a whole number from 1 to %(maximum)s, not %(value)s"),
                maximum=maximum,
                value=number,
            )
        return number

    return parse


def currency_parser(value: Any) -> str:
    if value == "CNY":
        return value
    text = str(value).strip().upper()
    if text in {"RMB", "人民币", "元"}:
        return "CNY"
    if len(text) != 3 or not text.isascii() or not text.isalpha():
        raise CellError(
            gettext_noop("%(value)s is not a three-letter currency code such as CNY"),
            value=repr(text),
        )
    return text


# Chinese names users type, whatever the interface language's translations say.
CHINESE_CHOICES = {
    "logistics": "物流", "telecom": "通信", "manufacturing": "制造", "finance": "金融",
    "energy": "能源", "retail": "零售批发", "automotive": "汽车", "construction": "建筑",
    "healthcare": "医疗", "technology": "科技", "government": "政府", "education": "教育",
    "media": "媒体", "other": "其他", "east": "华东", "south": "华南", "north": "华北",
    "northeast": "东北", "southwest": "西南", "northwest": "西北", "central": "华中",
    "overseas": "海外", "economic": "经济大客户", "important": "重要客户", "group": "集团客户",
    "strategic": "战略客户", "to_identify": "待识别", "potential": "潜在客户",
    "opportunity": "销售机会", "order": "订单客户", "customer": "成交客户",
    "decision_maker": "决策者", "influencer": "影响者", "user": "使用者",
    "technical_evaluator": "技术评估者", "gatekeeper": "把关者", "sponsor": "支持者",
    "supporter": "支持", "neutral": "中立", "opponent": "反对",
}  # fmt: skip


def choices_parser(choices: type[TextChoices]) -> Parser:
    """A choice by its stored value, its English or Chinese label, or its usual Chinese name."""
    options: dict[str, str] = {}
    for value, label in choices.choices:
        options[value] = value
        if value in CHINESE_CHOICES:
            options.setdefault(CHINESE_CHOICES[value], value)
        with translation.override("en"):
            options[str(label)] = value
        with translation.override("zh-hans"):
            options[str(label)] = value
    return choice_parser(options)


BOOLEAN = choice_parser(
    {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False,
     "是": True, "否": False, "y": True, "n": False}
)  # fmt: skip


ORDER_COLUMNS = [
    Column("account_code", "客户编号", text_parser(32), required=True, aliases=("客户代码",)),
    Column("account_name", "客户名称", text_parser(200)),
    Column("order_no", "订单号", text_parser(64), required=True, aliases=("单号", "发票号")),
    Column("line_no", "行号", positive_int_parser()),
    Column("order_date", "日期", parse_date, required=True, aliases=("订单日期", "下单日期")),
    Column("product_code", "产品编码", text_parser(64), aliases=("产品代码", "物料编码")),
    Column("product_name", "产品名称", text_parser(200)),
    Column("category", "产品类别", text_parser(100), aliases=("类别",)),
    Column("quantity", "数量", amount_parser(18, 4)),
    Column("revenue", "金额", amount_parser(18, 2), required=True, aliases=("收入", "销售额")),
    Column("cost", "成本", amount_parser(18, 2)),
    Column("currency", "币种", currency_parser),
    Column("channel", "渠道", text_parser(50)),
    Column("sales_rep", "销售代表", text_parser(100), aliases=("业务员",)),
    Column("credit_for_order_no", "原订单号", text_parser(64)),
]

ACCOUNT_COLUMNS = [
    Column("code", "客户编号", text_parser(32), required=True, aliases=("account_code",)),
    Column("legal_name", "客户名称", text_parser(200), required=True),
    Column("short_name", "简称", text_parser(100)),
    Column("english_name", "英文名称", text_parser(200)),
    Column("credit_code", "统一社会信用代码", text_parser(18)),
    Column("industry", "行业", choices_parser(customer_models.Industry)),
    Column("region", "区域", choices_parser(customer_models.Region)),
    Column("province", "省份", text_parser(50)),
    Column("city", "城市", text_parser(50)),
    Column("size", "规模", choices_parser(customer_models.CompanySize)),
    Column("employees", "员工人数", parse_int),
    Column("parent_code", "上级客户编号", text_parser(32)),
    Column("kind", "客户类型", choices_parser(customer_models.AccountKind)),
    Column("cooperation_domain", "合作领域", choices_parser(customer_models.CooperationDomain)),
    Column("cooperation_depth", "合作程度", choices_parser(customer_models.CooperationDepth)),
    Column("project_type", "项目类型", choices_parser(customer_models.ProjectType)),
    Column("sales_stage", "销售阶段", choices_parser(customer_models.SalesStage)),
    Column("owner", "客户经理", text_parser(150)),
    Column("team", "团队", text_parser(100)),
    Column("status", "状态", choices_parser(customer_models.AccountStatus)),
    Column("wallet_size", "品类年采购额", amount_parser(18, 2)),
    Column("website", "网址", text_parser(200)),
    Column("address", "地址", text_parser(300)),
    Column("business_description", "业务描述", text_parser(5000)),
    Column("financial_health", "财务状况", choices_parser(customer_models.FinancialHealth)),
    Column("goals", "目标", text_parser(5000)),
    # Written by scoring; exported for reading, ignored on import.
    Column("tier", "等级", read_only=True),
    Column("abc_class", "ABC分类", read_only=True),
    Column("value_score", "价值评分", read_only=True),
    Column("potential_score", "潜力评分", read_only=True),
    Column("clv", "客户终身价值", read_only=True),
]

CONTACT_COLUMNS = [
    Column("account_code", "客户编号", text_parser(32), required=True),
    Column("name", "姓名", text_parser(100), required=True),
    Column("title", "职务", text_parser(100)),
    Column("department", "部门", text_parser(100)),
    Column("reports_to", "上级", text_parser(100)),
    Column("buying_role", "采购角色", choices_parser(customer_models.BuyingRole)),
    Column("attitude", "态度", choices_parser(customer_models.Attitude)),
    Column("influence", "影响力", positive_int_parser(5)),
    Column("phone", "电话", text_parser(40)),
    Column("email", "邮箱", text_parser(254)),
    Column("wechat", "微信", text_parser(64)),
    Column("has_left", "已离职", BOOLEAN),
    Column("left_on", "离职日期", parse_date),
    Column("notes", "备注", text_parser(2000)),
]

COLUMNS = {"accounts": ACCOUNT_COLUMNS, "contacts": CONTACT_COLUMNS, "orders": ORDER_COLUMNS}


def import_specs(kind: str) -> list[ColumnSpec]:
    return [column.spec() for column in COLUMNS[kind] if not column.read_only]


def headers(kind: str, *, chinese: bool = False) -> list[str]:
    return [column.chinese if chinese else column.name for column in COLUMNS[kind]]
