"""Programs in JavaScript, C++, Java, Rust, Go and bash run in the sandbox, compile step included,
and "tests ran" needs each language's evidence, never the exit code alone."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiev_agents.errors import ConfigError
from aiev_agents.sandbox import DockerSandbox, SandboxSettings
from aiev_agents.sandbox.languages import GO_CACHE_DIR, canonical_language, prepare_run

pytestmark = pytest.mark.docker

#: language -> (a program whose two tests pass, the same with a wrong test, the same without tests)
PROGRAMS = {
    "javascript": (
        "const assert = require('node:assert');\nfunction add(a, b) { return a + b; }\n"
        "assert.strictEqual(add(1, 2), 3);\nassert(add(0, 0) === 0);\n",
        "const assert = require('assert');\nfunction add(a, b) { return a + b; }\nassert.deepEqual(add(1, 2), 4);\n",
        "function add(a, b) { return a + b; }\nconsole.log(add(1, 2));\n",
    ),
    "cpp": (
        "#include <cassert>\nint add(int a, int b) { return a + b; }\n"
        "int main() { assert(add(1, 2) == 3); assert(add(0, 0) == 0); }\n",
        "#include <assert.h>\nint add(int a, int b) { return a + b; }\nint main() { assert(add(1, 2) == 4); }\n",
        '#include <cstdio>\nint add(int a, int b) { return a + b; }\nint main() { std::printf("%d\\n", add(1, 2)); }\n',
    ),
    "java": (
        "class Problem {\n  static int add(int a, int b) { return a + b; }\n"
        "  public static void main(String[] args) { assert add(1, 2) == 3; assert (add(0, 0) == 0); }\n}\n",
        "class Problem {\n  static int add(int a, int b) { return a + b; }\n"
        "  public static void main(String[] args) { assert add(1, 2) == 4; }\n}\n",
        "class Problem {\n  static int add(int a, int b) { return a + b; }\n"
        "  public static void main(String[] args) { System.out.println(add(1, 2)); }\n}\n",
    ),
    "rust": (
        "fn add(a: i32, b: i32) -> i32 { a + b }\nfn main() { assert_eq!(add(1, 2), 3); assert!(add(0, 0) == 0); }\n",
        "fn add(a: i32, b: i32) -> i32 { a + b }\nfn main() { assert_eq!(add(1, 2), 4); }\n",
        'fn add(a: i32, b: i32) -> i32 { a + b }\nfn main() { println!("{}", add(1, 2)); }\n',
    ),
    "go": (
        'package main\nimport "testing"\nfunc add(a, b int) int { return a + b }\n'
        "func TestAdd(t *testing.T) { if add(1, 2) != 3 { t.Fatal(add(1, 2)) } }\n"
        "func TestZero(t *testing.T) { if add(0, 0) != 0 { t.Fatal(add(0, 0)) } }\n",
        'package main\nimport "testing"\nfunc add(a, b int) int { return a + b }\n'
        "func TestAdd(t *testing.T) { if add(1, 2) != 4 { t.Fatal(add(1, 2)) } }\n",
        'package main\nimport "fmt"\nfunc add(a, b int) int { return a + b }\nfunc main() { fmt.Println(add(1, 2)) }\n',
    ),
    "bash": (
        'add() { echo $(( $1 + $2 )); }\nassert_eq "$(add 1 2)" 3\nassert [ "$(add 0 0)" = 0 ]\n',
        'add() { echo $(( $1 + $2 )); }\nassert_eq "$(add 1 2)" 4\n',
        "add() { echo $(( $1 + $2 )); }\nadd 1 2\n",
    ),
}
#: Where each language's evidence lands: assertions counted, or test cases of a test runner.
EVIDENCE = {"go": "test_cases"}


@pytest.fixture(scope="module")
def sandbox(polyglot_settings: SandboxSettings) -> Iterator[DockerSandbox]:
    with DockerSandbox(polyglot_settings) as box:
        yield box


@pytest.mark.parametrize("language", sorted(PROGRAMS))
def test_passing_tests_pass_with_their_count(sandbox: DockerSandbox, language: str):
    result = sandbox.run(PROGRAMS[language][0], language=language)
    assert (result.status, result.exit_code) == ("pass", 0), result.output
    assert getattr(result, EVIDENCE.get(language, "assertions")) == 2


@pytest.mark.parametrize("language", sorted(PROGRAMS))
def test_a_failing_test_fails(sandbox: DockerSandbox, language: str):
    result = sandbox.run(PROGRAMS[language][1], language=language)
    assert result.status == "fail"
    assert result.exit_code != 0


@pytest.mark.parametrize("language", sorted(PROGRAMS))
def test_a_program_without_tests_that_exits_0_has_no_tests(sandbox: DockerSandbox, language: str):
    result = sandbox.run(PROGRAMS[language][2], language=language)
    assert (result.status, result.exit_code, result.assertions, result.test_cases) == ("no_tests", 0, 0, 0)
    assert result.output.strip() == "3"


@pytest.mark.parametrize(
    ("language", "source", "message"),
    [
        ("cpp", "int main() { return undefined_name; }\n", "undefined_name"),
        ("java", "class Problem { public static void main(String[] a) { int x = ; } }\n", "error"),
        ("rust", 'fn main() { let x: i32 = "s"; }\n', "mismatched types"),
    ],
)
def test_a_compile_error_fails_with_the_compilers_message(sandbox: DockerSandbox, language, source, message):
    result = sandbox.run(source, language=language)
    assert result.status == "fail"
    assert message in result.output


def test_rust_test_functions_run_under_the_test_harness(sandbox: DockerSandbox):
    source = "fn add(a: i32, b: i32) -> i32 { a + b }\n#[test]\nfn adds() { assert_eq!(add(1, 2), 3); }\n"
    result = sandbox.run(source, language="rs")
    assert (result.status, result.test_cases, result.assertions) == ("pass", 1, 1)


def test_counting_cpp_asserts_does_not_pull_libstdcpp_into_a_program_that_uses_none_of_it(sandbox: DockerSandbox):
    """Linking libstdc++ only for the counter would add ~35 ms to every compile-and-run."""
    source = (
        "#include <cassert>\n#include <cstdio>\n#include <cstring>\n"
        "int main() {\n"
        '    FILE *maps = std::fopen("/proc/self/maps", "r");\n'
        "    char line[512];\n    bool linked = false;\n"
        '    while (std::fgets(line, sizeof line, maps)) linked = linked || std::strstr(line, "libstdc++");\n'
        "    assert(!linked);\n"
        "}\n"
    )
    result = sandbox.run(source, language="cpp")
    assert (result.status, result.assertions) == ("pass", 1), result.output


def test_javascript_console_assert_that_fails_fails_the_run_although_it_exits_0(sandbox: DockerSandbox):
    result = sandbox.run("console.assert(1 + 1 === 3, 'math');\n", language="js")
    assert (result.exit_code, result.status) == (0, "fail")


def test_the_program_runs_as_the_unprivileged_uid_without_network(sandbox: DockerSandbox):
    source = (
        "const assert = require('assert');\nassert.strictEqual(process.getuid(), 65534);\n"
        "assert.deepStrictEqual(Object.keys(require('os').networkInterfaces()), ['lo']);\n"
    )
    assert sandbox.run(source, language="javascript").status == "pass"


def test_aliases_name_the_languages():
    assert [canonical_language(name) for name in ("JS", "c++", "rs", "golang", "sh", "py")] == [
        "javascript",
        "cpp",
        "rust",
        "go",
        "bash",
        "python",
    ]


def test_an_unknown_language_is_a_config_error_naming_the_known_ones():
    with pytest.raises(ConfigError, match="javascript, cpp, java, rust, go, bash"):
        canonical_language("cobol")


def test_go_builds_read_the_images_warmed_cache_and_cannot_write_to_it(sandbox: DockerSandbox):
    """The standard library comes from the read-only cache the image build filled; what a program
    builds cannot reach the next program's build."""
    source = (
        'package main\nimport (\n\t"os"\n\t"path/filepath"\n\t"testing"\n)\n'
        "func TestCache(t *testing.T) {\n"
        '\tcache := os.Getenv("GOCACHE")\n'
        f'\tif cache != "{GO_CACHE_DIR}" {{ t.Fatal(cache) }}\n'
        '\tentries, _ := filepath.Glob(filepath.Join(cache, "??", "*"))\n'
        "\tif len(entries) < 100 { t.Fatal(len(entries)) }\n"
        '\tplanted := filepath.Join(cache, "planted")\n'
        '\tif err := os.WriteFile(planted, []byte("x"), 0o644); err == nil { t.Fatal("written") }\n'
        '\tif err := os.WriteFile(entries[0], []byte("x"), 0o644); err == nil { t.Fatal("overwritten") }\n'
        "}\n"
    )
    result = sandbox.run(source, language="go")
    assert (result.status, result.test_cases) == ("pass", 1), result.output


@pytest.mark.skipif(shutil.which("go") is None, reason="needs go on the host")
def test_a_go_run_without_the_images_cache_builds_with_a_fresh_one(tmp_path: Path):
    """Images built before the warmed cache (or a user's own) still run Go programs."""
    prepared = prepare_run("go", PROGRAMS["go"][0])
    (tmp_path / prepared.filename).write_text(prepared.source)
    env = {**os.environ, **prepared.env, "GOCACHE": str(tmp_path / "cache"), "GOPATH": str(tmp_path / "go")}
    done = subprocess.run(prepared.argv, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--- PASS: TestAdd" in done.stdout
    assert any((tmp_path / "cache").iterdir())
