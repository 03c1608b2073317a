"""Compile-and-run cost per language: the warm sandbox runner against the bare toolchain on the host.

Usage::

    python benchmarks/bench_languages.py [--runs 10] [--image aiev-sandbox-polyglot:latest] [--cpus 1]
                                         [--bare-cores N] [--languages bash,go]

For each language, a hello-world with one test (a function, one assertion, a print) is run
``--runs`` times after 2 warm-up runs, both ways, in turn (bare, ours, then ours, bare, ...)
so that both meet the same load:

* bare: the toolchain straight on the host through ``subprocess`` in a temporary folder
  (``node -e``, ``g++ && ./a.out``, ``java -ea File.java``, ``rustc && ./a.out``, ``go run``,
  ``bash``; ``go-test``: the same Go test as a ``go test`` program, the form Go dialogues and
  MultiPL-E's Go problems take), the compile step included; on every host core, or on the first ``--bare-cores``
  of them (``--bare-cores 1`` beside ``--cpus 1``: both sides get one core's worth of CPU;
  the JVM and ``go build`` use two cores when they have them);
* ours: ``DockerSandbox.run(program, language=...)`` (the warm runner forks a child that
  compiles and runs it, non-root, limited, the tests counted).

It prints p50 and p95 of each side in milliseconds and the ratio of the p50s (goal: 1.2 or less),
then the start-up time of a sandbox from the toolchain image and from the Python image.
The toolchain versions on both sides are printed too: the host's may differ from the image's.
The bare side runs without the host's ``NODE_*`` variables, as the sandbox's programs do
(``NODE_EXTRA_CA_CERTS`` alone makes every Node.js start read a CA bundle: about +70 ms).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiev_agents.sandbox import DockerSandbox, SandboxSettings  # noqa: E402

WARMUP = 2
BENCH_RUN = uuid.uuid4().hex[:8]  # tells this run's programs from an earlier run's
RUSTC = "/usr/bin/rustc" if Path("/usr/bin/rustc").exists() else "rustc"  # Debian's, as in the image
#: language -> (source, file name on the host, bare command)
CASES = {
    "javascript": (
        "const assert = require('assert');\nfunction hello() { return 'hello'; }\n"
        "assert.strictEqual(hello(), 'hello');\nconsole.log(hello());\n",
        "main.js",
        None,  # node -e SOURCE
    ),
    "cpp": (
        '#include <cassert>\n#include <cstdio>\n#include <cstring>\nconst char *hello() { return "hello"; }\n'
        'int main() { assert(std::strcmp(hello(), "hello") == 0); std::puts(hello()); }\n',
        "main.cpp",
        "g++ -std=c++17 -o a.out main.cpp && ./a.out",
    ),
    "java": (
        'class Main {\n  static String hello() { return "hello"; }\n'
        "  public static void main(String[] args) {\n"
        '    assert hello().equals("hello");\n    System.out.println(hello());\n  }\n}\n',
        "Main.java",
        "java -ea Main.java",
    ),
    "rust": (
        'fn hello() -> &\'static str { "hello" }\n'
        'fn main() { assert_eq!(hello(), "hello"); println!("{}", hello()); }\n',
        "main.rs",
        f"{RUSTC} --edition 2021 -o a.out main.rs && ./a.out",
    ),
    "go": (
        'package main\n\nimport "fmt"\n\nfunc hello() string { return "hello" }\n\n'
        'func main() {\n\tif hello() != "hello" {\n\t\tpanic("hello")\n\t}\n\tfmt.Println(hello())\n}\n',
        "main.go",
        "go run main.go",
    ),
    "go-test": (
        'package main\n\nimport "testing"\n\nfunc hello() string { return "hello" }\n\n'
        'func TestHello(t *testing.T) {\n\tif hello() != "hello" {\n\t\tt.Fatal(hello())\n\t}\n}\n',
        "main_test.go",
        "go test -v -count=1 main_test.go",
    ),
    "bash": (
        'hello() { echo hello; }\n[ "$(hello)" = hello ] || exit 1\nhello\n',
        "main.sh",
        "bash main.sh",
    ),
}
#: Cases that are a language's test-runner form: the language, and what their output must show.
TEST_RUNNER_CASES = {"go-test": ("go", "--- PASS: TestHello")}
#: The host's environment without what the sandbox's programs do not get either.
BARE_ENV = {name: value for name, value in os.environ.items() if not name.startswith("NODE_")}
VERSIONS = {
    "javascript": "node --version",
    "cpp": "g++ -dumpfullversion",
    "java": "java -version 2>&1 | head -1",
    "rust": f"{RUSTC} --version",
    "go": "go version",
    "bash": "bash --version | head -1",
}


def language_of(case: str) -> str:
    return TEST_RUNNER_CASES.get(case, (case,))[0]


def passed(case: str, output: str) -> bool:
    """The case's program ran as it should: printed hello, or its test runner passed its test."""
    return TEST_RUNNER_CASES[case][1] in output if case in TEST_RUNNER_CASES else output.strip() == "hello"


