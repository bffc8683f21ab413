"""Demo mode refuses to start on an address others can reach (gateway.bind), read from the
running uvicorn's own config."""
from __future__ import annotations

import subprocess

import pytest
from uvicorn.config import Config

from gateway.bind import check_demo_bind, is_loopback
from gateway.settings import Settings
from devtools.procs import REPO_ROOT, VENV_BIN, free_port


class FakeServer:
    """Holds a real uvicorn Config the way uvicorn's lifespan runner does (`self.config`)."""

    def __init__(self, **config):
        self.config = Config("gateway.main:app", **config)

    def start(self, settings: Settings) -> None:
        check_demo_bind(settings)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_binds_are_fine_in_demo_mode(host):
    assert is_loopback(host)
    FakeServer(host=host).start(Settings())


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "gateway"])
def test_other_binds_are_refused_in_demo_mode_unless_allowed(host):
    with pytest.raises(RuntimeError, match="AUTH_DEMO_ALLOW_REMOTE"):
        FakeServer(host=host).start(Settings())
    FakeServer(host=host).start(Settings(auth_demo_allow_remote=True))
    FakeServer(host=host).start(Settings(auth_mode="proxy"))


@pytest.mark.slow
def test_real_uvicorn_in_demo_mode_on_all_interfaces_exits_before_listening(tmp_path):
    """The refusal comes from the lifespan, before uvicorn binds: nothing ever listens."""
    result = subprocess.run(
        [str(VENV_BIN / "uvicorn"), "gateway.main:app", "--host", "0.0.0.0",
         "--port", str(free_port())], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=60, env={"PATH": str(VENV_BIN), "DATABASE_URL": f"sqlite:///{tmp_path}/g.db"})
    assert result.returncode != 0
    assert "AUTH_MODE=demo lets anyone act as any listener" in result.stderr
    assert "Uvicorn running on" not in result.stderr
