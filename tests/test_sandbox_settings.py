"""Sandbox settings: containment is on by default; package allow-lists compare PEP 503 names."""

from __future__ import annotations

import pydantic
import pytest

from aiev_agents.sandbox import SandboxSettings
from aiev_agents.sandbox.installer import check_requirements, refused


def test_containment_is_on_by_default() -> None:
    s = SandboxSettings()
    assert (s.network, s.install_network) == ("none", "bridge")
    assert (s.program_uid, s.program_gid) == (65534, 65534)
    assert (s.no_new_privileges, s.drop_capabilities, s.read_only_rootfs, s.cpu_time_limit) == (
        True,
        True,
        True,
        True,
    )
    assert (s.memory, s.pids_limit, s.timeout_s, s.output_limit_bytes) == ("1g", 256, 30.0, 64_000)


def test_root_cannot_be_the_program_user() -> None:
    with pytest.raises(pydantic.ValidationError, match="program_uid"):
        SandboxSettings(program_uid=0)


def test_allowed_packages_are_normalised() -> None:
    assert SandboxSettings(allowed_packages=["Typing_Extensions", "ruamel.yaml"]).allowed_packages == [
        "typing-extensions",
        "ruamel-yaml",
    ]


def test_allow_list_refuses_other_projects_whatever_their_spelling() -> None:
    allowed = SandboxSettings(allowed_packages=["six", "typing-extensions"]).allowed_packages
    packages = ["Six==1.16.0", "typing_extensions>=4", "numpy", "requests[socks]"]
    assert refused(packages, allowed) == ["numpy", "requests[socks]"]
    assert refused(packages, None) == []


@pytest.mark.parametrize("bad", ["-r requirements.txt", "--index-url=http://x", "pkg @ https://x/p.whl", ""])
def test_only_plain_requirements_reach_pip(bad: str) -> None:
    with pytest.raises(ValueError, match="not a plain requirement"):
        check_requirements(["six", bad])
