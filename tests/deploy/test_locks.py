"""Each deployable's lock file (hashes, for `pip install --require-hashes`) agrees with the pins
in its requirements.txt; a stale lock fails with the command that refreshes it."""
import re
from pathlib import Path

import pytest

from tests.deploy.manifests import REPO

DEPLOYABLES = ("bento", "gateway")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#\\]+)")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path):
    """name -> version for every `name==version` line (extras and comments ignored)."""
    found = {}
    for line in Path(path).read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def hashed(path):
    """name -> number of --hash options of each entry of a lock file."""
    counts, current = {}, None
    for line in Path(path).read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonical(match.group(1))
            counts[current] = 0
        counts[current] = counts.get(current, 0) + line.count("--hash=sha256:")
    counts.pop(None, None)
    return counts


def lock_errors(requirements, lock):
    """Why `lock` does not match `requirements` (empty when it does)."""
    if not Path(lock).exists():
        return [f"{lock} is missing: run `make locks`"]
    wanted, locked, hashes = pins(requirements), pins(lock), hashed(lock)
    errors = [f"{name}=={version} is pinned in {requirements} but the lock has "
              f"{locked.get(name, 'nothing')}: run `make locks`"
              for name, version in sorted(wanted.items()) if locked.get(name) != version]
    errors += [f"{name} has no --hash in {lock}: run `make locks`"
               for name, count in sorted(hashes.items()) if count == 0]
    return errors


@pytest.mark.parametrize("requirements", [f"{d}/requirements.txt" for d in DEPLOYABLES]
                         + ["bento/requirements-spark.txt"])  # the Spark image's
def test_each_lock_has_every_pin_with_hashes(requirements):
    requirements = REPO / requirements
    lock = requirements.with_suffix(".lock")
    assert lock_errors(requirements, lock) == []
    assert len(pins(lock)) >= len(pins(requirements))


def test_a_new_or_bumped_pin_or_a_hashless_entry_tells_to_run_make_locks(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text((REPO / "gateway" / "requirements.txt").read_text()
                            .replace("fastapi==0.165.0", "fastapi==0.166.0")
                            + "tomli==2.0.1\n")
    lock = tmp_path / "requirements.lock"
    lock.write_text((REPO / "gateway" / "requirements.lock").read_text()
                    + "tqdm==4.67.1\n    # via nothing\n")
    assert lock_errors(requirements, lock) == [
        f"fastapi==0.166.0 is pinned in {requirements} but the lock has 0.165.0: run "
        "`make locks`",
        f"tomli==2.0.1 is pinned in {requirements} but the lock has nothing: run `make locks`",
        f"tqdm has no --hash in {lock}: run `make locks`"]
    assert lock_errors(requirements, tmp_path / "absent.lock") == [
        f"{tmp_path / 'absent.lock'} is missing: run `make locks`"]


def test_the_images_install_the_locks_with_hashes_required():
    gateway = (REPO / "gateway" / "Dockerfile").read_text()
    assert re.search(r"pip install[^\n]*\\\n[^\n]*--require-hashes[^\n]*-r /tmp/requirements.lock",
                     gateway) or "--require-hashes -r /tmp/requirements.lock" in gateway
    template = (REPO / "bento" / "Dockerfile.j2").read_text()
    assert "--require-hashes" in template and "requirements.lock" in template
    spark = (REPO / "bento" / "Dockerfile.spark").read_text()
    assert "--require-hashes -r /tmp/requirements-spark.lock" in spark
