"""End-to-end fixtures: the browser is the system Chromium, as in tests/frontend."""
import pytest

from devtools.browser import launch_args


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return launch_args(browser_type_launch_args)
