"""The doctor's GitHub verdicts: credentials and repository, the Issues permission, the labels. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from bridge.cli.doctor_facts import Check, Exit, Facts, not_asked, upstream_fix


def check_github(facts: Facts) -> Check:
    name = f"github repository {facts.github_repository}"
    answer = facts.github
    if answer is None:
        return not_asked(name, "the settings are incomplete")
    if answer.ok:
        return Check(name, True, "the credentials work and the repository exists")
    fixes = {
        401: "the token or GitHub App credentials are wrong or expired: issue new ones (runbooks/github-auth.md)",
        403: "the credentials may not read this repository: grant Issues read/write and Metadata read "
        "(runbooks/github-auth.md)",
        404: "check GITHUB_REPOSITORY, and that the token (or App installation) covers this repository",
        422: "the GitHub App installation does not grant Issues: write; update its permissions and "
        "accept them on the installation (runbooks/github-auth.md)",
    }
    exit_code = Exit.UNREACHABLE if answer.unreachable else Exit.FAILED
    fix = fixes.get(answer.status or 0) or upstream_fix("github", answer)
    if answer.unreachable:
        detail = f"GitHub did not answer: {answer.why}"
    elif answer.status is None:
        detail = f"the GitHub credentials cannot be used: {answer.why}"
    else:
        detail = f"GitHub refused: {answer.why}"
    return Check(name, False, detail, fix, exit_code)


def check_permissions(facts: Facts) -> Check:
    name = "github issues permission"
    if facts.repo is None:
        return not_asked(name, "GitHub did not answer")
    if facts.repo.get("has_issues") is False:
        return Check(
            name, False, "issues are disabled in the repository", "enable Issues in the repository settings"
        )
    perms = facts.repo.get("permissions")
    if facts.github_auth_kind == "app":
        return Check(name, True, "the App installation granted the Issues: write token the bridge asked for")
    if isinstance(perms, Mapping) and perms:
        if perms.get("push") or perms.get("admin") or perms.get("maintain"):
            return Check(name, True, "push access: the token can create, label and comment on issues")
        if perms.get("triage"):
            return Check(
                name,
                True,
                "triage access: issues can be written, but GitHub drops labels given at creation without "
                "push access; grant Write if issues arrive without labels",
            )
        return Check(
            name,
            False,
            "read-only access: the token cannot create issues",
            "give the token's owner Write on the repository and the token Issues: Read and write "
            "(runbooks/github-auth.md)",
        )
    scopes = facts.oauth_scopes
    if scopes is not None and not ({"repo", "public_repo"} & set(scopes)):
        return Check(
            name,
            False,
            f"classic token without the repo scope (scopes: {', '.join(scopes) or 'none'})",
            "use a fine-grained token with Issues: Read and write (runbooks/github-auth.md)",
        )
    return Check(
        name,
        True,
        "the repository is readable; GitHub does not report this token's Issues permission, so make sure "
        "it is Issues: Read and write (a 403 on the first link names the missing permission)",
    )


def check_labels(facts: Facts) -> Check:
    name = "github labels"
    if facts.labels_present is None:
        why = facts.labels_answer.why if facts.labels_answer else "GitHub did not answer"
        answer = facts.labels_answer
        if answer is not None and not answer.ok:
            code = Exit.UNREACHABLE if answer.unreachable else Exit.FAILED
            return Check(
                name, False, f"labels could not be listed: {why}", upstream_fix("github", answer), code
            )
        return not_asked(name, why)
    missing = [n for n in facts.labels_wanted if n.lower() not in facts.labels_present]
    created = ", ".join(facts.labels_created)
    if facts.label_failures:
        failed = "; ".join(f"{k}: {v}" for k, v in facts.label_failures.items())
        return Check(
            name,
            False,
            f"could not create {failed}",
            "create them by hand under Issues → Labels, or give the token Issues: Read and write",
        )
    if missing:
        return Check(
            name,
            False,
            "missing: " + ", ".join(missing),
            "run `freescout-bridge check --fix` to create them (the only thing --fix writes)",
        )
    detail = "all present: " + ", ".join(facts.labels_wanted)
    return Check(name, True, detail + (f" (created now: {created})" if created else ""))
