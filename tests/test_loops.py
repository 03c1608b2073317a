"""A generation that repeats one stretch of tokens is seen as a loop once the stretch is long;
code that merely repeats itself a little is not."""

from __future__ import annotations

import numpy as np

from aiev_agents.llm.clients.loops import CHECK_EVERY, LoopDetector, LoopStop, loop_detector


def test_one_token_block_repeated_over_the_span_is_a_loop():
    assert LoopDetector(min_span=32).looping([5, 6, 7] + [9, 4] * 16)


def test_a_long_block_needs_three_copies():
    paragraph = list(range(100, 160))
    detector = LoopDetector(min_span=32)
    assert not detector.looping([1, 2] + paragraph * 2)
    assert detector.looping([1, 2] + paragraph * 3)


def test_repetition_shorter_than_the_span_is_not_a_loop():
    zeros = [11] + [0, 3] * 20 + [12]  # [0, 0, 0, ...] of 20 items, closed
    assert not LoopDetector(min_span=128).looping(zeros)
    assert not LoopDetector(min_span=128).looping([0, 3] * 60)


def test_the_loop_must_reach_the_end():
    assert not LoopDetector(min_span=32).looping([9, 4] * 40 + [1, 2, 3])


def test_a_config_entry_turns_it_on_with_its_span():
    assert loop_detector({"loop_stop_tokens": 96}) == LoopDetector(min_span=96)
    assert loop_detector({}) is None and loop_detector({"loop_stop_tokens": 0}) is None


def test_the_logits_processor_forces_the_end_token_once_a_loop_is_seen():
    stop = LoopStop(LoopDetector(min_span=16), end_token=2)
    prompt = [7, 8, 9]
    scores = np.zeros(5, dtype=np.float32)
    stop(np.array(prompt), scores.copy())  # the first call marks where the prompt ends
    generated = [4, 1] * 8
    assert CHECK_EVERY and len(generated) % CHECK_EVERY == 0
    out = stop(np.array(prompt + generated), scores.copy())
    assert stop.fired
    assert out[2] == 0.0 and np.isneginf(np.delete(out, 2)).all()


def test_the_logits_processor_leaves_a_reply_without_a_loop_alone():
    stop = LoopStop(LoopDetector(min_span=16), end_token=2)
    scores = np.arange(5, dtype=np.float32)
    stop(np.array([7]), scores.copy())
    out = stop(np.array([7, *range(20, 52)]), scores.copy())
    assert not stop.fired and (out == scores).all()
