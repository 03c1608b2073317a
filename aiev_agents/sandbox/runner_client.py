"""Host side of the warm runner's socket: one persistent connection, one request at a time."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

from aiev_agents.sandbox.guest.wire import recv_frame, send_frame

logger = logging.getLogger(__name__)


class RunnerGone(Exception):
    """The runner cannot be reached or dropped the connection.

    Attributes:
        sent: Whether the request left this process; if not, nothing ran.
    """

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class RunnerClient:
    """Talks to one runner through its Unix socket (a host path, bind-mounted into the container)."""

    def __init__(self, socket_path: Path) -> None:
        """Remember the socket path; connects on the first request."""
        self.socket_path = socket_path
        self._sock: socket.socket | None = None

    def request(self, message: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        """Send ``message`` and wait at most ``timeout`` seconds for the answer.

        Raises:
            RunnerGone: No runner listens, or it went away before answering.
        """
        try:
            sock = self._connect(timeout)
            sock.settimeout(timeout)
            send_frame(sock, message)
        except OSError as exc:
            self.close()
            raise RunnerGone(f"cannot reach the runner: {exc}", sent=False) from exc
        try:
            reply = recv_frame(sock)
        except (OSError, ValueError) as exc:  # ConnectionError and socket.timeout are OSErrors
            self.close()
            raise RunnerGone(f"the runner stopped answering: {exc}", sent=True) from exc
        if reply is None:
            self.close()
            raise RunnerGone("the runner closed the connection", sent=True)
        return reply

    def close(self) -> None:
        """Drop the connection (the next request reconnects)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def _connect(self, timeout: float) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(str(self.socket_path))
            except OSError:
                sock.close()
                raise
            self._sock = sock
        return self._sock
