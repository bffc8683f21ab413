"""`bentoml build` works with no network at all (run inside an empty network namespace)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from devtools.procs import REPO_ROOT, VENV_BIN


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("unshare") is None, reason="util-linux unshare missing")
def test_bentoml_build_offline(bento_home):
    args = ["unshare", "--net", "--", str(VENV_BIN / "bentoml"), "build", "--output", "tag"]
    if os.geteuid() != 0:
        args[1:1] = ["--map-root-user"]
    result = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "BENTOML_HOME": str(bento_home)})
    assert result.returncode == 0, result.stdout + result.stderr
    tag = result.stdout.strip().splitlines()[-1].removeprefix("__tag__:")
    assert tag.startswith("playlist_recommender:")
    listed = subprocess.run([str(VENV_BIN / "bentoml"), "list", "-o", "json"], capture_output=True,
                            text=True, env={**os.environ, "BENTOML_HOME": str(bento_home)})
    assert tag in listed.stdout
    # The shared data rules travel inside the Bento (bentofile include), importable from src/.
    src = bento_home / "bentos" / "playlist_recommender" / tag.split(":")[1] / "src"
    assert {p.name for p in (src / "datarules").glob("*.py")} == {
        p.name for p in (REPO_ROOT / "datarules").glob("*.py")} >= {
        "__init__.py", "rules.py", "csvformat.py", "bodylimit.py"}
    imported = subprocess.run([str(VENV_BIN / "python"), "-E", "-s", "-c",
                               "import datarules; print(datarules.id_problem('../x'))"],
                              cwd=src, capture_output=True, text=True, timeout=60)
    assert imported.stdout.strip() == "must not contain '/'", imported.stderr
    # The retrain CronJob runs this image: its exporter, the table definitions and the verdict
    # writer are inside.
    source = src
    for path in ("bento/retrain.py", "bento/registry.py", "gateway/export.py", "gateway/tables.py",
                 "gateway/retrain_report.py"):
        assert (source / path).is_file(), path
    assert not (source / "gateway" / "main.py").exists()
