"""The languages the sandbox runs besides Python: how each one's program is compiled and run,
and where the evidence that its tests ran comes from.

Every language runs in the warm runner's ``exec`` mode: one command line, compile step
included, in the same forked, non-root, time-, memory-, process- and output-limited child as a
Python program (so the compiler's time counts against the run's limit and a runaway compiler
is killed with the rest). The toolchains come from the image (``aiev sandbox build --offline
--toolchains``: Debian bookworm's ``g++``, ``openjdk-17-jdk-headless``, ``libjavatuples-java``,
``rustc``, ``golang-go`` and an official Node.js build, ``node_release``).

Evidence that tests ran, per language (never the exit code alone):

========== ===============================================================================
javascript a preloaded module (``node -r``) counts calls of ``assert`` and ``console.assert``
cpp        the sandbox's ``<assert.h>`` (first on the include path) counts each ``assert``
java       each ``assert`` statement is preceded by a counting call; run with ``-ea``
rust       counting ``assert!``/``assert_eq!``/``assert_ne!`` macros; ``#[test]`` programs
           without ``main`` run under ``rustc --test`` and its summary counts test cases
go         ``func TestX(t *testing.T)`` programs run under ``go test -v``: each
           ``--- PASS``/``--- FAIL`` line is a test case; other programs have no evidence
bash       ``assert CMD...`` and ``assert_eq ACTUAL EXPECTED`` helpers (sourced through
           ``BASH_ENV``) count
========== ===============================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from aiev_agents.errors import ConfigError
from aiev_agents.sandbox.counting_sources import count_java_asserts, count_rust_asserts

TOOLCHAINS_DIR = "/opt/aiev/toolchains"
BUILD_DIR = "/tmp/aiev-build"
JAVA_CLASSPATH = "/usr/share/java/javatuples.jar"
GO_ENV = {"GOCACHE": "/tmp/.gocache", "GOPATH": "/tmp/go", "GO111MODULE": "off", "CGO_ENABLED": "0"}
#: The toolchains image's Go build cache, warmed when the image is built (``image.warm_go_cache``)
#: and read-only: builds read the standard library from it (cold, ``go test`` spends about 2 s
#: compiling the 27 packages ``CGO_ENABLED=0`` makes stale) and cannot add to it, so no
#: program's objects reach the next one's build. Images without it get a fresh cache in /tmp.
GO_CACHE_DIR = "/opt/aiev-gocache"

#: Canonical language name -> the names seeds, fences and users may give it.
ALIASES = {
    "python": ("python", "py", "python3"),
    "javascript": ("javascript", "js", "node", "nodejs"),
    "cpp": ("cpp", "c++", "cxx", "cc"),
    "java": ("java",),
    "rust": ("rust", "rs"),
    "go": ("go", "golang"),
    "bash": ("bash", "sh", "shell"),
}
_CANONICAL = {alias: name for name, aliases in ALIASES.items() for alias in aliases}


def canonical_language(name: str) -> str:
    """The canonical name of a language given by any of its aliases (any case).

    Raises:
        ConfigError: Not a language the sandbox runs; the message lists them.
    """
    found = _CANONICAL.get(str(name).strip().lower())
    if found is None:
        raise ConfigError(f"Unknown language {name!r}: use one of {', '.join(ALIASES)} (or an alias of one).")
    return found


def known_language(name: str | None) -> str | None:
    """The canonical name of ``name``, or None when it is no language the sandbox runs."""
    return _CANONICAL.get(str(name or "").strip().lower())


@dataclass(frozen=True)
class PreparedRun:
    """What the runner gets for one program: the file, its (rewritten) source, the command."""

    filename: str
    source: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    evidence: Callable[[str], dict[str, int]] | None = None


def _shell(script: str) -> list[str]:
    return ["/bin/sh", "-c", script]


def _prepare_javascript(source: str) -> PreparedRun:
    return PreparedRun("main.js", source, ["node", "-r", f"{TOOLCHAINS_DIR}/count.js", "main.js"])


def _prepare_cpp(source: str) -> PreparedRun:
    build = f"mkdir -p {BUILD_DIR} && g++ -std=c++17 -I{TOOLCHAINS_DIR}/cxx -o {BUILD_DIR}/main main.cpp"
    return PreparedRun("main.cpp", source, _shell(f"{build} && exec {BUILD_DIR}/main"))


def _prepare_java(source: str) -> PreparedRun:
    flags = "-ea -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Xshare:auto"
    return PreparedRun(
        "Main.java", count_java_asserts(source), ["java", *flags.split(), "-cp", JAVA_CLASSPATH, "Main.java"]
    )


_RUST_TEST = re.compile(r"#\[\s*test\s*\]")
_RUST_MAIN = re.compile(r"\bfn\s+main\s*\(")
_RUST_SUMMARY = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed", re.M)


def _rust_test_evidence(output: str) -> dict[str, int]:
    found = _RUST_SUMMARY.findall(output)
    passed, failed = (sum(int(row[i]) for row in found) for i in (0, 1))
    return {"test_cases": passed + failed, "test_failures": failed}


def _prepare_rust(source: str) -> PreparedRun:
    as_tests = bool(_RUST_TEST.search(source)) and not _RUST_MAIN.search(source)
    flags = "--edition 2021" + (" --test" if as_tests else "")
    build = f"mkdir -p {BUILD_DIR} && rustc {flags} -o {BUILD_DIR}/main main.rs"
    evidence = _rust_test_evidence if as_tests else None
    return PreparedRun("main.rs", count_rust_asserts(source), _shell(f"{build} && exec {BUILD_DIR}/main"), {}, evidence)


_GO_TEST = re.compile(r"^func\s+Test\w*\s*\(\s*\w+\s+\*testing\.T\s*\)", re.M)
_GO_RESULT = re.compile(r"^\s*--- (PASS|FAIL): ", re.M)


def _go_test_evidence(output: str) -> dict[str, int]:
    results = _GO_RESULT.findall(output)
    return {"test_cases": len(results), "test_failures": results.count("FAIL")}


def _go(command: str) -> list[str]:
    return _shell(f"[ -d {GO_CACHE_DIR} ] && export GOCACHE={GO_CACHE_DIR}; exec {command}")


def _prepare_go(source: str) -> PreparedRun:
    if _GO_TEST.search(source):
        argv = _go("go test -v -count=1 main_test.go")
        return PreparedRun("main_test.go", source, argv, dict(GO_ENV), _go_test_evidence)
    return PreparedRun("main.go", source, _go("go run main.go"), dict(GO_ENV))


def _prepare_bash(source: str) -> PreparedRun:
    return PreparedRun("main.sh", source, ["bash", "main.sh"], {"BASH_ENV": f"{TOOLCHAINS_DIR}/count.sh"})


PREPARERS: dict[str, Callable[[str], PreparedRun]] = {
    "javascript": _prepare_javascript,
    "cpp": _prepare_cpp,
    "java": _prepare_java,
    "rust": _prepare_rust,
    "go": _prepare_go,
    "bash": _prepare_bash,
}


def prepare_run(language: str, source: str) -> PreparedRun:
    """The file, source and command that compile (if need be) and run ``source``.

    Raises:
        ConfigError: ``language`` is unknown, or Python (which runs through the harness).
    """
    name = canonical_language(language)
    if name not in PREPARERS:
        raise ConfigError(f"{name} programs run through the Python harness, not a toolchain driver.")
    return PREPARERS[name](source)
