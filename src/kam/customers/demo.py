"""Deterministic demo portfolio: users for every role, teams, accounts, contacts, competitors.

Account "weights" follow a heavy-tailed (Pareto) law, so the 80/20 pattern appears once
the ledger demo turns them into orders.
"""

import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from kam.audit.models import Action, AuditEntry
from kam.customers.models import (
    Account,
    AccountKind,
    Attitude,
    BuyingRole,
    CompanySize,
    Competitor,
    CompetitorPresence,
    Contact,
    CooperationDepth,
    CooperationDomain,
    Industry,
    ProjectType,
    Region,
    SalesStage,
)
from kam.lib.credit_code import ALPHABET, check_character
from kam.users.models import Role, Team, User

DEMO_PASSWORD = "kam-demo-2026"

CITIES = {
    Region.EAST: [("上海", "上海"), ("江苏", "南京"), ("江苏", "苏州"), ("浙江", "杭州"), ("浙江", "宁波"), ("山东", "青岛"), ("福建", "厦门")],
    Region.SOUTH: [("广东", "深圳"), ("广东", "广州"), ("广东", "东莞"), ("广西", "南宁"), ("海南", "海口")],
    Region.NORTH: [("北京", "北京"), ("天津", "天津"), ("河北", "石家庄"), ("山西", "太原")],
    Region.NORTHEAST: [("辽宁", "沈阳"), ("辽宁", "大连"), ("吉林", "长春"), ("黑龙江", "哈尔滨")],
    Region.SOUTHWEST: [("四川", "成都"), ("重庆", "重庆"), ("云南", "昆明"), ("贵州", "贵阳")],
    Region.NORTHWEST: [("陕西", "西安"), ("甘肃", "兰州"), ("新疆", "乌鲁木齐")],
    Region.CENTRAL: [("湖北", "武汉"), ("湖南", "长沙"), ("河南", "郑州"), ("江西", "南昌")],
}  # fmt: skip
REGION_WEIGHTS = {
    Region.EAST: 30, Region.SOUTH: 22, Region.NORTH: 18, Region.CENTRAL: 10,
    Region.SOUTHWEST: 9, Region.NORTHEAST: 5, Region.NORTHWEST: 3, Region.OVERSEAS: 3,
}  # fmt: skip
CORE_WORDS = [
    "华信",
    "东方",
    "中联",
    "恒通",
    "远航",
    "汇丰",
    "鼎盛",
    "瑞达",
    "金桥",
    "海润",
    "天宇",
    "新纪元",
    "博远",
    "宏图",
    "长城",
    "江南",
    "星河",
    "卓越",
    "同创",
    "安泰",
    "顺达",
    "锦程",
    "凯旋",
    "盛世",
    "联泰",
    "正大",
    "永新",
    "华夏",
    "创远",
    "明珠",
]
INDUSTRY_WORDS = {
    Industry.LOGISTICS: ("物流", "Logistics"), Industry.TELECOM: ("通信", "Telecom"),
    Industry.MANUFACTURING: ("重工", "Heavy Industry"), Industry.FINANCE: ("金融服务", "Financial Services"),
    Industry.ENERGY: ("能源", "Energy"), Industry.RETAIL: ("商贸", "Trading"),
    Industry.AUTOMOTIVE: ("汽车部件", "Auto Parts"), Industry.CONSTRUCTION: ("建设", "Construction"),
    Industry.HEALTHCARE: ("医疗器械", "Medical"), Industry.TECHNOLOGY: ("科技", "Technology"),
    Industry.GOVERNMENT: ("数据中心", "Data Center"), Industry.EDUCATION: ("教育科技", "EdTech"),
    Industry.MEDIA: ("传媒", "Media"),
}  # fmt: skip
PINYIN = {
    "华信": "Huaxin", "东方": "Dongfang", "中联": "Zhonglian", "恒通": "Hengtong", "远航": "Yuanhang",
    "汇丰": "Huifeng", "鼎盛": "Dingsheng", "瑞达": "Ruida", "金桥": "Jinqiao", "海润": "Hairun",
    "天宇": "Tianyu", "新纪元": "Xinjiyuan", "博远": "Boyuan", "宏图": "Hongtu", "长城": "Changcheng",
    "江南": "Jiangnan", "星河": "Xinghe", "卓越": "Zhuoyue", "同创": "Tongchuang", "安泰": "Antai",
    "顺达": "Shunda", "锦程": "Jincheng", "凯旋": "Kaixuan", "盛世": "Shengshi", "联泰": "Liantai",
    "正大": "Zhengda", "永新": "Yongxin", "华夏": "Huaxia", "创远": "Chuangyuan", "明珠": "Mingzhu",
}  # fmt: skip
FOREIGN = [
    "Nordic",
    "Atlas",
    "Meridian",
    "Pacific",
    "Alpine",
    "Baltic",
    "Orion",
    "Vertex",
    "Harbor",
    "Summit",
]
FOREIGN_SUFFIX = ["GmbH", "Ltd.", "Inc.", "S.A.", "B.V.", "Pte. Ltd.", "AG"]
SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
]
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "平",
    "刚",
    "桂英",
    "建国",
    "志强",
    "晓东",
]
TITLES = [
    ("总经理", "管理层", BuyingRole.DECISION_MAKER), ("副总经理", "管理层", BuyingRole.DECISION_MAKER),
    ("采购总监", "采购部", BuyingRole.DECISION_MAKER), ("首席技术官", "技术部", BuyingRole.TECHNICAL_EVALUATOR),
    ("财务总监", "财务部", BuyingRole.INFLUENCER), ("采购经理", "采购部", BuyingRole.GATEKEEPER),
    ("IT经理", "信息部", BuyingRole.TECHNICAL_EVALUATOR), ("运营经理", "运营部", BuyingRole.USER),
    ("项目经理", "项目部", BuyingRole.SPONSOR), ("行政主管", "行政部", BuyingRole.USER),
]  # fmt: skip
COMPETITORS = [
    "顺丰供应链",
    "华为企业业务",
    "中兴通讯",
    "京东物流",
    "西门子中国",
    "施耐德电气",
    "德邦快递",
    "中国电信政企",
    "ABB中国",
    "菜鸟网络",
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    note: str


def random_credit_code(rng: random.Random) -> str:
    first17 = (
        "91"
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice(ALPHABET) for _ in range(9))
    )
    return first17 + check_character(first17)


