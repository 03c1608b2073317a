"""Tokens/s of LlamaCppClient inside an AG2 agent versus raw llama-cpp-python.

Both paths use the same loaded ``Llama`` (the client's shared instance), the same
messages, temperature 0 and a fixed seed; runs alternate between the two paths so that
machine noise and llama.cpp's prompt-prefix cache affect both alike. Throughput is
completion tokens divided by the wall time of the whole call (prompt processing included).

Usage::

    python benchmarks/bench_llama_client.py [--model NAME | --model-path FILE]
        [--max-tokens 256] [--reps 5] [--n-threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autogen import ConversableAgent

from aiev_agents.llm.clients import LlamaCppClient, get_shared_llama
from aiev_agents.llm.models import fetch_model

SYSTEM = "You are a careful Python programmer. Answer with code and brief comments."
PROMPT = (
    "Write a Python module implementing a binary search tree with insert, delete, search "
    "and in-order traversal, with type hints, docstrings and a few unittest test cases."
)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m")
    parser.add_argument("--model-path", default=None, help="a GGUF file (skips fetching --model)")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--n-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=1234)
    return parser.parse_args()


def _entry(args: argparse.Namespace) -> dict[str, Any]:
    path = args.model_path or str(fetch_model(args.model))
    return {
        "model": args.model,
        "model_client_cls": "LlamaCppClient",
        "model_path": path,
        "n_ctx": args.n_ctx,
        "n_threads": args.n_threads,
        "temperature": 0.0,
        "max_tokens": args.max_tokens,
        "seed": args.seed,
    }


def _raw_runner(llama: Any, args: argparse.Namespace) -> Callable[[], tuple[int, str]]:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]

    def run() -> tuple[int, str]:
        result = llama.create_chat_completion(
            messages=messages, temperature=0.0, max_tokens=args.max_tokens, seed=args.seed
        )
        return result["usage"]["completion_tokens"], result["choices"][0]["message"]["content"]

    return run


def _agent_runner(agent: ConversableAgent, label: str) -> Callable[[], tuple[int, str]]:
    def run() -> tuple[int, str]:
        agent.client.clear_usage_summary()
        reply = agent.generate_reply(messages=[{"role": "user", "content": PROMPT}])
        text = reply if isinstance(reply, str) else (reply or {}).get("content", "")
        return agent.client.actual_usage_summary[label]["completion_tokens"], text

    return run


class _InnerTimer:
    """Wraps ``llama.create_chat_completion`` to record the time spent inside llama.cpp."""

    def __init__(self, llama: Any) -> None:
        self.last_s = 0.0
        self._call = llama.create_chat_completion
        llama.create_chat_completion = self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self._call(*args, **kwargs)
        finally:
            self.last_s = time.perf_counter() - start


@dataclass
class _Samples:
    rates: list[float] = field(default_factory=list)  # completion tokens / wall s
    overheads_ms: list[float] = field(default_factory=list)  # wall time outside llama.cpp
    output: tuple[int, str] = (0, "")


def _measure(runners: dict[str, Callable[[], tuple[int, str]]], timer: _InnerTimer, reps: int) -> dict[str, _Samples]:
    samples = {name: _Samples() for name in runners}
    names = list(runners)
    for run in runners.values():  # warm-up: page in weights, fill the prompt cache
        run()
    for rep in range(reps):
        for name in names if rep % 2 == 0 else reversed(names):
            start = time.perf_counter()
            tokens, text = runners[name]()
            elapsed = time.perf_counter() - start
            samples[name].rates.append(tokens / elapsed)
            samples[name].overheads_ms.append((elapsed - timer.last_s) * 1000)
            samples[name].output = (tokens, text)
    return samples


def _report(samples: dict[str, _Samples], header: list[str]) -> None:
    raw, ours = samples.values()
    paired = [o / r for o, r in zip(ours.rates, raw.rates, strict=True)]
    for line in header:
        print(line)
    print(f"{'path':<30}{'median tok/s':>14}{'min':>8}{'max':>8}{'tokens':>8}{'overhead ms':>13}")
    for name, s in samples.items():
        med = statistics.median(s.rates)
        cells = f"{med:>14.2f}{min(s.rates):>8.2f}{max(s.rates):>8.2f}{s.output[0]:>8}"
        print(f"{name:<30}{cells}{statistics.median(s.overheads_ms):>13.2f}")
    ratio = statistics.median(ours.rates) / statistics.median(raw.rates)
    print(f"ratio ours/raw (medians): {ratio:.3f}; median of paired ratios: {statistics.median(paired):.3f}")
    print(f"identical output: {raw.output == ours.output}  (goal: ratio >= 0.95)")


def main() -> None:
    """Run the benchmark and print a side-by-side table."""
    args = _parse_args()
    entry = _entry(args)
    agent = ConversableAgent(
        "programmer",
        system_message=SYSTEM,
        llm_config={"config_list": [entry], "cache_seed": None},
        human_input_mode="NEVER",
    )
    started = time.perf_counter()
    agent.register_model_client(model_client_cls=LlamaCppClient)
    load_s = time.perf_counter() - started
    llama = get_shared_llama(entry)
    assert agent.client._clients[0].llama is llama, "both paths must share one loaded model"
    timer = _InnerTimer(llama)
    runners = {
        "raw llama_cpp": _raw_runner(llama, args),
        "AG2 agent + LlamaCppClient": _agent_runner(agent, args.model),
    }
    samples = _measure(runners, timer, args.reps)
    _report(
        samples,
        [
            f"model: {entry['model_path']}  (load {load_s:.2f} s)",
            f"n_threads={args.n_threads}, cpus={os.cpu_count()}, max_tokens={args.max_tokens}, "
            f"temperature=0, seed={args.seed}, reps={args.reps} (alternating order)",
            "overhead ms = wall time of the call minus time inside Llama.create_chat_completion",
        ],
    )


if __name__ == "__main__":
    main()
