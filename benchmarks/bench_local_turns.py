"""A dialogue's model calls on one local model: prefix cache and prompt-lookup decoding.

A dialogue's questioner and programmer share one llama.cpp model; each call's prompt is its
own role's growing conversation, so without a prefix cache llama.cpp evaluates the whole prompt
every time (it keeps only the last sequence, the other role's). A repaired program repeats most
of the previous one, which prompt-lookup decoding can draft from the prompt. This replays the
calls of a three-round dialogue (proposal, program, feedback, fix, feedback, fix) with the
shipped prompts, same model, seed and temperature 0, once per variant: no cache, ``prefix_cache_mb``,
the cache with ``prompt_lookup``, and two ``parallel`` slots (each role's conversation in its
own). Printed per call and in total: prompt tokens, tokens evaluated, tokens generated,
seconds; then generated tokens/s on first turns and on repair turns.

    python benchmarks/bench_local_turns.py [--model qwen2.5-coder-0.5b-instruct-q4_k_m] [--cache-mb 1024]
        [--lookup 10]

Run it alone: llama.cpp on a busy CPU is several times slower.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiev_agents.llm.clients.llama_cpp import LlamaCppClient, clear_loaded_models  # noqa: E402
from aiev_agents.roles.programmer import ProgrammerAgent  # noqa: E402
from aiev_agents.roles.prompts import read_prompt  # noqa: E402

SNIPPET = "def clamp(value, low, high):\n    return max(low, min(value, high))\n"
FAILURE = (
    'Traceback (most recent call last):\n  File "/workspace/main.py", line 9, in <module>\n'
    "    assert clamp(-2, -5, 3) == -5\nAssertionError: clamp(-2, -5, 3) returned -2, expected -5\n"
)


def dialogue_calls(client: LlamaCppClient, snippet: str = SNIPPET) -> list[dict[str, Any]]:
    """The six calls of a three-round dialogue, each prompt its role's whole conversation."""
    from aiev_agents.roles.questioner import QuestionerAgent

    questioner = [{"role": "system", "content": read_prompt("questioner")}]
    programmer = [{"role": "system", "content": read_prompt("programmer")}]
    rows = []

    def call(conversation: list[dict[str, str]], role: str) -> str:
        started = time.perf_counter()
        response = client.create({"messages": conversation, "temperature": 0.0, "seed": 7, "max_tokens": 256})
        usage = response.usage
        cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
        rows.append({"role": role, "prompt": usage.prompt_tokens, "evaluated": usage.prompt_tokens - cached,
                     "generated": usage.completion_tokens, "seconds": time.perf_counter() - started})  # fmt: skip
        return response.choices[0].message.content or ""

    questioner.append({"role": "user", "content": QuestionerAgent.proposal_request(snippet)})
    problem = call(questioner, "questioner")
    questioner.append({"role": "assistant", "content": problem})
    programmer.append({"role": "user", "content": ProgrammerAgent.task_message(problem)})
    for _ in range(3):
        answer = call(programmer, "programmer")
        programmer.append({"role": "assistant", "content": answer})
        if len(rows) >= 6:
            break
        questioner.append({"role": "user", "content": f"The programmer answered:\n\n{answer}\n\nIt failed:\n{FAILURE}"})
        feedback = call(questioner, "questioner")
        questioner.append({"role": "assistant", "content": feedback})
        programmer.append(
            {"role": "user", "content": f"exitcode: 1 (execution failed)\nCode output:\n{FAILURE}\n{feedback}"}
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m")
    parser.add_argument("--cache-mb", type=int, default=1024)
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--lookup", type=int, default=10, help="prompt_lookup: tokens drafted per step")
    args = parser.parse_args(argv)
    results = {}
    variants = (
        ("no cache", {}),
        ("prefix cache", {"prefix_cache_mb": args.cache_mb}),
        ("cache + lookup", {"prefix_cache_mb": args.cache_mb, "prompt_lookup": args.lookup}),
        ("2 slots", {"parallel": 2}),
    )
    for name, load in variants:
        clear_loaded_models()
        client = LlamaCppClient({"model": args.model, "n_ctx": args.n_ctx, **load})
        results[name] = dialogue_calls(client)
        rows = results[name]
        print(
            f"{name}: prompt {sum(r['prompt'] for r in rows)}, evaluated {sum(r['evaluated'] for r in rows)}, "
            f"generated {sum(r['generated'] for r in rows)}, {sum(r['seconds'] for r in rows):.1f} s",
            flush=True,
        )
    print(f"{'call':<16}" + "".join(f"{name:>36}" for name in results))
    print(f"{'':<16}" + f"{'prompt  evaluated  gen  seconds':>36}" * len(results))
    for index in range(max(len(rows) for rows in results.values())):
        cells = []
        for rows in results.values():
            row = rows[index] if index < len(rows) else None
            cells.append(f"{row['prompt']:>10} {row['evaluated']:>9} {row['generated']:>5} {row['seconds']:>8.1f}"
                         if row else " " * 36)  # fmt: skip
        role = next(rows[index]["role"] for rows in results.values() if index < len(rows))
        print(f"{index + 1} {role:<14}" + "".join(f"{cell:>36}" for cell in cells))
    print("total".ljust(16) + "".join(
        f"{sum(r['prompt'] for r in rows):>10} {sum(r['evaluated'] for r in rows):>9} "
        f"{sum(r['generated'] for r in rows):>5} {sum(r['seconds'] for r in rows):>8.1f}".rjust(36)
        for rows in results.values()
    ))  # fmt: skip

    print()
    for name, rows in results.items():
        first = [r for r in rows if r["role"] == "programmer"][:1]
        repairs = [r for r in rows if r["role"] == "programmer"][1:]
        print(f"{name}: generated tokens/s, first program {speed(first):.1f}, repairs {speed(repairs):.1f}")


def speed(rows: list[dict[str, Any]]) -> float:
    seconds = sum(r["seconds"] for r in rows)
    return sum(r["generated"] for r in rows) / seconds if seconds else 0.0


if __name__ == "__main__":
    main()