def demo_users_create() -> tuple[list[DemoLogin], list[User]]:
    """Demo users for every role (idempotent); returns logins and the account managers."""
    east, south = (
        Team.objects.get_or_create(name=name)[0] for name in ("华东大客户部", "华南大客户部")
    )
    spec = [
        ("admin", Role.ADMINISTRATOR, None, "系统管理员 Administrator", True),
        ("director", Role.DIRECTOR, None, "大客户部总监 Director", False),
        ("servicemgr", Role.SERVICE_MANAGER, None, "客户服务经理 Service manager", False),
        ("am_wang", Role.ACCOUNT_MANAGER, east, "王磊 (team lead, East)", False),
        ("am_li", Role.ACCOUNT_MANAGER, east, "李娜 (East)", False),
        ("am_zhang", Role.ACCOUNT_MANAGER, south, "张伟 (team lead, South)", False),
        ("am_chen", Role.ACCOUNT_MANAGER, south, "陈静 (South)", False),
        ("agent", Role.SERVICE_AGENT, None, "客服专员 Service agent", False),
        ("viewer", Role.READ_ONLY, None, "只读 Read-only", False),
    ]
    logins, managers = [], []
    password_hash = make_password(DEMO_PASSWORD)  # one slow hash for all demo users
    for username, role, team, note, superuser in spec:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "team": team, "display_name": note.split(" ")[0]},
        )
        if created:
            user.password = password_hash
            user.is_staff = user.is_superuser = superuser
            user.save()
        logins.append(DemoLogin(username, user.get_role_display(), note))
        if role == Role.ACCOUNT_MANAGER:
            managers.append(user)
    Team.objects.filter(pk=east.pk).update(lead=User.objects.get(username="am_wang"))
    Team.objects.filter(pk=south.pk).update(lead=User.objects.get(username="am_zhang"))
    return logins, managers


