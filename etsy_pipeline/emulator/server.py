"""Serving the emulator: in the foreground (`etsy-pipeline emulator serve`) or on a background thread.

The background server binds a free loopback port, so the demo and tests can point the real HTTP client at it
exactly as they would at Etsy.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from types import TracebackType

import uvicorn

from etsy_pipeline.emulator.app import create_app
from etsy_pipeline.emulator.state import Config, EmulatorState


def serve(host: str, port: int, config: Config) -> None:
    """Run until interrupted."""
    config = dataclasses.replace(config, freeze_gc=True)
    uvicorn.run(create_app(EmulatorState(config)), host=host, port=port, log_level="warning", access_log=False)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class BackgroundEmulator:
    """The emulator on a loopback port in a daemon thread; `url` is its base URL."""

    def __init__(self, config: Config | None = None, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.state = EmulatorState(dataclasses.replace(config or Config(), freeze_gc=True))
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        app = create_app(self.state)
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=self.port, log_level="warning", access_log=False, lifespan="off")
        )
        self._thread = threading.Thread(target=self._server.run, name="etsy-emulator", daemon=True)

    def start(self, timeout: float = 10.0) -> BackgroundEmulator:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the emulator did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