def p50_p95(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 of ``samples`` (seconds), in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000


def program(language: str, index: int) -> str:
    """The language's program, made new for run ``index`` by a comment at its end: a toolchain
    that caches builds (``go run``) meets every program of a dialogue for the first time, so
    the bare side must not reuse the previous run's build either."""
    return CASES[language][0] + ("#" if language == "bash" else "//") + f" run {BENCH_RUN}-{index}\n"


def bare_once(language: str, index: int, cores: set[int] | None = None) -> float:
    """Seconds of one run of the bare toolchain on the host (a fresh folder, compile included),
    on ``cores`` only if given (this process's affinity, which the toolchain inherits, is set
    around the run: a ``taskset`` or ``preexec_fn`` would add its own cost to the bare side)."""
    _, filename, command = CASES[language]
    source = program(language, index)
    every_core = os.sched_getaffinity(0)
    with tempfile.TemporaryDirectory(prefix="aiev-bench-") as folder:
        (Path(folder) / filename).write_text(source)
        argv = ["node", "-e", source] if command is None else ["/bin/sh", "-c", command]
        if cores:
            os.sched_setaffinity(0, cores)
        try:
            started = time.perf_counter()
            done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, env=BARE_ENV)
            elapsed = time.perf_counter() - started
        finally:
            os.sched_setaffinity(0, every_core)
    if done.returncode != 0 or not passed(language, done.stdout):
        raise SystemExit(f"bare {language} failed: {done.stdout}{done.stderr}")
    return elapsed


def sandbox_once(box: DockerSandbox, language: str, index: int) -> float:
    """Seconds of one ``DockerSandbox.run`` of the program, as the caller sees it."""
    started = time.perf_counter()
    result = box.run(program(language, index), language=language_of(language))
    elapsed = time.perf_counter() - started
    if result.exit_code != 0 or not passed(language, result.output):
        raise SystemExit(f"sandbox {language} failed: {result.status} {result.output}")
    return elapsed


def interleaved(
    box: DockerSandbox, language: str, runs: int, cores: set[int] | None = None
) -> tuple[list[float], list[float]]:
    """Bare and sandbox times, one of each in turn (which goes first alternates), so that both
    sides meet the same load on a shared machine."""
    bare: list[float] = []
    ours: list[float] = []
    for index in range(WARMUP + runs):
        if index % 2:
            ours_s = sandbox_once(box, language, index)
            bare_s = bare_once(language, index, cores)
        else:
            bare_s = bare_once(language, index, cores)
            ours_s = sandbox_once(box, language, index)
        if index >= WARMUP:
            bare.append(bare_s)
            ours.append(ours_s)
    return bare, ours


def startup_s(settings: SandboxSettings, runs: int = 3) -> float:
    """Median seconds from ``start()`` to a ready runner."""
    times = []
    for _ in range(runs):
        box = DockerSandbox(settings)
        started = time.perf_counter()
        box.start()
        times.append(time.perf_counter() - started)
        box.stop()
    return statistics.median(times)


def version(language: str, box: DockerSandbox | None = None) -> str:
    """The toolchain's version on the host, or in the sandbox ``box``."""
    if box is not None:
        output = box.run(VERSIONS[language].replace(RUSTC, "rustc") + "\n", language="bash").output
    else:
        output = subprocess.run(VERSIONS[language], shell=True, capture_output=True, text=True, env=BARE_ENV).stdout
    return output.strip().splitlines()[0] if output.strip() else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--image", default="aiev-sandbox-polyglot:latest")
    parser.add_argument("--python-image", default="aiev-sandbox:latest")
    parser.add_argument("--cpus", type=float, default=1.0, help="the sandbox's CPU quota (default 1 core)")
    parser.add_argument("--bare-cores", type=int, help="run the bare side on this many host cores (default: all)")
    parser.add_argument("--languages", default=",".join(CASES), help="comma-separated (default: all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    languages = args.languages.split(",")
    if set(languages) - set(CASES):
        parser.error(f"unknown languages {sorted(set(languages) - set(CASES))}; known: {', '.join(CASES)}")
    tools = {lang: VERSIONS[language_of(lang)].split()[0].split("/")[-1] for lang in languages}
    missing = [lang for lang, tool in tools.items() if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"toolchains missing on the host: {missing}")
    settings = SandboxSettings(image=args.image, pull=False, cpus=args.cpus)
    cores = set(sorted(os.sched_getaffinity(0))[: args.bare_cores]) if args.bare_cores else None
    bare_cores = len(cores or os.sched_getaffinity(0))
    print(f"{args.runs} runs each after {WARMUP} warm-up runs; sandbox cpus={args.cpus:g}; bare: {bare_cores} core(s)")
    print(
        f"{'language':<11} {'bare p50':>9} {'bare p95':>9} {'ours p50':>9} {'ours p95':>9} {'ratio':>6}  "
        "toolchain: host | image"
    )
    with DockerSandbox(settings) as box:
        for language in languages:
            bare_s, ours_s = interleaved(box, language, args.runs, cores)
            bare, ours = p50_p95(bare_s), p50_p95(ours_s)
            print(
                f"{language:<11} {bare[0]:>9.1f} {bare[1]:>9.1f} {ours[0]:>9.1f} {ours[1]:>9.1f} "
                f"{ours[0] / bare[0]:>6.2f}  {version(language_of(language))} | {version(language_of(language), box)}"
            )
    for name, image in (("toolchain image", args.image), ("python image", args.python_image)):
        print(f"start-up, {name} ({image}): {startup_s(SandboxSettings(image=image, pull=False)) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