def _weighted[T](rng: random.Random, weights: dict[T, int]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@transaction.atomic
def demo_accounts_create(*, count: int, seed: int) -> list[Account]:
    """Create `count` demo accounts with contacts and competitors; returns them with a
    `demo_weight` attribute (heavy-tailed) for the ledger demo to size their orders."""
    rng = random.Random(seed)
    _logins, managers = demo_users_create()
    start = Account.objects.count()
    accounts: list[Account] = []
    weights: list[float] = []
    used_names: set[str] = set(Account.objects.values_list("legal_name", flat=True))
    for i in range(count):
        region = _weighted(rng, REGION_WEIGHTS)
        industry = rng.choice(list(INDUSTRY_WORDS))
        weight = rng.paretovariate(1.16)  # alpha≈1.16 gives the classic 80/20 split
        owner = managers[i % len(managers)]
        if region == Region.OVERSEAS:
            base = f"{rng.choice(FOREIGN)} {INDUSTRY_WORDS[industry][1]}"
            legal, english, short = f"{base} {rng.choice(FOREIGN_SUFFIX)}", "", base
            province = city = ""
            credit = ""
        else:
            province, city = rng.choice(CITIES[region])
            word = rng.choice(CORE_WORDS)
            suffix = "股份有限公司" if weight > 8 else "有限公司"
            legal = f"{city}{word}{INDUSTRY_WORDS[industry][0]}{suffix}"
            english = f"{city if city.isascii() else ''}{PINYIN[word]} {INDUSTRY_WORDS[industry][1]} Co., Ltd.".strip()
            short = f"{word}{INDUSTRY_WORDS[industry][0]}"
            credit = random_credit_code(rng)
        if legal in used_names:
            legal = (
                f"{legal[:-4]}（{start + i + 1}）{legal[-4:]}"
                if legal.endswith("有限公司")
                else f"{legal} #{start + i + 1}"
            )
        used_names.add(legal)
        size = (
            CompanySize.GIANT if weight > 20 else CompanySize.LARGE if weight > 5
            else CompanySize.MEDIUM if weight > 2 else rng.choice([CompanySize.SMALL, CompanySize.MICRO])
        )  # fmt: skip
        accounts.append(
            Account(
                code=f"C{start + i + 1:06d}",
                legal_name=legal[:200],
                short_name=short[:100],
                english_name=english[:200],
                credit_code=credit,
                industry=industry,
                region=region,
                province=province,
                city=city,
                size=size,
                employees=int(50 * weight * rng.uniform(0.5, 2.0)),
                kind=rng.choice(list(AccountKind)) if weight > 3 else "",
                cooperation_domain=rng.choice(list(CooperationDomain)),
                cooperation_depth=rng.choice(list(CooperationDepth)),
                project_type=rng.choice(list(ProjectType)) if weight > 3 else "",
                sales_stage=SalesStage.CUSTOMER if rng.random() < 0.9 else SalesStage.OPPORTUNITY,
                owner=owner,
                team_id=owner.team_id,
                wallet_size=round(weight * rng.uniform(400_000, 1_500_000), -3)
                if rng.random() < 0.4
                else None,
            )
        )
        weights.append(weight)
    Account.objects.bulk_create(accounts, batch_size=2000)
    accounts = list(Account.objects.filter(code__in=[a.code for a in accounts]).order_by("code"))
    for account, weight in zip(accounts, weights, strict=True):
        account.demo_weight = weight  # type: ignore[attr-defined]
    _groups_create(rng, accounts)
    _contacts_create(rng, accounts)
    _competitors_create(rng, accounts)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                action=Action.CREATE, account=a, object_type="customers.account",
                object_id=str(a.pk), object_repr=str(a)[:200], message="demo data",
            )
            for a in accounts
        ],
        batch_size=2000,
    )  # fmt: skip
    return accounts


