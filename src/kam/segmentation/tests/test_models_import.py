"""SciPy (the CLV models) is imported on a thread by a scoring run, not by every command."""

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent(
    """
    import os, sys, time
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    import django
    django.setup()
    from kam.segmentation import scoring, services  # noqa: F401 (what `kam score` loads)
    from kam.segmentation.management.commands import score  # noqa: F401
    print("at start-up:", "scipy" in sys.modules, "kam.lib.clv" in sys.modules)
    scoring.models_preload()
    deadline = time.monotonic() + 60
    while "kam.lib.clv" not in sys.modules or not hasattr(sys.modules["kam.lib.clv"], "fit_bgnbd"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    print("after preload:", "scipy.optimize" in sys.modules, "kam.lib.clv" in sys.modules)
    """
)


def test_scoring_imports_scipy_only_when_a_run_starts_its_models(tmp_path):
    env = {"KAM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == ["at start-up: False False", "after preload: True True"]
