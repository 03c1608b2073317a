"""A chat model's MultiPL-E answer keeps the helpers it writes beside the function: they go before
the prompt's signature, without what cannot stand there (the model's `main`, file headers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiev_agents.data.multipl_e_helpers import helper_code
from aiev_agents.evaluate import CompletionsFile, EvalOptions, Evaluation, load_tasks
from aiev_agents.evaluate.candidates import code_for
from aiev_agents.sandbox import SandboxSettings

DATA = Path(__file__).parent / "data" / "multipl_e"


FENCES = {"rs": "rust", "sh": "bash"}


def tiny_add(code: str):
    return load_tasks(f"multipl-e-{code}", DATA / f"humaneval-{code}-tiny.jsonl").tasks[0]


#: Answers to the tiny `add` task whose function calls a helper, per language (the fenced code).
ANSWERS = {
    "js": "const assert = require('assert');\n\nfunction add(x, y) {\n  return plus(x, y);\n}\n\n"
    "function plus(a, b) { return a + b; }\nconsole.log(add(2, 3));\nassert.strictEqual(add(2,\n  3), 5);\n",
    "cpp": "#include <bits/stdc++.h>\n#include <numeric>\nlong plus(long a, long b) { return a + b; }\n"
    "long add(long x, long y) {\n    return plus(x, y);\n}\nvoid check() {\n    assert(add(2, 3) == 5);\n}\n"
    "int main() {\n    check();\n}\n",
    "java": "import java.util.*;\nimport java.util.function.*;\npublic class Problem {\n"
    "    public static long add(long x, long y) {\n        return plus(x, y);\n    }\n"
    "    private static long plus(long a, long b) {\n        return a + b;\n    }\n"
    "    public static void main(String[] args) {\n        System.out.println(add(2, 3));\n    }\n}\n",
    "rs": "fn plus(a: isize, b: isize) -> isize {\n    a + b\n}\n\n"
    'fn add(x: isize, y: isize) -> isize {\n    plus(x, y)\n}\n\nfn main() {\n    println!("{}", add(2, 3));\n}\n',
    "go": 'package main\n\nimport (\n    "fmt"\n)\n\nfunc add(x int, y int) int {\n    return plus(x, y)\n}\n\n'
    "func plus(a int, b int) int {\n    return a + b\n}\n\nfunc main() {\n    fmt.Println(add(2, 3))\n}\n\n"
    "func TestAdd(t *testing.T) {\n    if add(1, 1) != 2 {\n        t.Fail()\n    }\n}\n",
    "sh": 'plus() {\n    echo $(( $1 + $2 ))\n}\n\nadd() {\n    plus "$1" "$2"\n}\n',
}


def test_a_javascript_helper_after_the_function_goes_before_its_signature():
    task = tiny_add("js")
    program = code_for(task, f"```js\n{ANSWERS['js']}```")
    assert program.index("function plus(a, b)") < program.index("function add(x, y){")
    assert program.endswith("function add(x, y){\n  return plus(x, y);\n}")


def test_javascript_keeps_the_top_level_declarations_only():
    """The reply's own tests run at the top level and bind `assert`, which MultiPL-E's tests
    declare too: kept, they failed a correct answer ("Identifier 'assert' has already been declared")."""
    helpers = helper_code(tiny_add("js"), ANSWERS["js"])
    assert helpers == "function plus(a, b) { return a + b; }"
    answer = (
        "// helpers\nconst { strictEqual } = require('node:assert');\nconst LIMIT = [\n  1, 2,\n];\n"
        'let memo = new Map(); // "}"\nfunction add(x, y) {\n  return x + y;\n}\n'
        "class Box {\n  size() { return 1; }\n}\n"
        "strictEqual(add(1, 1), 2);\nfor (const x of LIMIT) { strictEqual(add(x, 0), x); }\n"
    )
    assert helper_code(tiny_add("js"), answer) == (
        'const LIMIT = [\n  1, 2,\n];\nlet memo = new Map(); // "}"\n\nclass Box {\n  size() { return 1; }\n}'
    )


def test_the_models_own_main_and_the_includes_the_prompt_has_are_left_out():
    helpers = helper_code(tiny_add("cpp"), ANSWERS["cpp"])
    assert helpers == (
        "#include <numeric>\nlong plus(long a, long b) { return a + b; }\n\n"
        "void check() {\n    assert(add(2, 3) == 5);\n}"
    )


def test_cpp_helpers_follow_a_declaration_of_the_function_since_one_written_after_it_may_call_it():
    task = tiny_add("cpp")
    program = code_for(task, f"```cpp\n{ANSWERS['cpp']}```")
    assert (
        program.index("long add(long x, long y);")
        < program.index("void check()")
        < program.index("long add(long x, long y) {")
    )


def test_a_java_helper_stays_inside_the_class_without_imports_class_header_or_main():
    helpers = helper_code(tiny_add("java"), ANSWERS["java"])
    assert helpers == "    private static long plus(long a, long b) {\n        return a + b;\n    }"


def test_go_package_and_import_lines_and_the_models_own_test_functions_are_left_out():
    helpers = helper_code(tiny_add("go"), ANSWERS["go"])
    assert helpers == "func plus(a int, b int) int {\n    return a + b\n}"


def test_an_answer_with_the_function_alone_builds_the_program_it_did_before():
    task = tiny_add("rs")
    answer = "```rust\nfn add(x: isize, y: isize) -> isize {\n    x + y\n}\n```"
    assert code_for(task, answer) == task.prompt + "    x + y\n"


@pytest.mark.docker
@pytest.mark.parametrize("code", sorted(ANSWERS))
def test_answers_that_call_their_helpers_pass(polyglot_settings, tmp_path: Path, code: str):
    completions = tmp_path / "answers.jsonl"
    completions.write_text(
        json.dumps({"task_id": "HumanEval_900_add", "solution": f"```{FENCES.get(code, code)}\n{ANSWERS[code]}```"})
        + "\n"
    )
    tasks = load_tasks(f"multipl-e-{code}", DATA / f"humaneval-{code}-tiny.jsonl", limit=1)
    settings = SandboxSettings(toolchain_image=polyglot_settings.image, pull=False)
    summary = Evaluation(tasks, settings, options=EvalOptions(timeout_s=30)).run(CompletionsFile(completions), tmp_path)
    assert summary["pass@1"] == 1.0, (tmp_path / "results.jsonl").read_text()