def _groups_create(rng: random.Random, accounts: list[Account]) -> None:
    """Make the biggest accounts group parents with a few subsidiaries each (two levels)."""
    ranked = sorted(accounts, key=lambda a: -a.demo_weight)  # type: ignore[attr-defined]
    parents = ranked[: max(1, len(accounts) // 25)]
    pool = [a for a in ranked[len(parents) :] if a.region != Region.OVERSEAS]
    rng.shuffle(pool)
    changed = []
    for parent in parents:
        for _ in range(rng.randint(1, 4)):
            if not pool:
                break
            child = pool.pop()
            child.parent = parent
            child.kind = child.kind or AccountKind.GROUP
            changed.append(child)
        parent.kind = AccountKind.GROUP
        changed.append(parent)
    # A third level under some subsidiaries.
    for child in [c for c in changed if c.parent_id][: len(parents) // 2]:
        if pool:
            grandchild = pool.pop()
            grandchild.parent = child
            changed.append(grandchild)
    _rows_update(
        "UPDATE customers_account SET parent_id = %s, kind = %s WHERE id = %s",
        [(a.parent_id, a.kind, a.pk) for a in changed],
    )


def _contacts_create(rng: random.Random, accounts: list[Account]) -> None:
    contacts: list[Contact] = []
    for account in accounts:
        weight = account.demo_weight  # type: ignore[attr-defined]
        n = min(len(TITLES), 2 + int(weight**0.5))
        for title, department, role in TITLES[:n]:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            contacts.append(
                Contact(
                    account=account, name=name, title=title, department=department,
                    buying_role=role,
                    attitude=rng.choices(list(Attitude), weights=[5, 4, 1])[0],
                    influence=5 if role == BuyingRole.DECISION_MAKER else rng.randint(1, 4),
                    phone=f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}",
                    email=f"contact{rng.randint(1, 10**6)}@example.cn",
                    has_left=rng.random() < 0.03,
                )
            )  # fmt: skip
    Contact.objects.bulk_create(contacts, batch_size=5000)
    # The general manager leads; everyone else reports to someone senior at the same account.
    by_account: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(account__in=accounts).order_by("pk"):
        by_account.setdefault(contact.account_id, []).append(contact)
    updates = []
    for people in by_account.values():
        for index, person in enumerate(people[1:], start=1):
            person.reports_to = (
                people[0] if index < 3 else people[rng.randint(1, min(index - 1, 2))]
            )
            updates.append(person)
    _rows_update(
        "UPDATE customers_contact SET reports_to_id = %s WHERE id = %s",
        [(c.reports_to_id, c.pk) for c in updates],
    )


def _rows_update(sql: str, rows: list[tuple]) -> None:
    """One prepared UPDATE per row: linear, where bulk_update's CASE chains grow quadratic."""
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _competitors_create(rng: random.Random, accounts: list[Account]) -> None:
    competitors = [Competitor.objects.get_or_create(name=name)[0] for name in COMPETITORS]
    presences = []
    for account in accounts:
        for competitor in rng.sample(competitors, k=rng.randint(0, 3)):
            presences.append(
                CompetitorPresence(
                    account=account,
                    competitor=competitor,
                    products=rng.choice(
                        ["仓储服务", "专线运输", "企业专线", "工业网关", "配电设备"]
                    ),
                    share_of_wallet=rng.randint(5, 45),
                )
            )
    CompetitorPresence.objects.bulk_create(presences, batch_size=5000)
