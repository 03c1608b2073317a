"""Settings of one Docker sandbox, as read from the ``sandbox:`` section of a config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_IMAGE = "python:3.12-slim"


class SandboxSettings(BaseModel):
    """How the executor's container is made and what one run may use."""

    model_config = ConfigDict(extra="forbid")

    image: str = Field(DEFAULT_IMAGE, description="Image with `python` and coreutils `timeout`.")
    pull: bool = Field(True, description="Pull the image when the engine does not have it.")
    docker_host: str | None = Field(
        None, description="Docker engine URL; default: DOCKER_HOST or the local socket."
    )
    workdir: str = Field("/workspace", description="Working directory inside the container.")
    timeout_s: float = Field(30.0, gt=0, description="Wall-clock limit for one program run.")
    install_timeout_s: float = Field(300.0, gt=0, description="Wall-clock limit for one `pip install`.")
    memory: str = Field("1g", description="Memory limit of the container (swap included), Docker syntax.")
    cpus: float = Field(1.0, gt=0, description="CPU quota of the container, in cores.")
    pids_limit: int = Field(256, gt=0, description="Most processes the container may hold at once.")
    network: str = Field(
        "bridge", description="Docker network mode; `none` cuts the program off the network."
    )
    ca_bundle: Path | None = Field(None, description="Extra CA bundle mounted for pip (corporate proxies).")
    output_limit_bytes: int = Field(64_000, gt=0, description="Most bytes of output kept from one run.")

    @field_validator("ca_bundle", "docker_host", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value
