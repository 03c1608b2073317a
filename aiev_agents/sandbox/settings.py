"""Settings of one Docker sandbox, as read from the ``sandbox:`` section of a config."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_IMAGE = "python:3.12-slim"
#: The image with every toolchain (``aiev sandbox build --offline --toolchains``).
DEFAULT_TOOLCHAIN_IMAGE = "aiev-sandbox-polyglot:latest"
_PYTHON_NAMES = ("python", "py", "python3")
NOBODY = 65534


class SandboxSettings(BaseModel):
    """How the executor's container is made and what one run may use.

    Every containment measure is on by default; see ``docs/sandbox.md`` for the threat model.
    """

    model_config = ConfigDict(extra="forbid")

    image: str = Field(DEFAULT_IMAGE, description="Image with `python3` (and pip, for installs).")
    toolchain_image: str = Field(
        DEFAULT_TOOLCHAIN_IMAGE,
        description="Image for programs in JavaScript, C++, Java, Rust, Go or bash "
        "(`aiev sandbox build --offline --toolchains`).",
    )
    pull: bool = Field(True, description="Pull the image when the engine does not have it.")
    docker_host: str | None = Field(None, description="Docker engine URL; default: DOCKER_HOST or the local socket.")
    workdir: str = Field("/workspace", description="Working directory inside the container.")
    timeout_s: float = Field(30.0, gt=0, description="Wall-clock limit for one program run.")
    install_timeout_s: float = Field(300.0, gt=0, description="Wall-clock limit for one `pip install`.")
    memory: str = Field("1g", description="Memory limit of the container (swap included), Docker syntax.")
    cpus: float = Field(1.0, gt=0, description="CPU quota of the container, in cores.")
    pids_limit: int = Field(256, gt=0, description="Most processes the container may hold at once.")
    network: str = Field(
        "none",
        description="Docker network mode of the program's container; `none` (default) cuts it off. "
        "Package installs use `install_network` instead.",
    )
    ca_bundle: Path | None = Field(None, description="Extra CA bundle mounted for pip (corporate proxies).")
    output_limit_bytes: int = Field(
        64_000, gt=0, description="Bytes of output kept from the head of one run; a cut run also keeps its last 4 KiB."
    )

    # -- containment (added with the warm runner) -----------------------------------------
    program_uid: int = Field(NOBODY, ge=1, description="Numeric uid the program runs as (needs no /etc/passwd entry).")
    program_gid: int = Field(NOBODY, ge=1, description="Numeric gid the program runs as.")
    no_new_privileges: bool = Field(True, description="Set `no-new-privileges` (setuid binaries stay inert).")
    drop_capabilities: bool = Field(
        True, description="Drop all capabilities but SETUID/SETGID (the runner needs them to drop to the uid)."
    )
    read_only_rootfs: bool = Field(
        True, description="Mount the image read-only; the workdir, /tmp and /dev/shm are size-limited tmpfs."
    )
    tmpfs_size: str = Field("256m", description="Size of the workdir and /tmp tmpfs each (counts as memory).")
    cpu_time_limit: bool = Field(
        True, description="RLIMIT_CPU of the program: timeout_s x cpus + 1 s, a backstop to the wall clock."
    )
    address_space_bytes: int | None = Field(
        None, gt=0, description="RLIMIT_AS of the program; off: the memory limit is the real bound."
    )
    file_size_bytes: int | None = Field(
        None, gt=0, description="RLIMIT_FSIZE of the program; off: the tmpfs size bounds files."
    )

    # -- package installs ------------------------------------------------------------------
    install_network: str = Field(
        "bridge", description="Network of the short-lived installer container that runs `pip install`."
    )
    pip_index_url: str | None = Field(None, description="`--index-url` for pip; default: pip's (PyPI).")
    allowed_packages: list[str] | None = Field(
        None, description="Project names pip may be asked for (PEP 503 normalised); None: any."
    )

    # -- runner ------------------------------------------------------------------------------
    startup_timeout_s: float = Field(60.0, gt=0, description="Most seconds to wait for a container's runner.")
    explain_assertions: bool = Field(
        True,
        description="A failed `assert` says what it compared (`clamp(-2, -5, 3) returned -2, expected -5`), "
        "after its own message if it has one; off: the `AssertionError` of `python`.",
    )
    state_dir: Path | None = Field(
        None, description="Host folder for the runner's socket and code; default: the system temp folder."
    )

    def for_language(self, language: str) -> SandboxSettings:
        """These settings for programs in ``language``: the same, from ``toolchain_image`` unless Python."""
        if language.strip().lower() in _PYTHON_NAMES:
            return self
        return self.model_copy(update={"image": self.toolchain_image})

    @field_validator("ca_bundle", "docker_host", "pip_index_url", "state_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("allowed_packages")
    @classmethod
    def _normalise_names(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [normalise_name(name) for name in value]


def normalise_name(name: str) -> str:
    """A project name as PEP 503 compares them: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()
