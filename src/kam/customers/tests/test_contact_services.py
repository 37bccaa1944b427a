import pytest
from django.core.exceptions import ValidationError

from kam.audit.models import AuditEntry
from kam.customers import services
from kam.customers.models import Contact


@pytest.fixture
def account(account_make, am_member):
    return account_make(owner=am_member)


def test_contact_reports_to_someone_at_the_same_account(account, account_make, director):
    boss = services.contact_create(actor=director, account=account, data={"name": "王总"})
    other = account_make()
    stranger = services.contact_create(actor=director, account=other, data={"name": "外人"})
    with pytest.raises(ValidationError) as caught:
        services.contact_create(
            actor=director, account=account, data={"name": "小李", "reports_to": stranger}
        )
    assert "reports_to" in caught.value.message_dict
    ok = services.contact_create(
        actor=director, account=account, data={"name": "小李", "reports_to": boss}
    )
    assert ok.reports_to == boss


def test_org_chart_refuses_a_reporting_cycle(account, director):
    ceo = services.contact_create(actor=director, account=account, data={"name": "CEO"})
    cto = services.contact_create(
        actor=director, account=account, data={"name": "CTO", "reports_to": ceo}
    )
    dev = services.contact_create(
        actor=director, account=account, data={"name": "Dev", "reports_to": cto}
    )
    with pytest.raises(ValidationError) as caught:
        services.contact_update(actor=director, contact=ceo, data={"reports_to": dev})
    assert "reports_to" in caught.value.message_dict
    ceo.refresh_from_db()
    assert ceo.reports_to is None


def test_influence_outside_one_to_five_is_refused(account, director):
    with pytest.raises(ValidationError) as caught:
        services.contact_create(actor=director, account=account, data={"name": "X", "influence": 6})
    assert "influence" in caught.value.message_dict
    assert not Contact.objects.exists()


def test_a_contact_who_leaves_is_kept_and_marked(account, director):
    contact = services.contact_create(actor=director, account=account, data={"name": "赵敏"})
    services.contact_update(actor=director, contact=contact, data={"has_left": True})
    contact.refresh_from_db()
    assert contact.has_left and contact.left_on is not None
    entry = AuditEntry.objects.get(action="update", object_id=str(contact.pk))
    assert entry.changes["has_left"] == [False, True] and entry.account == account


def test_archiving_a_boss_detaches_the_reports(account, director):
    boss = services.contact_create(actor=director, account=account, data={"name": "Boss"})
    report = services.contact_create(
        actor=director, account=account, data={"name": "Report", "reports_to": boss}
    )
    services.contact_archive(actor=director, contact=boss)
    report.refresh_from_db()
    assert report.reports_to is None
    assert Contact.objects.filter(pk=boss.pk, archived=True).exists()


def test_competitor_share_must_be_a_percentage(account, director):
    competitor = services.competitor_get_or_create(name="顺丰供应链")
    with pytest.raises(ValidationError) as caught:
        services.competitor_presence_create(
            actor=director, account=account, data={"competitor": competitor, "share_of_wallet": 120}
        )
    assert "share_of_wallet" in caught.value.message_dict


def test_competitor_listed_once_per_account_and_audited(account, director):
    competitor = services.competitor_get_or_create(name="顺丰供应链")
    presence = services.competitor_presence_create(
        actor=director, account=account, data={"competitor": competitor, "share_of_wallet": 30}
    )
    with pytest.raises(ValidationError):
        services.competitor_presence_create(
            actor=director, account=account, data={"competitor": competitor}
        )
    services.competitor_presence_update(
        actor=director, presence=presence, data={"share_of_wallet": 25}
    )
    entry = AuditEntry.objects.get(action="update", object_type="customers.competitorpresence")
    assert entry.changes == {"share_of_wallet": ["30.00", "25.00"]}


def test_outsider_cannot_add_contacts(account, am_outsider):
    with pytest.raises(ValidationError):
        services.contact_create(actor=am_outsider, account=account, data={"name": "X"})
    assert not Contact.objects.exists()
