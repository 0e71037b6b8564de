"""FreeScout's REST API in the bridge's own words (docs/upstream/freescout.md §4).

One ``httpx.AsyncClient`` per process, owned by the app lifespan (or the Actions script), with explicit
timeouts and the API-key header. Reads and idempotent PUTs go through the central retry policy; the one
non-idempotent write (posting a thread) is made safe by the caller looking for it first.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from enum import StrEnum
from typing import Any

import httpx

from bridge import retry
from bridge.errors import PermanentUpstreamError, TransientUpstreamError, UpstreamError
from bridge.metrics import Metrics
from bridge.model import Conversation, PayloadError, parse_conversation

API = "freescout"
_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class ThreadType(StrEnum):
    """FreeScout silently turns an unknown thread type into a customer reply; only these may be sent."""

    NOTE = "note"
    MESSAGE = "message"
    CUSTOMER = "customer"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.strip().isdigit() else None


_HINTS = {
    401: "FREESCOUT_API_KEY is wrong (Manage → Settings → API & Webhooks → API Key)",
    400: "check FREESCOUT_BOT_USER_ID and that the Custom Fields and Tags modules are active",
    404: "check FREESCOUT_URL and that the conversation or mailbox exists",
}


def _raise_for(operation: str, response: httpx.Response) -> None:
    if response.is_success:
        return
    status = response.status_code
    if status in _TRANSIENT_STATUS:
        raise TransientUpstreamError(
            API, operation, f"http_{status}", status=status, retry_after=_retry_after(response)
        )
    raise PermanentUpstreamError(
        API, operation, f"http_{status}", status=status, hint=_HINTS.get(status, "see the FreeScout API log")
    )


def _json(operation: str, response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise TransientUpstreamError(API, operation, "invalid_json", status=response.status_code) from exc


def make_client(base_url: str, api_key: str, timeout: float = 5.0) -> httpx.AsyncClient:
    """The one FreeScout client of a process: base URL, API key, JSON headers, explicit timeouts."""
    return httpx.AsyncClient(
        base_url=f"{base_url.rstrip('/')}/api/",
        headers={
            "X-FreeScout-API-Key": api_key,
            "Accept": "application/json",
            "User-Agent": "freescout-github-bridge",
        },
        timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
        follow_redirects=False,
    )


class FreeScoutAPI:
    """The calls the bridge makes to FreeScout. Every method retries transient failures itself."""

    def __init__(self, client: httpx.AsyncClient, metrics: Metrics | None = None) -> None:
        self._client = client
        self._metrics = metrics

    async def _request(
        self, operation: str, method: str, path: str, *, idempotent: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """One call; retried only when repeating it cannot write twice (callers look before a POST)."""

        async def attempt() -> httpx.Response:
            retry.check_deadline(operation)
            started = time.perf_counter()
            status = "error"
            try:
                response = await self._client.request(method, path, **kwargs)
                status = str(response.status_code)
            except httpx.TimeoutException as exc:
                status = "timeout"
                raise TransientUpstreamError(API, operation, "timeout") from exc
            except httpx.TransportError as exc:
                raise TransientUpstreamError(API, operation, "connection_error") from exc
            finally:
                if self._metrics is not None:
                    self._metrics.upstream(API, operation, status, time.perf_counter() - started)
            _raise_for(operation, response)
            return response

        # A POST is sent once here: whether a failed one may still land is ``bridge.in_doubt``'s call.
        return await retry.call(attempt) if idempotent else await attempt()

    async def get_conversation(self, conversation_id: int) -> Conversation:
        """Fresh state with threads and tags: the only source the link decision trusts."""
        response = await self._request(
            "get_conversation",
            "GET",
            f"conversations/{int(conversation_id)}",
            params={"embed": "threads,tags"},
        )
        try:
            return parse_conversation(_json("get_conversation", response))
        except PayloadError as exc:
            raise TransientUpstreamError(API, "get_conversation", "unexpected_shape") from exc

    async def pages(
        self, operation: str, path: str, collection: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a HAL list, following ``page`` until ``totalPages`` (module 1.0.67 ignores pageSize)."""
        page = 1
        while True:
            query = {**(params or {}), "page": page, "pageSize": 100}
            data = _json(operation, await self._request(operation, "GET", path, params=query))
            items = (data.get("_embedded") or {}).get(collection) or [] if isinstance(data, dict) else []
            for item in items:
                if isinstance(item, dict):
                    yield item
            info = data.get("page") if isinstance(data, dict) else None
            total = int(info.get("totalPages", 1)) if isinstance(info, dict) else 1
            if page >= total or not items:
                return
            page += 1

    async def list_mailboxes(self) -> list[dict[str, Any]]:
        return [m async for m in self.pages("list_mailboxes", "mailboxes", "mailboxes")]

    async def mailbox_custom_fields(self, mailbox_id: int) -> list[dict[str, Any]]:
        path = f"mailboxes/{int(mailbox_id)}/custom_fields"
        return [f async for f in self.pages("mailbox_custom_fields", path, "custom_fields")]

    async def list_conversations(self, **filters: Any) -> AsyncIterator[Conversation]:
        """Conversations matching ``filters`` (docs/upstream/freescout.md §4), every page; malformed items are skipped."""
        async for item in self.pages("list_conversations", "conversations", "conversations", filters):
            try:
                yield parse_conversation(item)
            except PayloadError:
                continue

    async def probe(self) -> None:
        """A cheap authenticated read, for readiness and the doctor."""
        await self._request("probe", "GET", "mailboxes", params={"page": 1, "pageSize": 1})

    async def get_user(self, user_id: int) -> dict[str, Any]:
        response = await self._request("get_user", "GET", f"users/{int(user_id)}")
        data = _json("get_user", response)
        return data if isinstance(data, dict) else {}

    async def set_custom_field(self, conversation_id: int, field_id: int, value: str) -> None:
        """Write one field. Idempotent: writing the current value again is a no-op; sends no webhook."""
        if not value.strip():
            raise ValueError("FreeScout turns an empty value into null and skips it; refuse to send one")
        await self._request(
            "set_custom_field",
            "PUT",
            f"conversations/{int(conversation_id)}/custom_fields",
            json={"customFields": [{"id": int(field_id), "value": value}]},
        )

    async def set_status(self, conversation_id: int, status: str, by_user: int) -> None:
        """``PUT /api/conversations/{id}``: the status, as user ``by_user`` (FreeScout requires one).

        Idempotent: the same status again changes nothing. A change fires ``convo.status``, which the
        bridge receives as its own echo."""
        await self._request(
            "set_status",
            "PUT",
            f"conversations/{int(conversation_id)}",
            json={"byUser": int(by_user), "status": str(status)},
        )

    async def set_tags(self, conversation_id: int, tags: list[str]) -> None:
        """Replace the whole tag set (idempotent); names are normalised by FreeScout."""
        await self._request(
            "set_tags",
            "PUT",
            f"conversations/{int(conversation_id)}/tags",
            json={"tags": [str(t) for t in tags]},
        )

    async def add_thread(
        self, conversation_id: int, thread_type: ThreadType, html: str, user_id: int
    ) -> None:
        """Post a thread. Not idempotent: callers check fresh state for it first."""
        kind = ThreadType(thread_type)  # raises on anything FreeScout would silently misread
        await self._request(
            "add_thread",
            "POST",
            f"conversations/{int(conversation_id)}/threads",
            json={"type": kind.value, "text": html, "user": int(user_id)},
            idempotent=False,
        )

    async def create_conversation(self, payload: Mapping[str, Any]) -> int:
        """Create a conversation and return its id (from ``Resource-ID`` or the body)."""
        threads = payload.get("threads") or []
        for thread in threads:
            ThreadType(thread["type"])
        response = await self._request(
            "create_conversation", "POST", "conversations", json=dict(payload), idempotent=False
        )
        header = response.headers.get("resource-id", "")
        if header.strip().isdigit():
            return int(header)
        data = _json("create_conversation", response)
        if isinstance(data, dict) and isinstance(data.get("id"), int):
            return int(data["id"])
        raise UpstreamError(API, "create_conversation", "no_resource_id", status=response.status_code)
