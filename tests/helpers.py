"""Small shared pieces of the tests: configs that point at a scripted teacher."""

from __future__ import annotations

from pathlib import Path

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def host_ca_bundle() -> Path | None:
    """The host's CA bundle, mounted into the sandbox so pip trusts the host's proxies too."""
    return HOST_CA_BUNDLE if HOST_CA_BUNDLE.exists() else None


def write_config(
    folder: Path,
    base_url: str,
    image: str,
    *,
    max_rounds: int = 3,
    docker_host: str | None = None,
    max_retries: int = 0,
    model_extra: dict[str, object] | None = None,
) -> Path:
    """A teaching config whose teacher is the scripted server at ``base_url``."""
    ca_bundle = host_ca_bundle()
    lines = [
        "stage: teaching",
        "models:",
        "  teacher:",
        "    backend: openai_compatible",
        "    model: scripted-teacher",
        f"    base_url: {base_url}",
        f"    max_retries: {max_retries}",
        "    timeout_s: 10",
        *(f"    {key}: {value}" for key, value in (model_extra or {}).items()),
        "sandbox:",
        f"  image: {image}",
        f"  ca_bundle: {ca_bundle or ''}",
        f"dialogue:\n  max_rounds: {max_rounds}",
    ]
    if docker_host:
        lines.insert(lines.index("sandbox:") + 1, f"  docker_host: {docker_host}")
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_seeds(folder: Path, lines: list[str]) -> Path:
    path = folder / "seeds.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path
