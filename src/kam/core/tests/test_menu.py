"""The menu shows each user only the entries whose pages they may open."""

from django.test import RequestFactory
from django.urls import reverse

from kam.core.context_processors import menu


def menu_urls(user) -> set[str]:
    request = RequestFactory().get("/")
    request.user = user
    return {item["url"] for item in menu(request)["kam_menu"]}


def test_read_only_users_see_no_import_entry_and_managers_do(viewer, am_member, director):
    assert reverse("ledger:import") not in menu_urls(viewer)
    assert reverse("ledger:export") in menu_urls(viewer)
    assert reverse("ledger:import") in menu_urls(am_member)
    assert reverse("ledger:import") in menu_urls(director)


def test_menu_entries_match_what_the_pages_allow(client, viewer, agent, am_member):
    for user in (viewer, agent, am_member):
        client.force_login(user)
        for url in menu_urls(user):
            assert client.get(url).status_code == 200, (user.username, url)
    assert reverse("service:analytics") not in menu_urls(agent)
