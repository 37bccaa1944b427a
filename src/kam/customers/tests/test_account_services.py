import pytest
from django.core.exceptions import ValidationError

from kam.audit.models import AuditEntry
from kam.customers import services
from kam.customers.models import Account

VALID_CODE = "91350100M000100Y43"


def test_create_records_every_field_in_the_audit(director):
    account = services.account_create(
        actor=director,
        data={
            "code": "A1",
            "legal_name": "上海远航物流有限公司",
            "credit_code": VALID_CODE.lower(),
        },
    )
    assert account.credit_code == VALID_CODE
    entry = AuditEntry.objects.get(object_type="customers.account", object_id=str(account.pk))
    assert entry.actor == director and entry.action == "create" and entry.account == account
    assert entry.changes["legal_name"] == [None, "上海远航物流有限公司"]


def test_malformed_credit_code_names_the_field_and_saves_nothing(director):
    with pytest.raises(ValidationError) as caught:
        services.account_create(
            actor=director,
            data={"code": "A1", "legal_name": "X", "credit_code": VALID_CODE[:17] + "0"},
        )
    assert "credit_code" in caught.value.message_dict
    assert "check character" in caught.value.message_dict["credit_code"][0]
    assert not Account.objects.exists() and not AuditEntry.objects.exists()


def test_credit_code_is_unique_when_present(account_make):
    account_make(credit_code=VALID_CODE)
    account_make()  # blank codes never collide
    account_make()
    with pytest.raises(ValidationError) as caught:
        account_make(credit_code=VALID_CODE)
    assert "credit_code" in caught.value.message_dict


def test_unknown_choice_and_oversize_field_are_named(director):
    with pytest.raises(ValidationError) as caught:
        services.account_create(
            actor=director, data={"code": "A1", "legal_name": "x" * 201, "region": "atlantis"}
        )
    assert set(caught.value.message_dict) >= {"legal_name", "region"}
    assert not Account.objects.exists()


def test_unknown_field_is_refused(director):
    with pytest.raises(ValidationError) as caught:
        services.account_create(
            actor=director, data={"code": "A1", "legal_name": "X", "colour": "red"}
        )
    assert "colour" in caught.value.message_dict


def test_group_hierarchy_refuses_a_cycle(account_make, director):
    group = account_make()
    subsidiary = account_make(parent=group)
    grandchild = account_make(parent=subsidiary)
    with pytest.raises(ValidationError) as caught:
        services.account_update(actor=director, account=group, data={"parent": grandchild})
    assert "parent" in caught.value.message_dict
    group.refresh_from_db()
    assert group.parent is None


def test_account_cannot_be_its_own_parent(account_make, director):
    account = account_make()
    with pytest.raises(ValidationError):
        services.account_update(actor=director, account=account, data={"parent": account})


def test_update_audits_old_and_new_values_only_for_changed_fields(account_make, director):
    account = account_make(legal_name="旧名称有限公司", city="上海")
    services.account_update(
        actor=director, account=account, data={"legal_name": "新名称有限公司", "city": "上海"}
    )
    entry = AuditEntry.objects.filter(action="update").get()
    assert entry.changes == {"legal_name": ["旧名称有限公司", "新名称有限公司"]}


def test_update_with_no_change_writes_no_audit_entry(account_make, director):
    account = account_make(city="上海")
    services.account_update(actor=director, account=account, data={"city": "上海"})
    assert not AuditEntry.objects.filter(action="update").exists()


def test_archive_keeps_the_account_and_audits(account_make, director):
    account = account_make()
    services.account_archive(actor=director, account=account)
    account.refresh_from_db()
    assert account.archived
    assert AuditEntry.objects.filter(action="archive", account=account).count() == 1
    services.account_archive(actor=director, account=account, archived=False)
    account.refresh_from_db()
    assert not account.archived


def test_account_manager_creates_into_own_portfolio(am_member):
    account = services.account_create(actor=am_member, data={"code": "A9", "legal_name": "新客户"})
    assert account.owner == am_member and account.team == am_member.team


def test_account_manager_cannot_give_an_account_to_another_portfolio(am_member, am_outsider):
    with pytest.raises(ValidationError) as caught:
        services.account_create(
            actor=am_member, data={"code": "A9", "legal_name": "新客户", "owner": am_outsider}
        )
    assert "owner" in caught.value.message_dict
    assert not Account.objects.exists()


def test_account_manager_cannot_edit_another_portfolio(account_make, am_member, am_outsider):
    account = account_make(owner=am_outsider)
    with pytest.raises(ValidationError):
        services.account_update(actor=am_member, account=account, data={"city": "北京"})
    account.refresh_from_db()
    assert account.city == ""


def test_service_agent_cannot_create_accounts(agent):
    with pytest.raises(ValidationError):
        services.account_create(actor=agent, data={"code": "A1", "legal_name": "X"})
