from django.core.management import call_command
from django.test import Client

from kam.users.models import ApiToken


def test_token_command_prints_a_working_token_stored_only_as_hash(director, capsys):
    call_command("token", "create", "director", "--name", "etl")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("kam_")
    token = ApiToken.objects.get(user=director)
    assert raw not in (token.digest, token.prefix)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/customers/accounts").status_code == 200


def test_revoked_or_unknown_token_is_refused(director, capsys):
    call_command("token", "create", "director")
    raw = capsys.readouterr().out.strip()
    call_command("token", "revoke", "director", "--name", "script")
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/customers/accounts").status_code == 401
    )
    assert (
        Client(HTTP_AUTHORIZATION="Bearer kam_nope").get("/api/customers/accounts").status_code
        == 401
    )
