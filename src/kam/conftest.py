"""Shared test fixtures: the named personas of every test, built through the real services.

Personas: a director, two account managers in one team (am_lead leads it, am_member
belongs to it), an account manager outside it (am_outsider), a service manager, a
service agent and a read-only user.
"""

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from kam.customers import services as customer_services
from kam.customers.models import Account
from kam.users.models import Role, Team, User

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_browser_skip_reason = ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests need Debian's chromium; without it they are deselected, said plainly."""
    global _browser_skip_reason
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    if os.environ.get("KAM_REQUIRE_BROWSER"):
        raise pytest.UsageError(f"KAM_REQUIRE_BROWSER is set but {CHROMIUM} is missing")
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    if browser_items:
        _browser_skip_reason = (
            f"{len(browser_items)} browser test(s) NOT RUN: {CHROMIUM} is not installed "
            "(apt-get install chromium; .ci/run does this)."
        )
        config.hook.pytest_deselected(items=browser_items)
        items[:] = [item for item in items if not item.get_closest_marker("browser")]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _browser_skip_reason:
        terminalreporter.write_line(_browser_skip_reason, yellow=True, bold=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Real hashing costs a second per persona; tests check permissions, not PBKDF2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def user_make(username: str, role: str, team: Team | None = None) -> User:
    user = User.objects.create_user(
        username=username, password="pw-" + username, role=role, team=team
    )
    return user


@pytest.fixture
def team(db: Any) -> Team:
    return Team.objects.create(name="East key accounts")


@pytest.fixture
def other_team(db: Any) -> Team:
    return Team.objects.create(name="South key accounts")


@pytest.fixture
def director(db: Any) -> User:
    return user_make("director", Role.DIRECTOR)


@pytest.fixture
def am_lead(team: Team) -> User:
    user = user_make("am_lead", Role.ACCOUNT_MANAGER, team)
    team.lead = user
    team.save()
    return user


@pytest.fixture
def am_member(team: Team) -> User:
    return user_make("am_member", Role.ACCOUNT_MANAGER, team)


@pytest.fixture
def am_outsider(other_team: Team) -> User:
    return user_make("am_outsider", Role.ACCOUNT_MANAGER, other_team)


@pytest.fixture
def service_manager(db: Any) -> User:
    return user_make("service_manager", Role.SERVICE_MANAGER)


@pytest.fixture
def agent(db: Any) -> User:
    return user_make("agent", Role.SERVICE_AGENT)


@pytest.fixture
def viewer(db: Any) -> User:
    return user_make("viewer", Role.READ_ONLY)


@pytest.fixture
def account_make(director: User) -> Callable[..., Account]:
    """Create an account through the real service (as the director unless `actor` is given)."""
    counter = {"n": 0}

    def make(owner: User | None = None, actor: User | None = None, **fields: Any) -> Account:
        counter["n"] += 1
        data: dict[str, Any] = {
            "code": f"T{counter['n']:05d}",
            "legal_name": f"测试客户{counter['n']}有限公司",
        }
        data.update(fields)
        if owner is not None:
            data["owner"] = owner
        return customer_services.account_create(actor=actor or director, data=data)

    return make


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A page of Debian's headless chromium (English locale, 15 s timeouts) for live_server tests."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM may still be used.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        context.close()
        browser.close()
        # The test's ORM calls ran under that event loop, on a connection of its context:
        # close it here, or PostgreSQL refuses to drop the test database at the end.
        connections.close_all()


def browser_login(page: Any, live_server: Any, username: str) -> None:
    """Sign a browser page in as a user made by user_make (password pw-<username>)."""
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
