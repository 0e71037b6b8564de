"""``make demo``: the whole bridge, both directions, on built-in local simulators. No accounts needed.

Starts the local FreeScout and GitHub simulators (``sandbox``; they are simulators, not the real
services), the real bridge under uvicorn with autolink on, and the real Direction B script, then tells
the story step by step and checks every step. Exit 0 only if every check held.
``--keep-running`` leaves everything up afterwards so you can poke at it with curl.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from bridge.vocab import WEBHOOK_EVENTS
from sandbox.client import REPO, FreeScoutClient, GitHubClient
from sandbox.freescout_sim import create_app as freescout_app
from sandbox.freescout_state import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig
from sandbox.github_sim import create_app as github_app
from sandbox.serve import ServerThread

ROOT = Path(__file__).resolve().parents[1]


class Story:
    """Prints the narrative and keeps score; a failed check makes the demo exit 1."""

    def __init__(self) -> None:
        self.color = sys.stdout.isatty()
        self.failures: list[str] = []
        self.step_no = 0

    def _paint(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def step(self, title: str) -> None:
        self.step_no += 1
        print("\n" + self._paint("1", f"{self.step_no}. {title}"))

    def say(self, text: str) -> None:
        print(f"   {text}")

    def check(self, ok: bool, what: str) -> None:
        mark = self._paint("32", "✓") if ok else self._paint("31", "✗")
        print(f"   {mark} {what}")
        if not ok:
            self.failures.append(what)


@contextmanager
def bridge_process(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bridge.app:app_from_env",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bridge did not start:\n" + log.read_text())
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def free_port(preferred: int) -> int:
    import socket

    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free port")


def run_actions(env: dict[str, str], event: dict[str, Any], name: str, workdir: Path) -> str:
    """Run the real Actions script on ``event`` (an ``issues`` payload), as the workflow would; the step
    summary it wrote."""
    event_path = workdir / f"event-{name}.json"
    event_path.write_text(json.dumps(event))
    summary = workdir / f"summary-{name}.md"
    run_env = env | {
        "GITHUB_EVENT_NAME": "issues",
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_TOKEN": env["GITHUB_ISSUE_BOT_TOKEN"],
        "GITHUB_STEP_SUMMARY": str(summary),
        "FREESCOUT_OPS_MAILBOX": "ops@example.com",
        "FREESCOUT_TICKET_CUSTOMER_EMAIL": "engineering-reports@example.com",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bridge.actions.sync"],
        env=run_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the Actions script failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return summary.read_text() if summary.exists() else ""


def issues_event(action: str, issue: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "action": action,
        "issue": issue,
        "repository": {"full_name": REPO, "name": "app", "owner": {"login": "acme"}},
        "sender": {"login": "eng-jo", "id": 1001, "type": "User"},
        **extra,
    }


def tell(
    story: Story, fs: FreeScoutClient, gh: GitHubClient, bridge: str, env: dict[str, str], workdir: Path
) -> None:
    story.step("A customer writes in, and support tags the ticket `bug`")
    conv = fs.post(
        "/_sim/conversations",
        {
            "mailboxId": 2,
            "subject": "CSV export fails with error 500",
            "customerEmail": "dana@example.com",
            "customerFirstName": "Dana",
            "customerLastName": "Kim",
            "tags": ["bug"],
            "body": "<p>Hi, since this morning every CSV export ends with an error 500. @octocat #12</p>",
        },
    )
    story.say(
        f"FreeScout conversation #{conv['number']}: {fs.url}/api/conversations/{conv['id']}?embed=threads,tags"
    )
    story.say("FreeScout sends a signed convo.created webhook (no tags in it) to the bridge.")
    fs.wait_idle()

    story.step("The bridge opens a GitHub issue")
    opened = gh.issues()
    story.check(len(opened) == 1, "exactly one issue was opened")
    issue = opened[0]
    story.say(f"{REPO}#{issue['number']} “{issue['title']}” — {issue['html_url']}")
    story.say(f"labels: {', '.join(label['name'] for label in issue['labels'])}")
    story.check(
        "freescout-linked" in [label["name"] for label in issue["labels"]],
        "it carries the freescout-linked label",
    )
    story.check("@octocat" not in issue["body"].split("```")[0], "the customer's @mention cannot ping anyone")

    story.step("The URL is written back and an internal note is posted")
    fresh = fs.conversation(conv["id"])
    story.check(fs.field(conv["id"]) == issue["html_url"], f"github_issue_url = {fs.field(conv['id'])}")
    notes = [t for t in fresh["_embedded"]["threads"] if t["type"] == "note"]
    story.check(len(notes) == 1, "one internal note by Issue Bot links the issue")

    story.step("An engineer labels another issue `customer-reported`; the Actions script files a ticket")
    reported = gh.post(
        "/_sim/issues",
        {
            "title": "Dashboard shows stale totals",
            "body": "Reported by two customers.",
            "labels": ["customer-reported"],
            "user": "eng-jo",
        },
    )
    label = {"name": "customer-reported", "color": "d73a4a", "default": False}
    summary = run_actions(env, issues_event("labeled", reported, label=label), "labeled", workdir)
    fs.wait_idle()
    tickets = [c for c in fs.conversations() if fs.field(c["id"]) == reported["html_url"]]
    story.check(len(tickets) == 1, "one FreeScout ticket was created in the ops mailbox")
    if tickets:
        tags = sorted(t["name"] for t in tickets[0]["_embedded"].get("tags", []))
        story.say(f"ticket #{tickets[0]['number']} tags: {', '.join(tags)}")
        story.check(
            "_from_github" in tags, "it carries _from_github, so Direction A will never open an issue for it"
        )
    sentinel = [
        c
        for c in next(i for i in gh.issues() if i["number"] == reported["number"])["comment_list"]
        if c["body"].startswith("[freescout-autolink]")
    ]
    story.check(len(sentinel) == 1, "the issue got the [freescout-autolink] sentinel comment")
    story.check(len(gh.issues()) == 2, "no loop: the new ticket's convo.created did not open another issue")
    first_line = next((line for line in summary.splitlines() if line.strip()), "")
    story.say(f"step summary: {first_line.lstrip('# ')}")

    story.step("Support closes the first ticket; a resolution comment lands on the issue")
    fs.post(f"/_sim/conversations/{conv['id']}/agent-status", {"status": "closed", "userId": 3})
    fs.wait_idle()
    comments = next(i for i in gh.issues() if i["number"] == issue["number"])["comment_list"]
    story.check(
        len(comments) == 1 and "resolved" in comments[0]["body"], "one comment: “FreeScout ticket resolved”"
    )
    story.check(
        next(i for i in gh.issues() if i["number"] == issue["number"])["state"] == "open",
        "the GitHub issue stays open: engineering decides when it is done",
    )

    story.step("FreeScout redelivers every webhook again; nothing changes")
    before = (
        len(gh.issues()),
        sum(len(i["comment_list"]) for i in gh.issues()),
        sum(len(c["_embedded"]["threads"]) for c in fs.get("/_sim/state")["conversations"]),
    )
    count = len(fs.get("/_sim/deliveries")["deliveries"])
    for index in range(count):
        fs.post("/_sim/redeliver", {"index": index})
    fs.wait_idle()
    after = (
        len(gh.issues()),
        sum(len(i["comment_list"]) for i in gh.issues()),
        sum(len(c["_embedded"]["threads"]) for c in fs.get("/_sim/state")["conversations"]),
    )
    story.check(
        before == after,
        f"{count} redelivered webhooks: still {after[0]} issues, {after[1]} comments, {after[2]} threads",
    )

    story.step("Engineering fixes the reported issue and closes it; support is told")
    ticket = tickets[0]["id"] if tickets else 0
    fs.post(f"/_sim/conversations/{ticket}/agent-status", {"status": "pending", "userId": 3})
    fs.wait_idle()
    story.say(f"Support had set ticket #{ticket} to pending: it waits on engineering.")
    token = {"Authorization": f"token {env['GITHUB_ISSUE_BOT_TOKEN']}"}
    closed = httpx.patch(
        f"{gh.url}/repos/{REPO}/issues/{reported['number']}",
        json={"state": "closed", "state_reason": "completed"},
        headers=token,
    ).json()
    comments_before = sum(len(i["comment_list"]) for i in gh.issues())
    run_actions(env, issues_event("closed", closed), "closed", workdir)
    fs.wait_idle()
    fresh = fs.conversation(ticket)
    notes = [t for t in fresh["_embedded"]["threads"] if t["type"] == "note"]
    story.check(
        sum("closed as completed" in t["body"] for t in notes) == 1,
        f"one internal note: “{REPO}#{reported['number']} was closed as completed”",
    )
    story.check(fresh["status"] == "active", "the ticket is active again, back in the agents' queue")
    story.check(
        sum(len(i["comment_list"]) for i in gh.issues()) == comments_before,
        "no loop: the note and the status change wrote nothing back to GitHub",
    )
    run_actions(env, issues_event("closed", closed), "closed-again", workdir)
    fs.wait_idle()
    story.check(
        len(fs.conversation(ticket)["_embedded"]["threads"]) == len(fresh["_embedded"]["threads"]),
        "the same event again (a re-run, or the GitHub webhook too) writes nothing",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--keep-running", action="store_true", help="leave the simulators and the bridge up")
    args = parser.parse_args(argv)
    story = Story()
    print("freescout-github-bridge demo — everything runs locally against built-in simulators.")
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        fs_server = stack.enter_context(
            ServerThread(freescout_app(FreeScoutSimConfig()), port=free_port(8081))
        )
        gh_server = stack.enter_context(ServerThread(github_app(GitHubSimConfig()), port=free_port(8082)))
        fs, gh = FreeScoutClient(fs_server.url), GitHubClient(gh_server.url)
        sim_fs, sim_gh = FreeScoutSimConfig(), GitHubSimConfig()
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FREESCOUT_", "FLAG_"))
        } | {
            "FREESCOUT_URL": fs.url,
            "FREESCOUT_API_KEY": sim_fs.api_key,
            "FREESCOUT_WEBHOOK_SECRET": sim_fs.webhook_secret,
            "FREESCOUT_BOT_USER_ID": str(sim_fs.bot_user_id),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": gh.url,
            "GITHUB_ISSUE_BOT_TOKEN": sim_gh.token,
            "FLAG_FREESCOUT_GITHUB_AUTOLINK": "true",
            "SWEEP_INTERVAL_SECONDS": "0",
            "BRIDGE_CONFIG": str(ROOT / "config" / "bridge.toml"),
            "PYTHONUNBUFFERED": "1",
        }
        log = workdir / "bridge.log"
        bridge = stack.enter_context(bridge_process(env, free_port(8080), log))
        fs.post(
            "/_sim/webhooks",
            {"url": f"{bridge}/api/webhooks/freescout/support", "events": list(WEBHOOK_EVENTS)},
        )
        print(f"   FreeScout simulator {fs.url} · GitHub simulator {gh.url} · bridge {bridge} (autolink on)")
        tell(story, fs, gh, bridge, env, workdir)
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        decisions = [
            f"{d.get('event')}→{d.get('outcome')} ({d.get('reason')})"
            for d in lines
            if d.get("msg") == "delivery"
        ]
        text = log.read_text()
        planted = [sim_fs.api_key, sim_fs.webhook_secret, sim_gh.token, "dana@example.com"]
        story.check(
            not any(p in text for p in planted), "the bridge log holds no secret, token or customer email"
        )
        print("\nSummary")
        print(f"   {len(decisions)} deliveries, one JSON log line each, decided as:")
        for decision in sorted(set(decisions)):
            print(f"     {decisions.count(decision)} × {decision}")
        if story.failures:
            print(f"\n{len(story.failures)} check(s) failed: " + "; ".join(story.failures))
            print(log.read_text()[-4000:])
            return 1
        print(
            f"\nAll {story.step_no} steps held. The bridge linked, wrote back, followed the close, and never looped."
        )
        if args.keep_running:
            print(
                f"\nStill running. Try:\n  curl -s {gh.url}/_sim/state | python3 -m json.tool | less\n"
                f"  curl -s {fs.url}/_sim/state | python3 -m json.tool | less\n"
                f"  curl -s {bridge}/metrics | grep bridge_\n"
                f"  curl -s -X POST {fs.url}/_sim/conversations -H 'Content-Type: application/json' "
                f'-d \'{{"mailboxId":2,"subject":"Login broken","customerEmail":"sam@example.com",'
                f'"tags":["bug"],"body":"<p>Cannot log in</p>"}}\'\n'
                "Press Ctrl-C to stop."
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                print("\nstopping")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
