"""Several chat completions at once on one local model: llama.cpp's batched decoding of sequences.

On a CPU, generating a token is bound by reading the weights, not by arithmetic, so decoding
one token for each of four sequences in one ``llama_decode`` costs little more than one:
dialogues on parallel workers share one model without taking turns. :class:`BatchedLlama`
owns a llama.cpp context with ``slots`` sequences and one decoding thread; each request gets
a free slot, and the slot whose cached tokens share the longest prefix with the new prompt
(the same role's growing conversation, usually), so only the new tokens are evaluated.

It uses llama-cpp-python's low-level API (``llama_batch``, ``llama_decode``, sampler
chains, ``llama_memory_seq_rm``) on the model of an already loaded ``llama_cpp.Llama``, whose
tokenizer and GGUF chat template it also uses, as ``create_chat_completion`` does.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from aiev_agents import activity
from aiev_agents.errors import ContextExceeded
from aiev_agents.llm.clients.loops import CHECK_EVERY, LoopDetector

logger = logging.getLogger(__name__)

#: llama-cpp-python's ``create_chat_completion`` defaults, so both paths sample alike.
SAMPLING_DEFAULTS = {"temperature": 0.2, "top_p": 0.95, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.0}
PENALTY_LAST_N = 64
#: A prompt continues a slot's cache when they share at least this share of the cached tokens.
SLOT_SIMILARITY = 0.5


@dataclass
class _Request:
    prompt: list[int]
    max_tokens: int
    stop: list[str]
    sampling: dict[str, Any]
    context: contextvars.Context
    n: int = 1
    loops: LoopDetector | None = None
    future: Future[dict[str, Any]] = field(default_factory=Future)
    choices: dict[int, dict[str, Any]] = field(default_factory=dict)
    generated: int = 0  # tokens generated over all choices
    completion_tokens: int = 0
    evaluated: int = 0


@dataclass
class _Slot:
    """One sequence of the context: what its cache holds and the request it serves."""

    seq: int
    cached: list[int] = field(default_factory=list)
    request: _Request | None = None
    choice: int = 0
    waits_for: _Slot | None = None  # another choice of the same request: its prompt is copied, not evaluated
    pending: list[int] = field(default_factory=list)  # prompt tokens not evaluated yet
    generated: list[int] = field(default_factory=list)
    text: bytes = b""
    sampler: Any = None
    logits_at: int = -1  # the batch index of this slot's logits after the last decode
    used_at: float = 0.0  # when it last took a request (never: 0, so empty slots go first)


class BatchedLlama:
    """Chat completions decoded together on one model, ``slots`` at a time (thread-safe)."""

    def __init__(self, llama: Any, *, slots: int, n_ctx: int, n_batch: int, n_threads: int, label: str) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self._llama = llama
        self._label = label
        self._n_ctx = n_ctx
        self._n_batch = n_batch
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx * slots
        params.n_batch = params.n_ubatch = n_batch
        params.n_seq_max = slots
        params.n_threads = params.n_threads_batch = n_threads
        params.kv_unified = False  # each sequence attends over its own n_ctx cells only
        self._ctx = llama_cpp.llama_init_from_model(llama._model.model, params)
        if not self._ctx:
            raise MemoryError(f"llama.cpp could not make a context of {slots} x {n_ctx} tokens")
        self._vocab = llama_cpp.llama_model_get_vocab(llama._model.model)
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._formatter = _chat_formatter(llama)
        self._slots = [_Slot(seq=index) for index in range(slots)]
        self._queue: deque[_Request] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="aiev-llama-batch", daemon=True)
        self._thread.start()

    # -- the callers' side ------------------------------------------------------------------

    def chat(
        self, messages: list[dict[str, str]], generation: Mapping[str, Any], n: int = 1,
        loops: LoopDetector | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """A chat completion with ``n`` choices in llama-cpp-python's result shape, with ``usage.evaluated_tokens``.

        The choices are sampled together from one evaluation of the prompt (its cache copied to
        other slots; ``n`` is capped at the slots), choice ``i`` with seed ``seed + i``. With
        ``loops``, a choice that falls into a loop ends there (``finish_reason`` ``length``).

        Raises:
            ContextExceeded: The prompt does not fit in one slot's ``n_ctx``.
        """
        formatted = self._formatter(messages=messages)
        text = formatted.prompt.encode("utf-8")
        prompt = self._llama.tokenize(text, add_bos=not formatted.added_special, special=True)
        if len(prompt) >= self._n_ctx:
            raise prompt_over_context(self._label, f"{len(prompt)} tokens", self._n_ctx)
        stop = generation.get("stop") or []
        stop = [stop] if isinstance(stop, str) else list(stop)
        template_stop = formatted.stop or []
        stop += [template_stop] if isinstance(template_stop, str) else list(template_stop)
        requested = int(generation.get("max_tokens") or self._n_ctx)
        request = _Request(
            prompt=prompt,
            max_tokens=min(requested, self._n_ctx - len(prompt)),
            stop=[s for s in stop if s],
            sampling={**SAMPLING_DEFAULTS, **{k: v for k, v in generation.items() if k in _SAMPLING_KEYS}},
            context=contextvars.copy_context(),
            n=max(1, min(n, len(self._slots))),
            loops=loops,
        )
        with self._wake:
            if self._closed:
                raise RuntimeError("the batched model is closed")
            self._queue.append(request)
            self._wake.notify()
        return request.future.result()

    def close(self) -> None:
        """Stop the decoding thread (requests still waiting fail) and free the context."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()
        for slot in self._slots:
            self._free_sampler(slot)
        self._lib.llama_batch_free(self._batch)
        self._lib.llama_free(self._ctx)

    # -- the decoding thread ----------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._closed and not self._queue and not self._busy():
                    self._wake.wait()
                if self._closed:
                    self._fail_all(RuntimeError("the batched model was closed"))
                    return
                try:
                    self._assign_waiting()
                except Exception as exc:  # noqa: BLE001 - the callers get the error, the thread goes on
                    logger.exception("starting a batched request failed")
                    self._fail_busy(exc)
                    continue
            try:
                self._step()
            except Exception as exc:  # noqa: BLE001 - every waiting caller gets the error, the thread goes on
                logger.exception("batched decoding failed")
                self._fail_busy(exc)

    def _busy(self) -> bool:
        return any(slot.request is not None for slot in self._slots)

    def _assign_waiting(self) -> None:
        """Give each waiting request, in order, the free slot whose cache shares the longest prefix with
        it, and more slots for its other choices."""
        while self._queue:
            free = [slot for slot in self._slots if slot.request is None]
            request = self._queue[0]
            if len(free) < request.n:
                return
            self._queue.popleft()
            first, shared = self._pick(free, request.prompt)
            keep = min(shared, len(request.prompt) - 1)
            self._lib.llama_memory_seq_rm(self._memory, first.seq, keep, -1)
            first.cached, first.pending = request.prompt[:keep], request.prompt[keep:]
            others = sorted((slot for slot in free if slot is not first), key=lambda slot: slot.used_at)
            for choice, slot in enumerate([first, *others[: request.n - 1]]):
                slot.request, slot.choice, slot.generated, slot.text = request, choice, [], b""
                slot.waits_for = None if slot is first else first
                slot.used_at = time.monotonic()
                seed = request.sampling.get("seed")
                slot.sampler = self._sampler({**request.sampling, "seed": None if seed is None else int(seed) + choice})

    def _pick(self, free: list[_Slot], prompt: list[int]) -> tuple[_Slot, int]:
        """The slot whose cache this prompt continues (most of it is shared), else the one used least
        recently; with the number of its cached tokens the prompt starts with.

        Sharing only the chat template's first tokens does not count: taking that slot would evict another
        role's conversation, as llama.cpp's server avoids with its slot similarity threshold."""
        shared, best = max(((_common_prefix(s.cached, prompt), s) for s in free), key=lambda pair: pair[0])
        if best.cached and shared >= SLOT_SIMILARITY * len(best.cached):
            return best, shared
        oldest = min(free, key=lambda s: s.used_at)
        return oldest, _common_prefix(oldest.cached, prompt)

    def _step(self) -> None:
        """One ``llama_decode``: a token of each generating slot, then prompt tokens as room allows."""
        batch = self._batch
        batch.n_tokens = 0
        generating = [s for s in self._slots if s.request is not None and s.generated]
        for slot in generating:
            self._add(slot, slot.generated[-1], logits=True)
        for slot in self._slots:
            if slot.request is None or not slot.pending:
                continue
            room = self._n_batch - batch.n_tokens
            chunk, slot.pending = slot.pending[:room], slot.pending[room:]
            for index, token in enumerate(chunk):
                self._add(slot, token, logits=not slot.pending and index == len(chunk) - 1)
            slot.request.evaluated += len(chunk)
        if batch.n_tokens == 0:
            return
        result = self._lib.llama_decode(self._ctx, batch)
        if result != 0:
            raise RuntimeError(f"llama_decode returned {result} (the context is full or failed)")
        self._copy_prompts()
        for slot in self._slots:
            if slot.request is not None and slot.logits_at >= 0:
                self._sample(slot)

    def _copy_prompts(self) -> None:
        """Other choices of a request start from its first slot's cache once the prompt is in it."""
        for slot in self._slots:
            first = slot.waits_for
            if first is None or first.pending or first.logits_at < 0:
                continue
            self._lib.llama_memory_seq_rm(self._memory, slot.seq, -1, -1)
            self._lib.llama_memory_seq_cp(self._memory, first.seq, slot.seq, -1, -1)
            slot.cached, slot.logits_at, slot.waits_for = list(first.cached), first.logits_at, None

    def _add(self, slot: _Slot, token: int, *, logits: bool) -> None:
        batch = self._batch
        index = batch.n_tokens
        batch.token[index] = token
        batch.pos[index] = len(slot.cached)
        batch.n_seq_id[index] = 1
        batch.seq_id[index][0] = slot.seq
        batch.logits[index] = logits
        batch.n_tokens += 1
        slot.cached.append(token)
        slot.logits_at = index if logits else -1

    def _sample(self, slot: _Slot) -> None:
        request = slot.request
        assert request is not None
        token = self._lib.llama_sampler_sample(slot.sampler, self._ctx, slot.logits_at)
        slot.logits_at = -1
        if self._lib.llama_vocab_is_eog(self._vocab, token):
            self._finish(slot, "stop")
            return
        slot.generated.append(token)
        slot.text += self._llama.detokenize([token])
        request.generated += 1
        request.context.run(activity.tokens, request.generated)
        if any(stop.encode("utf-8") in slot.text for stop in request.stop):
            self._finish(slot, "stop")
        elif len(slot.generated) >= request.max_tokens or self._looping(slot):
            self._finish(slot, "length")

    @staticmethod
    def _looping(slot: _Slot) -> bool:
        loops = slot.request.loops if slot.request is not None else None
        count = len(slot.generated)
        if loops is None or count < loops.min_span or count % CHECK_EVERY:
            return False
        return loops.looping(slot.generated)

    def _finish(self, slot: _Slot, reason: str) -> None:
        request = slot.request
        assert request is not None
        text = slot.text.decode("utf-8", errors="ignore")
        for stop in request.stop:
            text = text.split(stop, 1)[0]
        message = {"role": "assistant", "content": text}
        request.choices[slot.choice] = {"index": slot.choice, "message": message, "finish_reason": reason}
        request.completion_tokens += len(slot.generated)
        self._free_sampler(slot)
        slot.request = None  # the cache keeps prompt and answer: the role's next turn starts from them
        if len(request.choices) == request.n:
            request.future.set_result(self._result(request))

    def _result(self, request: _Request) -> dict[str, Any]:
        prompt_tokens = len(request.prompt)
        return {
            "id": f"chatcmpl-{uuid.uuid4()}",
            "created": int(time.time()),
            "model": self._label,
            "choices": [request.choices[index] for index in range(request.n)],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": request.completion_tokens,
                "total_tokens": prompt_tokens + request.completion_tokens,
                "evaluated_tokens": request.evaluated,
            },
        }

    def _sampler(self, sampling: Mapping[str, Any]) -> Any:
        lib = self._lib
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        penalty = float(sampling.get("repeat_penalty") or 1.0)
        frequency = float(sampling.get("frequency_penalty") or 0.0)
        presence = float(sampling.get("presence_penalty") or 0.0)
        if (penalty, frequency, presence) != (1.0, 0.0, 0.0):
            penalties = lib.llama_sampler_init_penalties(
                self._llama.n_vocab(), PENALTY_LAST_N, penalty, frequency, presence
            )
            lib.llama_sampler_chain_add(chain, penalties)
        temperature = float(sampling.get("temperature") or 0.0)
        if temperature <= 0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
            return chain
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_k(int(sampling["top_k"])))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_p(float(sampling["top_p"]), 1))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_min_p(float(sampling["min_p"]), 1))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(temperature))
        seed = sampling.get("seed")
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(0xFFFFFFFF if seed is None else int(seed)))
        return chain

    def _free_sampler(self, slot: _Slot) -> None:
        if slot.sampler is not None:
            self._lib.llama_sampler_free(slot.sampler)
            slot.sampler = None

    def _fail_busy(self, exc: BaseException) -> None:
        for slot in self._slots:
            if slot.request is not None:
                if not slot.request.future.done():
                    slot.request.future.set_exception(exc)
                slot.request, slot.waits_for = None, None
                self._free_sampler(slot)
            self._lib.llama_memory_seq_rm(self._memory, slot.seq, 0, -1)
            slot.cached, slot.pending = [], []

    def _fail_all(self, exc: BaseException) -> None:
        self._fail_busy(exc)
        while self._queue:
            self._queue.popleft().future.set_exception(exc)


_SAMPLING_KEYS = ("temperature", "top_p", "top_k", "min_p", "seed", "repeat_penalty", "frequency_penalty",
                  "presence_penalty")  # fmt: skip


def prompt_over_context(label: str, tokens: str, n_ctx: int) -> ContextExceeded:
    """The error for a prompt of ``tokens`` (``"5000 tokens"``) over a local model's ``n_ctx``."""
    return ContextExceeded(
        f"The prompt for {label} has {tokens}, over its context window (n_ctx={n_ctx}); raise n_ctx in "
        "the model config or lower dialogue.max_rounds / dialogue.feedback_chars."
    )


def _common_prefix(cached: list[int], prompt: list[int]) -> int:
    length = 0
    for a, b in zip(cached, prompt, strict=False):
        if a != b:
            break
        length += 1
    return length


def _chat_formatter(llama: Any) -> Any:
    """The GGUF file's chat template, as ``llama_cpp.Llama`` builds it for ``create_chat_completion``."""
    from llama_cpp import llama_chat_format

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise ValueError("the model file has no chat template (tokenizer.chat_template)")
    eos, bos = llama.token_eos(), llama.token_bos()
    return llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )
