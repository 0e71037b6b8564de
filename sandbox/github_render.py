"""JSON shapes of the local GitHub simulator (schemas ``issue``, ``issue-comment``,
``label``, ``simple-user``, ``full-repository`` of GitHub's REST description).

API URLs use the simulator's own base URL so PyGithub follows them; ``html_url``s use
the configured web base (``https://github.com`` by default), like the real service.
"""

from __future__ import annotations

import zlib
from typing import Any
from urllib.parse import quote

from sandbox.github_store import Actor, Comment, Issue, IssueEvent, Label, Repo, fmt_time

JSON = dict[str, Any]


def user(a: Actor | None, base: str, web: str) -> JSON | None:
    if a is None:
        return None
    u = f"{base}/users/{quote(a.login)}"
    return {
        "login": a.login,
        "id": a.id,
        "node_id": f"MDQ6VXNlcj{a.id}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{a.id}?v=4",
        "gravatar_id": "",
        "url": u,
        "html_url": f"{web}/{quote(a.login)}",
        "followers_url": f"{u}/followers",
        "following_url": f"{u}/following{{/other_user}}",
        "gists_url": f"{u}/gists{{/gist_id}}",
        "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{u}/subscriptions",
        "organizations_url": f"{u}/orgs",
        "repos_url": f"{u}/repos",
        "events_url": f"{u}/events{{/privacy}}",
        "received_events_url": f"{u}/received_events",
        "type": a.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def label(repo: Repo, lb: Label, base: str) -> JSON:
    return {
        "id": lb.id,
        "node_id": f"LA_kwDO{lb.id}",
        "url": f"{base}/repos/{repo.full_name}/labels/{quote(lb.name)}",
        "name": lb.name,
        "color": lb.color,
        "default": lb.default,
        "description": lb.description,
    }


def issue(repo: Repo, i: Issue, base: str, web: str) -> JSON:
    api = f"{base}/repos/{repo.full_name}"
    kind = "pull" if i.pull_request else "issues"
    assignees = [
        user(Actor(login, 100000 + zlib.crc32(login.encode()) % 900000), base, web) for login in i.assignees
    ]
    out: JSON = {
        "url": f"{api}/issues/{i.number}",
        "repository_url": api,
        "labels_url": f"{api}/issues/{i.number}/labels{{/name}}",
        "comments_url": f"{api}/issues/{i.number}/comments",
        "events_url": f"{api}/issues/{i.number}/events",
        "html_url": f"{web}/{repo.full_name}/{kind}/{i.number}",
        "id": i.id,
        "node_id": f"I_kwDO{i.id}",
        "number": i.number,
        "title": i.title,
        "user": user(i.user, base, web),
        "labels": [label(repo, repo.labels[lid], base) for lid in i.labels if lid in repo.labels],
        "state": i.state,
        "locked": i.locked,
        "assignee": assignees[0] if assignees else None,
        "assignees": assignees,
        "milestone": None,
        "comments": len(i.comments),
        "created_at": fmt_time(i.created_at),
        "updated_at": fmt_time(i.updated_at),
        "closed_at": fmt_time(i.closed_at),
        "author_association": "NONE" if i.user.type == "Bot" else "MEMBER",
        "type": None,
        "active_lock_reason": None,
        "body": i.body,
        "closed_by": user(i.closed_by, base, web),
        "timeline_url": f"{api}/issues/{i.number}/timeline",
        "performed_via_github_app": None,
        "state_reason": i.state_reason,
    }
    if i.pull_request:
        out["draft"] = False
        out["pull_request"] = {
            "url": f"{api}/pulls/{i.number}",
            "html_url": f"{web}/{repo.full_name}/pull/{i.number}",
            "diff_url": f"{web}/{repo.full_name}/pull/{i.number}.diff",
            "patch_url": f"{web}/{repo.full_name}/pull/{i.number}.patch",
            "merged_at": None,
        }
    return out


def comment(repo: Repo, c: Comment, base: str, web: str) -> JSON:
    api = f"{base}/repos/{repo.full_name}"
    return {
        "url": f"{api}/issues/comments/{c.id}",
        "html_url": f"{web}/{repo.full_name}/issues/{c.issue_number}#issuecomment-{c.id}",
        "issue_url": f"{api}/issues/{c.issue_number}",
        "id": c.id,
        "node_id": f"IC_kwDO{c.id}",
        "user": user(c.user, base, web),
        "created_at": fmt_time(c.created_at),
        "updated_at": fmt_time(c.updated_at),
        "author_association": "NONE" if c.user.type == "Bot" else "MEMBER",
        "body": c.body,
        "performed_via_github_app": None,
    }


def issue_event(repo: Repo, e: IssueEvent, base: str, web: str) -> JSON:
    """Schema ``state-change-issue-event`` (one branch of ``issue-event-for-issue``)."""
    api = f"{base}/repos/{repo.full_name}"
    return {
        "id": e.id,
        "node_id": f"CE_lADO{e.id}",
        "url": f"{api}/issues/events/{e.id}",
        "actor": user(e.actor, base, web),
        "event": e.event,
        "commit_id": e.commit_id,
        "commit_url": f"{api}/commits/{e.commit_id}" if e.commit_id else None,
        "created_at": fmt_time(e.created_at),
        "performed_via_github_app": None,
        "state_reason": e.state_reason if e.event == "closed" else None,
    }


_REPO_URLS = {
    "forks_url": "/forks", "keys_url": "/keys{/key_id}", "collaborators_url": "/collaborators{/collaborator}",
    "teams_url": "/teams", "hooks_url": "/hooks", "issue_events_url": "/issues/events{/number}",
    "events_url": "/events", "assignees_url": "/assignees{/user}", "branches_url": "/branches{/branch}",
    "tags_url": "/tags", "blobs_url": "/git/blobs{/sha}", "git_tags_url": "/git/tags{/sha}",
    "git_refs_url": "/git/refs{/sha}", "trees_url": "/git/trees{/sha}", "statuses_url": "/statuses/{sha}",
    "languages_url": "/languages", "stargazers_url": "/stargazers", "contributors_url": "/contributors",
    "subscribers_url": "/subscribers", "subscription_url": "/subscription", "commits_url": "/commits{/sha}",
    "git_commits_url": "/git/commits{/sha}", "comments_url": "/comments{/number}",
    "issue_comment_url": "/issues/comments{/number}", "contents_url": "/contents/{+path}",
    "compare_url": "/compare/{base}...{head}", "merges_url": "/merges", "archive_url": "/{archive_format}{/ref}",
    "downloads_url": "/downloads", "issues_url": "/issues{/number}", "pulls_url": "/pulls{/number}",
    "milestones_url": "/milestones{/number}", "notifications_url": "/notifications{?since,all,participating}",
    "labels_url": "/labels{/name}", "releases_url": "/releases{/id}", "deployments_url": "/deployments",
}  # fmt: skip


def repository(repo: Repo, base: str, web: str) -> JSON:
    api = f"{base}/repos/{repo.full_name}"
    stamp = fmt_time(repo.created_at)
    open_count = sum(1 for i in repo.issues.values() if i.state == "open")
    out: JSON = {
        "id": repo.id,
        "node_id": f"R_kgDO{repo.id}",
        "name": repo.name,
        "full_name": repo.full_name,
        "private": True,
        "owner": user(repo.owner, base, web),
        "html_url": f"{web}/{repo.full_name}",
        "description": None,
        "fork": False,
        "url": api,
        **{key: api + suffix for key, suffix in _REPO_URLS.items()},
        "created_at": stamp,
        "updated_at": stamp,
        "pushed_at": stamp,
        "git_url": f"git://github.com/{repo.full_name}.git",
        "ssh_url": f"git@github.com:{repo.full_name}.git",
        "clone_url": f"{web}/{repo.full_name}.git",
        "svn_url": f"{web}/{repo.full_name}",
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "has_issues": True,
        "has_projects": False,
        "has_downloads": False,
        "has_wiki": False,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": open_count,
        "license": None,
        "visibility": "private",
        "forks": 0,
        "open_issues": open_count,
        "watchers": 0,
        "default_branch": "main",
        "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
        "network_count": 0,
        "subscribers_count": 0,
    }
    return out
