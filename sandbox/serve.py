"""Run an ASGI app (a local simulator or the bridge) on a real loopback port in a thread."""

from __future__ import annotations

import socket
import threading
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp


class ServerThread:
    """uvicorn in a background thread; a context manager exposing ``.url``.

    The listening socket is bound before the thread starts, so ``.url`` is known at once
    and ``port=0`` picks a free port. Leaving the ``with`` block asks uvicorn to exit,
    which runs the app's lifespan shutdown, and joins the thread.
    """

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        startup_timeout: float = 10.0,
        graceful_timeout: int = 3,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            lifespan="on",
            ws="none",
            loop="asyncio",
            access_log=False,
            timeout_graceful_shutdown=graceful_timeout,
        )
        self._server = uvicorn.Server(self._config)
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:53211``."""
        return f"http://{self._host}:{self.port}"

    def start(self) -> ServerThread:
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto is TCP; with proto 0 Nagle + delayed ACK add ~40 ms to every response.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{self.port}", daemon=True
        )
        self._thread.start()
        self._wait_started()
        return self

    def _wait_started(self) -> None:
        assert self._thread is not None
        ready = threading.Event()
        deadline_steps = int(self._startup_timeout / 0.01)
        for _ in range(deadline_steps):
            if self._server.started:
                return
            if not self._thread.is_alive():
                break
            ready.wait(0.01)
        self.stop()
        raise RuntimeError(f"uvicorn did not start on {self.url}")

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
