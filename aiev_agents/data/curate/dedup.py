"""Exact and near-duplicate detection over samples (problem statement plus final program).

Exact duplicates share a hash of the normalised problem (case and spacing ignored) and the
normalised code (comments, blank lines and spacing ignored). Near-duplicates are found with
MinHash LSH (``datasketch``) over word-token shingles; an LSH candidate counts only when
its estimated Jaccard similarity really reaches the threshold.

Both indexes are *online*: ``check`` a sample against what was kept so far, then ``add`` it
if it is kept. The first sample of a group wins, so results follow the file order.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from typing import Any

from ...errors import DatasetError

_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
# A string literal (kept) or a comment (dropped); strings first, so a "#" inside one is safe.
_STRING = "|".join((r'"""[\s\S]*?"""', r"'''[\s\S]*?'''", r'"(?:\\.|[^"\\\n])*"', r"'(?:\\.|[^'\\\n])*'"))
_STRING_OR_COMMENT = re.compile(rf"(?P<string>{_STRING})|#[^\n]*")


def normalize_text(text: str) -> str:
    """Lower case, with every run of whitespace made one space."""
    return _SPACE.sub(" ", text).strip().lower()


def normalize_code(code: str) -> str:
    """Python source without comments, with every run of whitespace made one space.

    String literals are kept as they are (a ``#`` inside one is not a comment). A regex, not
    ``tokenize``: ten times faster, and it accepts code that does not tokenize.
    """
    without_comments = _STRING_OR_COMMENT.sub(lambda m: m.group("string") or "", code)
    return _SPACE.sub(" ", without_comments).strip()


def stable_hash32(data: bytes) -> int:
    """CRC-32 of a shingle: deterministic across runs (unlike ``hash``) and cheaper than SHA-1.

    MinHash mixes it (datasketch's default scheme applies a finaliser and affine permutations).
    """
    return zlib.crc32(data)


def exact_key(problem: str, code: str) -> str:
    """The content hash two exact duplicates share."""
    text = normalize_text(problem) + "\x00" + normalize_code(code)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def word_tokens(text: str) -> list[str]:
    """Lower-case word tokens (letters, digits, underscore): punctuation and layout ignored."""
    return _WORD.findall(text.lower())


def shingles(text: str, size: int) -> set[bytes]:
    """The set of ``size``-token shingles of ``text``; a shorter text is one shingle."""
    tokens = word_tokens(text)
    if len(tokens) <= size:
        return {" ".join(tokens).encode("utf-8")} if tokens else set()
    return {" ".join(tokens[i : i + size]).encode("utf-8") for i in range(len(tokens) - size + 1)}


class ExactDuplicateIndex:
    """Hashes of the samples kept so far."""

    def __init__(self) -> None:
        self._first: dict[str, str] = {}

    def check(self, problem: str, code: str) -> tuple[str, str | None]:
        """Return the sample's key and the id of the kept sample it duplicates, if any."""
        key = exact_key(problem, code)
        return key, self._first.get(key)

    def add(self, key: str, sample_id: str) -> None:
        self._first.setdefault(key, sample_id)

    def __len__(self) -> int:
        return len(self._first)


class NearDuplicateIndex:
    """MinHash LSH over the samples kept so far.

    Args:
        threshold: Jaccard similarity at or above which two samples are near-duplicates.
        num_perm: MinHash permutations.
        shingle_size: Tokens per shingle.

    Raises:
        DatasetError: ``datasketch`` is not installed (the message gives the install command).
    """

    def __init__(self, threshold: float = 0.7, num_perm: int = 128, shingle_size: int = 5) -> None:
        datasketch = _import_datasketch()
        self.threshold = threshold
        self.shingle_size = shingle_size
        self._minhash_cls = datasketch.MinHash
        self._template = datasketch.MinHash(num_perm=num_perm, seed=1, hashfunc=stable_hash32)
        self._lsh = _lsh(datasketch, threshold, num_perm)
        self._signatures: list[Any] = []
        self._labels: list[str] = []

    def signature(self, text: str) -> Any:
        """The MinHash of a text's shingles (permutations shared, so no per-sample setup)."""
        minhash = self._minhash_cls(
            num_perm=len(self._template.hashvalues),
            seed=self._template.seed,
            permutations=self._template.permutations,
            scheme=self._template.scheme,
            hashfunc=stable_hash32,
        )
        minhash.update_batch(sorted(shingles(text, self.shingle_size)))
        return minhash

    def check(self, signature: Any) -> tuple[str, float] | None:
        """The label of the most similar kept sample at or above the threshold, and the similarity."""
        best: tuple[int, float] | None = None
        for key in self._lsh.query(signature):
            similarity = float(signature.jaccard(self._signatures[key]))
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (key, similarity)
        return None if best is None else (self._labels[best[0]], best[1])

    def add(self, label: str, signature: Any) -> None:
        """Keep a sample; ``label`` (its id) need not be unique."""
        self._lsh.insert(len(self._signatures), signature)
        self._signatures.append(signature)
        self._labels.append(label)

    def __len__(self) -> int:
        return len(self._signatures)


def _lsh(datasketch: Any, threshold: float, num_perm: int) -> Any:
    """An LSH index for ``threshold``; a lower one when too few bands fit (threshold near 1).

    A lower LSH threshold only yields more candidates: each is still checked against the
    real threshold.
    """
    lsh_threshold = threshold
    while True:
        try:
            return datasketch.MinHashLSH(threshold=lsh_threshold, num_perm=num_perm)
        except ValueError:
            if lsh_threshold <= 0.1:
                raise
            lsh_threshold = round(lsh_threshold - 0.05, 2)


def _import_datasketch() -> Any:
    try:
        import datasketch
    except ImportError as exc:
        raise DatasetError(
            "near-duplicate removal needs datasketch: pip install 'aiev-agents[curate]' "
            "(or set curate.near_dedup: false)"
        ) from exc
    return datasketch
