"""Messages from the sandboxed worker to the grader: a JSON header and a binary payload.

This file is copied into the sandbox beside the worker, so it imports nothing from
the grader. Values cross as JSON plus safetensors bytes: nothing is ever unpickled,
so a hostile student process can send wrong data but never code.
"""

from __future__ import annotations

import json
import os
import struct

HEADER = struct.Struct("!II")  # JSON length, payload length
MAX_JSON = 4 << 20


def send(fd: int, message: dict, payload: bytes = b"") -> None:
    body = json.dumps(message, allow_nan=True).encode()
    data = HEADER.pack(len(body), len(payload)) + body + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Decoder:
    """Reassembles messages from chunks read off the pipe; refuses oversized ones."""

    def __init__(self, max_payload: int):
        self.buffer = bytearray()
        self.max_payload = max_payload

    def feed(self, chunk: bytes) -> list[tuple[dict, bytes]]:
        self.buffer += chunk
        messages = []
        while len(self.buffer) >= HEADER.size:
            n_json, n_payload = HEADER.unpack_from(self.buffer)
            if n_json > MAX_JSON or n_payload > self.max_payload:
                raise ValueError(f"message of {n_json + n_payload} bytes exceeds the limit of {self.max_payload}")
            end = HEADER.size + n_json + n_payload
            if len(self.buffer) < end:
                break
            try:
                header = json.loads(bytes(self.buffer[HEADER.size : HEADER.size + n_json]))
            except RecursionError:  # nesting deeper than the parser recurses: not a ValueError
                raise ValueError("message header nests too deeply") from None
            if not isinstance(header, dict):
                raise ValueError("message header is not a JSON object")
            messages.append((header, bytes(self.buffer[HEADER.size + n_json : end])))
            del self.buffer[:end]
        return messages
