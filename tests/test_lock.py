"""The lock files that `make run` and `make test` install from stay in step with pyproject.toml.

A dependency added to pyproject.toml without `make lock` would install on the author's machine and then be
missing on a fresh one; this fails first, naming the package.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO_ROOT

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")
BUILD = ("pip", "setuptools", "wheel")  # `pip install --no-build-isolation -e .` needs them from the lock


@dataclass
class Pinned:
    version: str
    hashes: int = 0
    marker: str | None = None


@dataclass
class Lock:
    pins: dict[str, list[Pinned]] = field(default_factory=dict)

    def versions_here(self, name: str) -> list[str]:
        """The versions pinned for ``name`` that apply to this interpreter (a universal lock has markers)."""
        environment = default_environment()
        return [p.version for p in self.pins.get(canonicalize_name(name), [])
                if p.marker is None or Requirement(f"x; {p.marker}").marker.evaluate(environment)]  # type: ignore[union-attr]


def read_lock(name: str) -> Lock:
    lock, current = Lock(), None
    for line in (REPO_ROOT / name).read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            current = Pinned(match["version"], marker=match["marker"])
            lock.pins.setdefault(canonicalize_name(match["name"]), []).append(current)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            current.hashes += 1
    return lock


def requirements() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return ([Requirement(r) for r in project["dependencies"]],
            [Requirement(r) for r in project["optional-dependencies"]["dev"]])


@pytest.mark.parametrize(("lock_file", "groups"), [("requirements.lock", ("runtime",)),
                                                    ("requirements-dev.lock", ("runtime", "dev"))])
def test_every_dependency_of_pyproject_is_locked(lock_file: str, groups: tuple[str, ...]) -> None:
    lock = read_lock(lock_file)
    runtime, dev = requirements()
    wanted = runtime + (dev if "dev" in groups else [])
    missing = [str(r) for r in wanted if not any(r.specifier.contains(v, prereleases=True)
                                                 for v in lock.versions_here(r.name))]
    assert missing == [], f"{lock_file} lacks {missing}: run `make lock` after editing pyproject.toml"
    assert [b for b in BUILD if not lock.versions_here(b)] == []


@pytest.mark.parametrize("lock_file", ["requirements.lock", "requirements-dev.lock", "requirements-tools.lock"])
def test_every_pin_carries_hashes(lock_file: str) -> None:
    lock = read_lock(lock_file)
    assert len(lock.pins) > 10
    assert [name for name, pins in lock.pins.items() for p in pins if p.hashes == 0] == []


def test_the_runtime_lock_pins_what_the_tests_ran_with() -> None:
    """`make run` installs requirements.lock, `make test` requirements-dev.lock: the same version of each."""
    runtime, dev = read_lock("requirements.lock"), read_lock("requirements-dev.lock")
    differ = {name: (runtime.versions_here(name), dev.versions_here(name)) for name in runtime.pins
              if runtime.versions_here(name) != dev.versions_here(name)}
    assert differ == {}
