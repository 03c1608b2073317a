"""Frames between the host and the warm runner: a 4-byte big-endian length, then UTF-8 JSON.

Standard library only; runs on Python 3.8 and later (it is copied into the container).
"""

from __future__ import annotations

import base64
import json
import socket
import struct
from typing import Any

HEADER = struct.Struct("!I")
MAX_FRAME = 256 << 20


def send_frame(sock: socket.socket, message: dict[str, Any]) -> None:
    """Send one JSON message as a frame."""
    data = json.dumps(message).encode("utf-8")
    sock.sendall(HEADER.pack(len(data)) + data)


def recv_frame(sock: socket.socket) -> dict[str, Any] | None:
    """Receive one frame's JSON message; None if the peer closed before a new frame.

    Raises:
        ConnectionError: The peer closed inside a frame.
        ValueError: The frame is too large or not JSON.
    """
    head = _recv_exactly(sock, HEADER.size)
    if head is None:
        return None
    (size,) = HEADER.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is too large")
    body = _recv_exactly(sock, size) if size else b""
    if body is None:
        raise ConnectionError("connection closed inside a frame")
    return json.loads(body.decode("utf-8"))


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        count = sock.recv_into(view[got:])
        if count == 0:
            if got == 0:
                return None
            raise ConnectionError("connection closed inside a frame")
        got += count
    return bytes(buffer)


def b64(data: bytes | bytearray) -> str:
    """Bytes as base64 text, for JSON."""
    return base64.b64encode(bytes(data)).decode("ascii")


def unb64(text: str | None) -> bytes:
    """Base64 text back to bytes."""
    return base64.b64decode(text or "")
