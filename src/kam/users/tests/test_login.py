from django.urls import reverse

from kam.users.models import User


def test_login_page_is_public_and_signs_in(client, director):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "director", "password": "pw-director"})
    assert response.status_code == 302
    assert client.get(reverse("customers:list")).status_code == 200


def test_repeated_wrong_passwords_lock_the_login(client, director, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "director", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    last_try = client.post(reverse("login"), {"username": "director", "password": "wrong"})
    assert last_try.status_code == 429
    locked = client.post(reverse("login"), {"username": "director", "password": "pw-director"})
    assert locked.status_code == 429
    assert client.get(reverse("customers:list")).status_code == 302  # still signed out


def test_language_follows_the_browser_until_the_user_chooses(client, director):
    client.force_login(director)
    english = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Accounts" in english.text and 'lang="en"' in english.text
    chinese = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert 'lang="zh-hans"' in chinese.text and "客户" in chinese.text
    client.post(reverse("language_set"), {"language": "en", "next": "/customers/"})
    chosen = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert 'lang="en"' in chosen.text
    assert User.objects.get(pk=director.pk).language == "en"


def test_chosen_language_follows_the_user_to_a_new_browser(client, director):
    director.language = "en"
    director.save()
    client.post(reverse("login"), {"username": "director", "password": "pw-director"})
    page = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert 'lang="en"' in page.text


def test_language_switch_ignores_foreign_redirects(client, director):
    client.force_login(director)
    response = client.post(
        reverse("language_set"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"
