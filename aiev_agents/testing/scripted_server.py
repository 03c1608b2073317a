"""A scripted OpenAI-compatible chat server on 127.0.0.1.

It stands in for a paid teacher model in tests and examples: the real ``openai`` client
talks to it over real HTTP. Replies come from a script per model name, in order; a request for ``n`` choices takes the
next ``n`` replies of its script as its choices.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ScriptedReply:
    """One scripted answer: a text, or an HTTP error status with an optional Retry-After.

    An error answers ``{"error": {"message": content, "type": error_type, "code": error_code}}``
    (``code`` only when set), as OpenAI does, e.g. ``error_code="context_length_exceeded"``.
    """

    content: str = ""
    status: int = 200
    retry_after_s: float | None = None
    error_code: str | None = None
    error_type: str = "scripted"


Responder = Callable[[dict[str, Any]], "ScriptedReply | str"]


class ScriptedServer:
    """Serve ``/v1/chat/completions`` from scripts keyed by the request's ``model``.

    Args:
        scripts: model name → replies, consumed in order. A model whose script is used up
            gets HTTP 500, so a test that calls more often than it planned fails loudly.
        key: Picks the script of a request; default: its ``model``. See ``key_by_role``.
        responder: Instead of ``scripts``, a function from the request body to a reply.
        latency_s: Seconds to wait before each reply (to imitate a remote model).
    """

    def __init__(
        self,
        scripts: Mapping[str, Iterable[ScriptedReply | str]] | None = None,
        *,
        key: Callable[[dict[str, Any]], str] | None = None,
        responder: Responder | None = None,
        latency_s: float = 0.0,
    ) -> None:
        self._scripts = {name: deque(replies) for name, replies in (scripts or {}).items()}
        self._key = key or (lambda body: str(body.get("model")))
        self._responder = responder
        self.latency_s = latency_s
        self.requests: list[dict[str, Any]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each chat request as it came, before any latency
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ScriptedServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def remaining(self, model: str) -> int:
        """Replies not yet served for ``model``."""
        return len(self._scripts.get(model, ()))

    def reply_to(self, body: dict[str, Any]) -> ScriptedReply:
        """The next reply for a request, which is recorded in ``requests``."""
        with self._lock:
            self.requests.append(body)
        return self.next_reply(body)

    def next_reply(self, body: dict[str, Any]) -> ScriptedReply:
        """The next reply of the request's script (a further choice of a request already recorded)."""
        with self._lock:
            if self._responder is not None:
                reply = self._responder(body)
            else:
                name = self._key(body)
                script = self._scripts.get(name)
                if not script:
                    return ScriptedReply(f"no scripted reply left for {name!r}", status=500)
                reply = script.popleft()
        return ScriptedReply(reply) if isinstance(reply, str) else reply


def key_by_role(body: dict[str, Any]) -> str:
    """The role of a request (``questioner``, ``programmer``, ``test_writer``, ``reviewer``),
    told apart by the shipped system prompts.

    For one teacher model playing both roles, as in ``agent_configs/teaching.yaml``.
    """
    messages = body.get("messages") or [{}]
    system = str(messages[0].get("content", "")) if messages[0].get("role") == "system" else ""
    for marker, role in _ROLE_MARKERS.items():
        if marker in system:
            return role
    return "programmer"


_ROLE_MARKERS = {
    "You are the questioner": "questioner",
    "You are a test writer": "test_writer",
    "You are a code reviewer": "reviewer",
}


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.rstrip("/").endswith("/models"):
                models = [{"id": name, "object": "model"} for name in server._scripts]
                self._send(200, {"object": "list", "data": models})
            else:
                self._send(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            with server._lock:
                server.arrivals.append(time.monotonic())
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                if server.latency_s:
                    time.sleep(server.latency_s)
                choices = max(1, int(body.get("n") or 1))
                replies = [server.reply_to(body)] + [server.next_reply(body) for _ in range(choices - 1)]
            finally:
                with server._lock:
                    server.in_flight -= 1
            failed = next((reply for reply in replies if reply.status != 200), None)
            if failed is not None:
                headers = {"Retry-After": str(failed.retry_after_s)} if failed.retry_after_s is not None else {}
                self._send(failed.status, _error_body(failed), headers)
                return
            self._send(200, _completion(body, [reply.content for reply in replies]))

        def _send(self, status: int, payload: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _error_body(reply: ScriptedReply) -> dict[str, Any]:
    error: dict[str, Any] = {"message": reply.content, "type": reply.error_type}
    if reply.error_code is not None:
        error["code"] = reply.error_code
    return {"error": error}


def _completion(body: dict[str, Any], contents: list[str]) -> dict[str, Any]:
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    completion_tokens = sum(len(content.split()) for content in contents)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [
            {"index": index, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            for index, content in enumerate(contents)
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
