from kam.customers.demo import demo_accounts_create
from kam.customers.models import Account, Contact
from kam.lib import credit_code
from kam.users.models import Role, User


def _portfolio():
    return [
        (a.code, a.legal_name, a.credit_code, a.owner.username, a.parent.code if a.parent else None)
        for a in Account.objects.select_related("owner", "parent").order_by("code")
    ]


def test_demo_is_deterministic_for_a_seed(db):
    demo_accounts_create(count=40, seed=5)
    first = _portfolio()
    Account.objects.update(parent=None)
    Account.objects.all().delete()
    demo_accounts_create(count=40, seed=5)
    assert _portfolio() == first
    Account.objects.update(parent=None)
    Account.objects.all().delete()
    demo_accounts_create(count=40, seed=6)
    assert _portfolio() != first


def test_demo_has_every_role_groups_org_charts_and_valid_codes(db):
    accounts = demo_accounts_create(count=60, seed=1)
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert Account.objects.filter(parent__isnull=False).exists()
    for account in Account.objects.exclude(credit_code=""):
        assert credit_code.validate(account.credit_code) == account.credit_code
    contacts = Contact.objects.filter(account=accounts[0])
    assert contacts.filter(reports_to__isnull=True).count() == 1  # one head per org chart
    assert all(c.reports_to.account_id == c.account_id for c in contacts if c.reports_to)
    weights = sorted((a.demo_weight for a in accounts), reverse=True)
    assert sum(weights[: len(weights) // 5]) > 0.5 * sum(weights)  # heavy-tailed sizes
