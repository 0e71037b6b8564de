"""Fault injection, secondary content limits and violation accounting of the local GitHub simulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from github import Auth, Github, GithubException, GithubRetry, RateLimitExceededException

from sandbox import github_sim
from tests.harness import GitHub


def fault(control: httpx.Client, **spec: Any) -> dict[str, Any]:
    response = control.post("/_sim/faults", json=spec)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def issue_titles(control: httpx.Client) -> list[str]:
    return [i["title"] for i in control.get("/_sim/state").json()["repos"][0]["issues"]]


def stats(control: httpx.Client) -> dict[str, Any]:
    result: dict[str, Any] = control.get("/_sim/stats").json()
    return result


def test_status_fault_hits_once_then_the_endpoint_answers(gh: Github, gh_control: httpx.Client) -> None:
    fault(gh_control, method="POST", path=r"/issues$", kind="status", status=503)
    repo = gh.get_repo("acme/app")
    with pytest.raises(GithubException) as exc:
        repo.create_issue("first try")
    assert exc.value.status == 503
    repo.create_issue("second try")
    assert issue_titles(gh_control) == ["second try"]
    assert gh_control.get("/_sim/faults").json()["faults"][0]["fired"] == 1


def test_lost_response_performs_the_write_but_hides_it(gh: Github, gh_control: httpx.Client) -> None:
    fault(gh_control, method="POST", path=r"/issues$", kind="lost_response")
    with pytest.raises(requests.ConnectionError):
        gh.get_repo("acme/app").create_issue("did it happen?")
    assert issue_titles(gh_control) == ["did it happen?"]
    recorded = gh_control.get("/_sim/requests").json()["requests"][-1]
    assert recorded["status"] is None and recorded["fault"]["hidden_status"] == 201


def test_lost_response_with_default_retry_creates_a_duplicate(
    github: GitHub, gh_control: httpx.Client
) -> None:
    fault(gh_control, method="POST", path=r"/issues$", kind="lost_response")
    with Github(auth=Auth.Token("gh-sim-token"), base_url=github.url, lazy=True, retry=GithubRetry(),
                seconds_between_requests=None, seconds_between_writes=None) as client:  # fmt: skip
        client.get_repo("acme/app").create_issue("retried blindly")
    assert issue_titles(gh_control) == ["retried blindly", "retried blindly"]


def test_reset_drops_the_connection_without_writing(gh: Github, gh_control: httpx.Client) -> None:
    fault(gh_control, method="POST", path=r"/comments$", kind="reset")
    number = gh_control.post("/_sim/issues", json={"title": "t"}).json()["number"]
    with pytest.raises(requests.ConnectionError):
        gh.get_repo("acme/app").get_issue(number).create_comment("lost")
    assert gh_control.get("/_sim/state").json()["repos"][0]["issues"][0]["comments"] == 0


def test_secondary_limit_fault_and_a_violation_when_retrying_too_early(
    gh: Github, gh_control: httpx.Client
) -> None:
    fault(gh_control, method="POST", kind="secondary_limit", retry_after=30)
    repo = gh.get_repo("acme/app")
    with pytest.raises(RateLimitExceededException) as exc:
        repo.create_issue("limited")
    assert exc.value.headers is not None and exc.value.headers["retry-after"] == "30"
    assert stats(gh_control)["violations"] == 0
    with pytest.raises(RateLimitExceededException):
        repo.create_issue("too early")
    after = stats(gh_control)
    assert after["violations"] == 1 and after["violation_log"][0]["path"] == "/repos/acme/app/issues"
    assert repo.get_issues().totalCount == 0  # reads are not violations
    assert stats(gh_control)["violations"] == 1


def test_rate_429_with_and_without_retry_after(gh_raw: httpx.Client, gh_control: httpx.Client) -> None:
    fault(gh_control, path=r"/issues$", kind="rate_429")
    bare = gh_raw.get("/repos/acme/app/issues")
    assert bare.status_code == 429 and "retry-after" not in bare.headers
    fault(gh_control, path=r"/issues$", kind="rate_429", retry_after=7)
    assert gh_raw.get("/repos/acme/app/issues").headers["retry-after"] == "7"
    assert stats(gh_control)["rate_limited_429"] == 2


def test_primary_limit_fault_reports_zero_remaining(gh_raw: httpx.Client, gh_control: httpx.Client) -> None:
    fault(gh_control, path=r"/issues$", kind="primary_limit", reset_in=120)
    limited = gh_raw.get("/repos/acme/app/issues")
    assert limited.status_code == 403 and limited.json()["message"].startswith("API rate limit exceeded")
    assert limited.headers["x-ratelimit-remaining"] == "0"
    normal = gh_raw.get("/repos/acme/app/issues").headers
    assert int(limited.headers["x-ratelimit-reset"]) > int(normal["x-ratelimit-reset"]) - 3600


def test_slow_fault_answers_after_the_client_gave_up(github: GitHub, gh_control: httpx.Client) -> None:
    fault(gh_control, method="POST", path=r"/issues$", kind="slow", delay=0.5)
    headers = {"Authorization": "token gh-sim-token"}
    with httpx.Client(base_url=github.url, headers=headers, timeout=0.1) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            impatient.post("/repos/acme/app/issues", json={"title": "slow"})
    with httpx.Client(base_url=github.url, headers=headers, timeout=5) as patient:
        fault(gh_control, method="POST", path=r"/issues$", kind="slow", delay=0.2)
        assert patient.post("/repos/acme/app/issues", json={"title": "patient"}).status_code == 201


def test_skip_times_and_clear(gh_raw: httpx.Client, gh_control: httpx.Client) -> None:
    fault(gh_control, method="GET", path=r"/issues$", kind="status", status=500, skip=1, times=2)
    codes = [gh_raw.get("/repos/acme/app/issues").status_code for _ in range(4)]
    assert codes == [200, 500, 500, 200]
    fault(gh_control, kind="status", status=502, times=0)
    assert gh_raw.get("/repos/acme/app").status_code == 502
    assert gh_control.delete("/_sim/faults").status_code == 204
    assert gh_raw.get("/repos/acme/app").status_code == 200
    assert gh_control.post("/_sim/faults", json={"kind": "nope"}).status_code == 400


@pytest.fixture
def gh_config() -> github_sim.GitHubSimConfig:
    return github_sim.GitHubSimConfig(content_per_minute=3, content_per_hour=5)


@pytest.fixture
def issue_number(gh_control: httpx.Client) -> Iterator[int]:
    yield int(gh_control.post("/_sim/issues", json={"title": "seeded"}).json()["number"])


def test_secondary_content_limit_per_minute(gh: Github, gh_control: httpx.Client, issue_number: int) -> None:
    repo = gh.get_repo("acme/app")
    for k in range(3):
        repo.get_issue(issue_number).create_comment(f"c{k}")
    with pytest.raises(RateLimitExceededException) as exc:
        repo.create_issue("fourth content write in a minute")
    assert exc.value.status == 403 and "secondary rate limit" in exc.value.data["message"]
    assert exc.value.headers is not None and 1 <= int(exc.value.headers["retry-after"]) <= 60
    with pytest.raises(RateLimitExceededException):  # any write inside the window is a violation
        repo.get_issue(issue_number).edit(title="not content creation, but a write too early")
    current = stats(gh_control)
    assert (current["content_created"], current["secondary_limited"], current["violations"]) == (3, 2, 1)
