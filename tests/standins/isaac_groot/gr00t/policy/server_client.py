"""The policy server's wire format and request loop (stand-in of gr00t/policy/server_client.py)."""

from __future__ import annotations

import io
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

from gr00t.policy.modality_config import ModalityConfig


class MsgSerializer:
    @staticmethod
    def to_bytes(data: Any) -> bytes:
        # Mirrors server_client.py MsgSerializer.to_bytes: msgpack's defaults (bin type on).
        return msgpack.packb(data, default=MsgSerializer.encode_custom_classes)

    @staticmethod
    def from_bytes(data: bytes) -> Any:
        # Mirrors server_client.py MsgSerializer.from_bytes: msgpack's defaults (str keys, no raw).
        return msgpack.unpackb(data, object_hook=MsgSerializer.decode_custom_classes)

    @staticmethod
    def decode_custom_classes(obj: Any) -> Any:
        # Mirrors server_client.py MsgSerializer.decode_custom_classes: the tag key's presence decides.
        if not isinstance(obj, dict):
            return obj
        if "__ModalityConfig_class__" in obj:
            return ModalityConfig(**obj["as_json"])
        if "__ndarray_class__" in obj:
            return np.load(io.BytesIO(obj["as_npy"]), allow_pickle=False)
        return obj

    @staticmethod
    def encode_custom_classes(obj: Any) -> Any:
        # Mirrors server_client.py MsgSerializer.encode_custom_classes: ModalityConfig as its JSON,
        # arrays as np.save bytes; anything else is left to msgpack (which refuses what it cannot pack).
        if isinstance(obj, ModalityConfig):
            return {"__ModalityConfig_class__": True, "as_json": obj.as_json()}
        if isinstance(obj, np.ndarray):
            output = io.BytesIO()
            np.save(output, obj, allow_pickle=False)
            return {"__ndarray_class__": True, "as_npy": output.getvalue()}
        return obj


@dataclass
class EndpointHandler:
    handler: Callable[..., Any]
    requires_input: bool = True


class PolicyServer:
    """REP socket bound at construction; ``run`` answers requests until ``kill``."""

    def __init__(self, policy: Any, host: str = "*", port: int = 5555, api_token: str | None = None):
        import zmq

        self.policy = policy
        self.running = True
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.REP)
        # Mirrors server_client.py PolicyServer.__init__: bound only once the policy (model) is loaded.
        self.socket.bind(f"tcp://{host}:{port}")
        self._endpoints: dict[str, EndpointHandler] = {}
        self.api_token = api_token
        # Mirrors server_client.py PolicyServer.__init__: the five endpoints and whether they take data.
        self.register_endpoint("ping", self._handle_ping, requires_input=False)
        self.register_endpoint("kill", self._kill_server, requires_input=False)
        self.register_endpoint("get_action", self.policy.get_action)
        self.register_endpoint("reset", self.policy.reset)
        self.register_endpoint(
            "get_modality_config",
            getattr(self.policy, "get_modality_config", lambda: {}),
            requires_input=False,
        )

    def _kill_server(self) -> None:
        # Mirrors server_client.py PolicyServer._kill_server: the reply is nil, then the loop ends.
        self.running = False

    def _handle_ping(self) -> dict:
        # Mirrors server_client.py PolicyServer._handle_ping.
        return {"status": "ok", "message": "Server is running"}

    def register_endpoint(self, name: str, handler: Callable[..., Any], requires_input: bool = True) -> None:
        self._endpoints[name] = EndpointHandler(handler, requires_input)

    def _validate_token(self, request: dict) -> bool:
        # Mirrors server_client.py PolicyServer._validate_token (run_gr00t_server.py never sets a token).
        if self.api_token is None:
            return True
        return request.get("api_token") == self.api_token

    def run(self) -> None:
        import zmq

        addr = self.socket.getsockopt_string(zmq.LAST_ENDPOINT)
        # Mirrors server_client.py PolicyServer.run: the ready line, printed without a flush.
        print(f"Server is ready and listening on {addr}")
        while self.running:
            try:
                message = self.socket.recv()
                request = MsgSerializer.from_bytes(message)
                if not self._validate_token(request):
                    self.socket.send(MsgSerializer.to_bytes({"error": "Unauthorized: Invalid API token"}))
                    continue
                # Mirrors server_client.py PolicyServer.run: no endpoint means get_action; the handler
                # takes ``data`` as keyword arguments (``{}`` when absent), so bad data is a TypeError.
                endpoint = request.get("endpoint", "get_action")
                if endpoint not in self._endpoints:
                    raise ValueError(f"Unknown endpoint: {endpoint}")
                handler = self._endpoints[endpoint]
                result = (
                    handler.handler(**request.get("data", {}))
                    if handler.requires_input
                    else handler.handler()
                )
                self.socket.send(MsgSerializer.to_bytes(result))
            except Exception as e:
                # Mirrors server_client.py PolicyServer.run: every failure is answered {"error": str(e)}
                # and logged with its traceback; the server keeps serving.
                print(f"Error in server: {e}")
                print(traceback.format_exc())
                self.socket.send(MsgSerializer.to_bytes({"error": str(e)}))
