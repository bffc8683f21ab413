"""How tests launch a browser: the system Chromium (never a downloaded one), headless."""
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def launch_args(defaults: dict) -> dict:
    """pytest-playwright's `browser_type_launch_args`, pointed at the system Chromium."""
    return {**defaults, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
