"""A delivery the bridge refuses (wrong secret) is retried by FreeScout, and succeeds once fixed.

Real-product facts this pins down: the bridge's 401 lands in ``webhook_logs`` (``status_code`` 0, the
HTTP client throws on 4xx), and FreeScout's retry (``freescout:webhooks-process``, which its cron runs
each minute) resends the stored body, signed again, to the same URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.real_freescout import RealFreeScout
from tests.harness import GitHub
from tests.real_freescout.lane import Lane, LaneBridge

pytestmark = pytest.mark.real_freescout

WRONG_SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def lane(real_fs: RealFreeScout, gh: GitHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lane]:
    """This module's bridge starts with a wrong webhook secret."""
    with Lane(real_fs, gh, tmp_path_factory.mktemp("refused"), secret=WRONG_SECRET) as running:
        yield running


def test_wrong_secret_is_refused_and_the_retry_succeeds_once_fixed(lane: Lane, tmp_path: Path) -> None:
    conversation = lane.customer_writes_in(tags=["bug"])
    lane.fs.drain()
    assert lane.issues_for(conversation) == []
    refused = [(d["outcome"], d["reason"], d["status"]) for d in lane.bridge.deliveries_logged()]
    assert refused == [("refused", "signature_mismatch", 401)], refused
    failed = lane.fs.failed_deliveries()
    assert [(f["event"], f["status_code"], f["attempts"]) for f in failed] == [("convo.created", "0", "1")]

    fixed = LaneBridge(lane.fs, lane.gh, tmp_path)  # the right secret, on the same URL
    fixed.reuse_port_of(lane.bridge)
    lane.bridge.stop()
    lane.bridge = fixed
    fixed.start()

    assert lane.fs.retry_failed() == 0
    (issue,) = lane.issues_for(conversation)
    assert lane.field_value(conversation) == issue["html_url"]
    lane.fs.drain()  # the note's echo
    assert lane.fs.retry_failed() == 0
    assert len(lane.issues_for(conversation)) == 1
    outcomes = [(d["event"], d["outcome"]) for d in fixed.deliveries_for(conversation)]
    assert ("convo.created", "linked") in outcomes, outcomes
