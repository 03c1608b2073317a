"""Evaluation steps that need no sandbox: pass@k, sanitize, prompts, completions, output comparison."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from aiev_agents.data.benchmarks import BenchmarkTask, load_humaneval
from aiev_agents.errors import DatasetError
from aiev_agents.evaluate import CompletionsFile, build_messages, build_prompt, pass_at_k, sanitize
from aiev_agents.evaluate.plus_driver import matches
from aiev_agents.evaluate.score import mean_pass_at_k, pass_at_ks, report_ks

HUMANEVAL = {task.task_id: task for task in load_humaneval()}
MBPP_TASK = BenchmarkTask(
    benchmark="mbpp",
    task_id="Mbpp/2",
    prompt="Write a function to find the shared elements from the given two lists.",
    solution="def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n",
    entry_point="similar_elements",
    test="assert set(similar_elements((3, 4), (4, 5))) == {4}\n",
    test_list=("assert set(similar_elements((3, 4), (4, 5))) == {4}", "assert similar_elements((1,), (2,)) == ()"),
)

# -- pass@k ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 3, 1, 3 / 10),  # pass@1 is the share that passed
        (10, 2, 2, 1 - 28 / 45),  # 1 - C(8,2)/C(10,2)
        (4, 1, 2, 1 - 3 / 6),  # 1 - C(3,2)/C(4,2)
        (20, 5, 10, 1 - 3003 / 184756),  # 1 - C(15,10)/C(20,10)
        (5, 0, 1, 0.0),
        (5, 5, 5, 1.0),
        (5, 4, 2, 1.0),  # one failure cannot fill a draw of two
    ],
)
def test_pass_at_k_matches_hand_computed_values(n: int, c: int, k: int, expected: float) -> None:
    assert math.isclose(pass_at_k(n, c, k), expected, rel_tol=1e-12)


def test_pass_at_k_rejects_inconsistent_counts() -> None:
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k(3, 4, 1)


def test_mean_pass_at_k_averages_tasks() -> None:
    assert mean_pass_at_k([(10, 3), (10, 10)], 1) == pytest.approx((0.3 + 1.0) / 2)


def test_report_ks_keeps_standard_ks_and_n_that_every_task_has() -> None:
    assert report_ks([20, 15], extra=[15]) == [1, 10, 15]
    assert pass_at_ks({"a": (1, 1), "b": (1, 0)}, [1]) == {"pass@1": 0.5}


# -- sanitize ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "entry_point", "expected"),
    [
        pytest.param(
            "Here you go:\n```python\nimport math\n\ndef area(r):\n    return math.pi * r * r\n\nprint(area(2))\n```\n",
            "area",
            "import math\n\n\ndef area(r):\n    return math.pi * r * r\n",
            id="keeps_the_fenced_function_and_drops_demo_code",
        ),
        pytest.param(
            "def total(numbers):\n    result = 0\n    for n in numbers:\n        result += n\n    return result\n\n"
            "numbers = [1, 2, 3]\nresult = total(numbers)\nprint(result)\n",
            "total",
            "def total(numbers):\n    result = 0\n    for n in numbers:\n        result += n\n    return result\n",
            id="drops_demo_lines_that_share_a_name_with_a_local_variable",
        ),
        pytest.param(
            "Sure! The function is\ndef double(x):\n    return 2 * x\nIt doubles x, as asked.",
            "double",
            "def double(x):\n    return 2 * x\n",
            id="takes_the_longest_parsable_span_of_unfenced_prose",
        ),
        pytest.param(
            "```python\ndef double(x):\n    return 2 * x\n\ndef triple(x):\n    return 3 *",
            "double",
            "def double(x):\n    return 2 * x\n",
            id="cuts_a_reply_truncated_by_max_tokens",
        ),
        pytest.param(
            "import unittest\n\ndef add(a, b):\n    return a + b\n\nclass AddTest(unittest.TestCase):\n"
            "    def test_add(self):\n        self.assertEqual(add(1, 2), 3)\n\n"
            "def test_more():\n    assert add(2, 2) == 4\n\nif __name__ == '__main__':\n    unittest.main()\n",
            None,
            "import unittest\n\n\ndef add(a, b):\n    return a + b\n",
            id="without_entry_point_drops_tests_and_keeps_definitions",
        ),
        pytest.param(
            "def f():\n    return 1\n\ndef f():\n    return 2\n",
            "f",
            "def f():\n    return 1\n\n\ndef f():\n    return 2\n",
            id="keeps_both_definitions_of_a_name_so_the_later_one_wins",
        ),
        pytest.param("I cannot solve this problem.", "f", "", id="of_prose_without_code_is_empty"),
    ],
)
def test_sanitize_gives_the_runnable_code_of_a_reply(reply: str, entry_point: str | None, expected: str) -> None:
    assert sanitize(reply, entry_point) == expected


def test_sanitize_keeps_helpers_the_entry_point_reaches_and_drops_others() -> None:
    code = (
        "LIMIT = 10\n\ndef helper(x):\n    return min(x, LIMIT)\n\ndef unused():\n    return 1\n\n"
        "def solve(x):\n    return helper(x)\n\nassert solve(3) == 3\n"
    )
    kept = sanitize(code, "solve")
    assert "def helper" in kept and "LIMIT = 10" in kept and "def solve" in kept
    assert "unused" not in kept and "assert" not in kept


def test_sanitize_joins_a_bare_body_to_the_humaneval_prompt() -> None:
    task = HUMANEVAL["HumanEval/0"]
    assert sanitize("    return False\n", task.entry_point, prompt=task.prompt) == task.prompt + "    return False\n"


def test_sanitize_indents_a_flush_left_body_before_joining_it() -> None:
    task = HUMANEVAL["HumanEval/0"]
    code = sanitize("```python\nreturn False\n```", task.entry_point, prompt=task.prompt)
    assert code.endswith("    return False\n") and code.startswith("from typing import List")


def test_sanitize_keeps_the_real_definition_when_a_later_block_only_uses_it() -> None:
    task = HUMANEVAL["HumanEval/0"]
    reply = (
        "```python\ndef has_close_elements(numbers, threshold):\n    return True\n```\n"
        "Usage:\n```python\nprint(has_close_elements([1.0], 0.5))\n```\n"
    )
    code = sanitize(reply, task.entry_point, prompt=task.prompt)
    assert code == "from typing import List\n\n\ndef has_close_elements(numbers, threshold):\n    return True\n"


def test_sanitize_adds_prompt_helpers_the_code_uses() -> None:
    task = HUMANEVAL["HumanEval/32"]
    reply = "```python\ndef find_zero(xs):\n    return poly(xs, 0.0)\n```"
    code = sanitize(reply, task.entry_point, prompt=task.prompt)
    assert code.index("import math") < code.index("def poly(") < code.index("def find_zero(xs):")
    assert code.count("def find_zero") == 1


# -- prompts -----------------------------------------------------------------------------------


def test_humaneval_prompt_is_autocoders_instruction_with_the_prompt_in_a_fence() -> None:
    task = HUMANEVAL["HumanEval/0"]
    assert build_prompt(task) == (f"Write a solution to the following problem:\n```python\n{task.prompt.strip()}\n```")
    assert build_messages(task) == [{"role": "user", "content": build_prompt(task)}]


def test_mbpp_prompt_is_the_text_and_the_assertions() -> None:
    assert build_prompt(MBPP_TASK) == (
        "Write a function to find the shared elements from the given two lists.\n"
        "Your code should satisfy the following assertion:\n```python\n"
        "assert set(similar_elements((3, 4), (4, 5))) == {4}\nassert similar_elements((1,), (2,)) == ()\n```"
    )


# -- completions files -------------------------------------------------------------------------


def test_completions_follow_human_eval_and_evalplus_conventions(tmp_path: Path) -> None:
    task = HUMANEVAL["HumanEval/0"]
    path = tmp_path / "samples.jsonl"
    rows = [
        {"task_id": "HumanEval/0", "completion": "    return False\n"},
        {"task_id": "HumanEval/0", "solution": "```python\ndef has_close_elements(a, b):\n    return True\n```"},
        {"task_id": "HumanEval/999", "completion": ""},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    source = CompletionsFile(path)
    assert source.plan([task]) == [(task, 0), (task, 1)]
    assert source.unknown_task_ids == ["HumanEval/999"]
    assert source.candidate(task, 0).code == task.prompt + "    return False\n"
    assert source.candidate(task, 1).code.endswith("def has_close_elements(a, b):\n    return True\n")


def test_tasks_without_a_sample_count_as_failed_unless_scored_as_a_subset() -> None:
    from aiev_agents.evaluate import LoadedBenchmark, SampleResult, build_summary

    tasks = [HUMANEVAL[f"HumanEval/{i}"] for i in range(4)]
    benchmark = LoadedBenchmark("humaneval", tasks, "package", "hash", 164)
    results = [
        SampleResult(task_id, sample, passed, "pass" if passed else "fail", "", 0.1, "")
        for task_id, sample, passed in [("HumanEval/0", 0, True), ("HumanEval/0", 1, False), ("HumanEval/1", 0, True)]
        + [("HumanEval/1", 1, True)]
    ]
    whole = build_summary(benchmark, results, {}, missing=["HumanEval/2", "HumanEval/3"])
    assert whole["pass@k"] == {"pass@1": round((0.5 + 1.0 + 0 + 0) / 4, 6), "pass@2": 0.5}
    assert (whole["counts"]["tasks"], whole["counts"]["missing_tasks"]) == (4, 2)
    subset = build_summary(benchmark, results, {})
    assert subset["pass@k"] == {"pass@1": 0.75, "pass@2": 1.0}
    assert (subset["counts"]["tasks"], subset["counts"]["missing_tasks"]) == (2, 0)


def test_a_completion_line_without_text_is_a_dataset_error(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text(json.dumps({"task_id": "HumanEval/0", "answer": "x"}) + "\n")
    with pytest.raises(DatasetError, match=r"samples.jsonl:1 needs a `completion`"):
        CompletionsFile(path)


# -- HumanEval+ output comparison (evalplus's rules) ---------------------------------------------


@pytest.mark.parametrize(
    ("out", "expected", "atol", "verdict"),
    [
        ([1, 2], [1, 2], 0, True),
        ((1, 2), [1, 2], 0, False),  # equality decides when there is no tolerance
        (0.30000000000000004, 0.3, 0, True),  # float outputs get atol 1e-6
        (0.3001, 0.3, 0, False),
        (0.5001, 0.5, 1e-3, True),
        ([0.5001, 1.0], [0.5, 1.0], 1e-3, True),
        (1, 1.0, 0, True),  # 1 == 1.0
        (2, 2.0000001, 1e-3, False),  # within tolerance, but an int is not a float
        (float("nan"), float("nan"), 1e-6, True),
    ],
)
def test_outputs_compare_as_evalplus_compares_them(out: object, expected: object, atol: float, verdict: bool) -> None:
    assert matches(out, expected, atol, None, []) is verdict


def test_find_zero_is_checked_by_the_polynomial_value() -> None:
    coefficients = [-6, 11, -6, 1]  # (x - 1)(x - 2)(x - 3)
    assert matches(2.00000001, 1.0, 1e-4, "poly_root", [coefficients])
    assert not matches(2.5, 1.0, 1e-4, "poly_root", [coefficients])
