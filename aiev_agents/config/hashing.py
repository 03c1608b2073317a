"""The config hash: which settings shape the data, so that two runs of one hash may share a dataset."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .root import AievConfig

_OPERATIONAL_MODEL_KEYS = (
    "api_key", "base_url", "timeout_s", "max_retries", "max_concurrency", "model_path", "n_threads",
)  # fmt: skip
_OPERATIONAL_SANDBOX_KEYS = {
    "docker_host", "state_dir", "pull", "startup_timeout_s", "install_timeout_s", "ca_bundle",
}  # fmt: skip
_OPERATIONAL_STAGE_SWITCH_KEYS = {"train_command", "train_mode", "train_timeout_s"}


def _file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return f"missing:{path.name}"


def config_hash(config: AievConfig) -> str:
    """A content hash of the settings that shape the data.

    Secrets and operational settings (endpoints, retries, concurrency, Docker host,
    timeouts of start-up and installs, threads) are left out, so restarting a server on
    another port does not make a new dataset; prompt files count by their content, a
    GGUF by its file name.
    """
    exclude: dict[str, Any] = {"output": True, "curate": True, "sandbox": _OPERATIONAL_SANDBOX_KEYS}
    exclude["stage_switch"] = True if config.stage != "auto" else _OPERATIONAL_STAGE_SWITCH_KEYS
    data = config.model_dump(mode="json", exclude=exclude)
    for spec in data["models"].values():
        for key in _OPERATIONAL_MODEL_KEYS:
            spec.pop(key, None)
    for name, spec in config.models.items():
        data["models"][name]["model_file"] = spec.model_path.name if spec.model_path else None
    for role in data["roles"].values():
        prompt = role.pop("prompt", None)
        role["prompt_sha256"] = _file_sha256(Path(prompt)) if prompt else None
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
