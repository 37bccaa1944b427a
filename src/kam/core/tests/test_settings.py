import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from kam import settings as kam_settings


def test_bool_setting_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("KAM_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="KAM_X"):
        kam_settings.env_bool("KAM_X", False)
    monkeypatch.setenv("KAM_X", "yes")
    assert kam_settings.env_bool("KAM_X", False) is True


def test_int_setting_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("KAM_N", "five")
    with pytest.raises(ImproperlyConfigured, match="KAM_N"):
        kam_settings.env_int("KAM_N", 1)


def test_list_setting_splits_on_commas(monkeypatch):
    monkeypatch.setenv("KAM_HOSTS", "kam.example.cn, 10.0.0.5 ,")
    assert kam_settings.env_list("KAM_HOSTS", []) == ["kam.example.cn", "10.0.0.5"]


def _django(args, env_extra, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"KAM_DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update({"KAM_DATA_DIR": str(tmp_path), **env_extra})
    return subprocess.run(
        [sys.executable, "-m", "django", *args, "--settings=kam.settings"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_production_settings_pass_check_deploy(tmp_path):
    result = _django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {
            "KAM_SECRET_KEY": "x" * 64 + "-a-long-random-production-secret",
            "KAM_DEBUG": "false",
            "KAM_ALLOWED_HOSTS": "kam.example.cn",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_bad_database_url_is_a_clear_configuration_error(tmp_path):
    result = _django(["check"], {"KAM_DATABASE_URL": "nosuchdb://x"}, tmp_path)
    assert result.returncode != 0 and "KAM_DATABASE_URL" in result.stderr


def test_language_comes_from_the_environment_and_bad_values_are_refused(tmp_path):
    code = "from django.conf import settings; print(settings.LANGUAGE_CODE)"
    english = _django(["shell", "-v0", "-c", code], {"KAM_LANGUAGE": "EN"}, tmp_path)
    assert english.returncode == 0 and english.stdout.strip() == "en", english.stderr
    default = _django(["shell", "-v0", "-c", code], {"KAM_LANGUAGE": ""}, tmp_path)
    assert default.stdout.strip() == "zh-hans", default.stderr
    bad = _django(["check"], {"KAM_LANGUAGE": "fr"}, tmp_path)
    assert bad.returncode != 0 and "KAM_LANGUAGE" in bad.stderr
