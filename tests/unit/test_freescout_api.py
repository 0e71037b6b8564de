"""The FreeScout client against strict respx routes: headers, pages, retries, and no blind POST retry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from bridge import retry
from bridge.errors import PermanentUpstreamError, TransientUpstreamError
from bridge.freescout_api import FreeScoutAPI, ThreadType, make_client
from tests.helpers import fixture

BASE = "https://help.example.com"
pytestmark = pytest.mark.anyio


@pytest.fixture
async def api() -> AsyncIterator[FreeScoutAPI]:
    async with make_client(BASE, "k" * 32) as client:
        yield FreeScoutAPI(client)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=f"{BASE}/api", assert_all_called=True, assert_all_mocked=True) as router:
        yield router


async def test_get_conversation_asks_for_threads_and_tags_with_the_api_key(
    api: FreeScoutAPI, mock: respx.MockRouter
) -> None:
    body = fixture("convo.created.json")
    body["_embedded"]["tags"] = [{"id": 1, "name": "bug"}]
    route = mock.get("/conversations/1287", params={"embed": "threads,tags"}).respond(200, json=body)
    conv = await api.get_conversation(1287)
    request = route.calls.last.request
    assert request.headers["X-FreeScout-API-Key"] == "k" * 32
    assert request.headers["Accept"] == "application/json"
    assert conv.tags == ("bug",) and conv.field() is not None and conv.field().id == 7  # type: ignore[union-attr]


async def test_lists_follow_every_page(api: FreeScoutAPI, mock: respx.MockRouter) -> None:
    def page(n: int) -> httpx.Response:
        items = [{"id": n * 10 + i, "name": f"m{n}{i}", "email": f"m{n}{i}@example.com"} for i in range(2)]
        return httpx.Response(
            200,
            json={
                "_embedded": {"mailboxes": items},
                "page": {"size": 2, "totalElements": 6, "totalPages": 3, "number": n},
            },
        )

    route = mock.get("/mailboxes").mock(side_effect=lambda req: page(int(req.url.params["page"])))
    boxes = await api.list_mailboxes()
    assert [b["id"] for b in boxes] == [10, 11, 20, 21, 30, 31]
    assert route.call_count == 3


async def test_transient_errors_are_retried_then_succeed(api: FreeScoutAPI, mock: respx.MockRouter) -> None:
    route = mock.put("/conversations/5/custom_fields").mock(
        side_effect=[httpx.Response(503), httpx.ConnectError("reset"), httpx.Response(204)]
    )
    with retry.deadline_in(10):
        await api.set_custom_field(5, 7, "https://github.com/acme/app/issues/1")
    assert route.call_count == 3
    assert (
        route.calls.last.request.content
        == b'{"customFields":[{"id":7,"value":"https://github.com/acme/app/issues/1"}]}'
    )


async def test_permanent_errors_name_the_setting(api: FreeScoutAPI, mock: respx.MockRouter) -> None:
    mock.get("/conversations/5").respond(401, json={"message": "Not Authorized"})
    with pytest.raises(PermanentUpstreamError) as caught:
        await api.get_conversation(5)
    assert "FREESCOUT_API_KEY" in caught.value.hint


async def test_a_note_post_is_never_retried_blindly(api: FreeScoutAPI, mock: respx.MockRouter) -> None:
    route = mock.post("/conversations/5/threads").mock(side_effect=httpx.ReadTimeout("lost"))
    with pytest.raises(TransientUpstreamError):
        await api.add_thread(5, ThreadType.NOTE, "<p>x</p>", 9)
    assert route.call_count == 1


async def test_unknown_thread_types_and_empty_field_values_are_refused_before_sending(
    api: FreeScoutAPI,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        with pytest.raises(ValueError):
            await api.add_thread(5, "notes", "<p>x</p>", 9)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await api.set_custom_field(5, 7, "  ")
        assert router.calls.call_count == 0
