"""Debian's headless chromium, driven over the DevTools protocol from the test suite.

The browser answers HTTP Basic challenges the way a person at the login prompt would (the ``Fetch``
domain's ``authRequired``: give credentials, or cancel), records every Content-Security-Policy violation
the page causes, and takes full-page screenshots. Each ``Chromium`` runs with a fresh profile and is
stopped (its own process group only) when the ``with`` block ends.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
)
# Installed before any page script: the page has none of its own, and the CSP must not be able to hide
# its own violations from the test.
WATCH_VIOLATIONS = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__violations.push(e.effectiveDirective + ' ' + (e.blockedURI || 'inline')));"
)


class Chromium:
    def __init__(self, executable: str, profile: Path, timeout: float = 30.0) -> None:
        self._executable = executable
        self._profile = profile
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None
        self._ws: ClientConnection | None = None
        self._stack = ExitStack()
        self._session = ""
        self._events: list[dict[str, Any]] = []
        self.credentials: tuple[str, str] | None = None

    def __enter__(self) -> Chromium:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        self._profile.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [self._executable, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped below without touching anything else
        )
        port_file = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + self._timeout
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self._ws = self._stack.enter_context(connect(f"ws://127.0.0.1:{port}{path}", max_size=2**26))
        target = self._call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        attached = self._call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)
        self._session = attached["sessionId"]
        for method in ("Page.enable", "Runtime.enable"):
            self._call(method)
        self._call("Fetch.enable", {"handleAuthRequests": True, "patterns": [{"urlPattern": "*"}]})
        self._call("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_VIOLATIONS})
        self._call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=10)

    # -- the protocol ---------------------------------------------------------------------------------

    def _send(self, method: str, params: dict[str, Any], session: bool = True) -> int:
        assert self._ws is not None
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        return message_id

    def _call(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> Any:
        message_id = self._send(method, params or {}, session)
        while True:
            message = self._receive()
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def _receive(self) -> dict[str, Any]:
        assert self._ws is not None
        data: dict[str, Any] = json.loads(self._ws.recv(timeout=self._timeout))
        return data

    def _event(self, message: dict[str, Any]) -> None:
        """Answer paused requests and auth challenges at once; keep the rest for ``navigate``."""
        method, params = message.get("method"), message.get("params", {})
        if method == "Fetch.requestPaused":
            self._send("Fetch.continueRequest", {"requestId": params["requestId"]})
        elif method == "Fetch.authRequired":
            if self.credentials is None:
                answer: dict[str, Any] = {"response": "CancelAuth"}
            else:
                user, password = self.credentials
                answer = {"response": "ProvideCredentials", "username": user, "password": password}
            self._send(
                "Fetch.continueWithAuth", {"requestId": params["requestId"], "authChallengeResponse": answer}
            )
        elif method:
            self._events.append(message)

    # -- what tests use -------------------------------------------------------------------------------

    def navigate(self, url: str) -> None:
        """Open ``url`` and wait for its load event."""
        self._events.clear()
        self._call("Page.navigate", {"url": url})
        deadline = time.monotonic() + self._timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            assert time.monotonic() < deadline, f"{url} did not load"
            self._event(self._receive())

    def evaluate(self, expression: str) -> Any:
        result = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    def violations(self) -> list[str]:
        found = self.evaluate("window.__violations || []")
        return [str(v) for v in found]

    def screenshot(self) -> bytes:
        """The whole page as PNG, one device pixel per CSS pixel. The viewport first grows to the page's
        height, so no scrollbar narrows the layout: measure the DOM after this call, not before."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self._call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        clip = {"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1}
        shot = self._call("Page.captureScreenshot", {"format": "png", "clip": clip})
        return base64.b64decode(shot["data"])
