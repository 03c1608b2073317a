"""The viewer's local HTTP server: the page, its static files and a read-only JSON API.

Bound to 127.0.0.1 only, GET only, no network at view time (the page's libraries ship with
the package). The API: ``/api/overview``, ``/api/dialogues?<filters>``, ``/api/dialogue?id=ID``
(or ``seq=N``); every call first indexes lines added to the file since the last one.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..errors import AievError
from .assets import page_html, read_asset
from .query import Query
from .run import ViewedRun

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ViewServer:
    """Serve one run on ``127.0.0.1:port`` (0: a free port) from a background thread or the caller's.

    Raises:
        AievError: The port cannot be bound (another program holds it).
    """

    def __init__(self, run: ViewedRun, *, port: int = DEFAULT_PORT) -> None:
        self.run = run
        try:
            self._httpd = ThreadingHTTPServer((HOST, port), _handler_for(run))
        except OSError as exc:
            raise AievError(
                f"cannot serve on {HOST}:{port} ({exc.strerror or exc}): pass another --port, or 0"
            ) from exc
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> ViewServer:
        """Serve from a daemon thread (tests, scripts)."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="aiev-view", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve from this thread until interrupted."""
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self.run.index.close()

    def __enter__(self) -> ViewServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_for(run: ViewedRun) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            parts = urlsplit(self.path)
            params = dict(parse_qsl(parts.query))
            try:
                if parts.path.startswith("/api/"):
                    self._json(HTTPStatus.OK, _api(run, parts.path, params))
                else:
                    self._static(parts.path)
            except AievError as exc:
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

        def _static(self, path: str) -> None:
            if path in ("/", "/index.html"):
                name, data = "index.html", page_html().encode("utf-8")
            else:
                name = path.removeprefix("/static/")
                data = read_asset(name) if path.startswith("/static/") else None
            if data is None:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {path}"})
                return
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            self._send(HTTPStatus.OK, data, f"{kind}; charset=utf-8" if kind.startswith("text/") else kind)

        def _json(self, status: HTTPStatus, payload: Any) -> None:
            self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json")

        def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
            logger.debug("view: " + format, *args)

    return Handler


def _api(run: ViewedRun, path: str, params: dict[str, str]) -> Any:
    run.refresh()
    if path == "/api/overview":
        return run.overview()
    if path == "/api/dialogues":
        return run.list_page(Query.from_params(params))
    if path == "/api/dialogue":
        if "seq" in params and params["seq"].isdigit():
            return run.dialogue(seq=int(params["seq"]))
        return run.dialogue(params.get("id", ""))
    raise AievError(f"no such API: {path}")
