"""Trim GitHub's REST description to the endpoints the local GitHub simulator serves.

It keeps the issue endpoints (docs/upstream/github.md section 5) with a longer KEEP list
(repository labels, single label removal, single comments, the repository itself and
the GitHub App installation endpoints). It also fixes the description's defect where
``nullable: true`` sits next to ``oneOf``/``anyOf`` without a ``type``: the flag is
moved onto the first typed branch.

Usage: python make_issue_spec.py SRC DST
"""

import json
import sys

KEEP = [
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/issues",
    "/repos/{owner}/{repo}/issues/{issue_number}",
    "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    "/repos/{owner}/{repo}/issues/{issue_number}/events",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    "/repos/{owner}/{repo}/labels",
    "/repos/{owner}/{repo}/labels/{name}",
    "/repos/{owner}/{repo}/installation",
    "/app/installations/{installation_id}/access_tokens",
    "/rate_limit",
]


def main(src: str, dst: str) -> None:
    with open(src, encoding="utf-8") as fh:
        full = json.load(fh)
    out = {k: full[k] for k in ("openapi", "info", "servers")}
    out["paths"] = {p: full["paths"][p] for p in KEEP}
    out["components"] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("nullable") is True and "type" not in node:
                typed = [
                    b
                    for b in node.get("oneOf", []) + node.get("anyOf", [])
                    if isinstance(b, dict) and "type" in b
                ]
                if typed:
                    typed[0]["nullable"] = True
                    del node["nullable"]
            ref = node.get("$ref", "")
            if ref.startswith("#/components/"):
                _, _, section, name = ref.split("/", 3)
                bucket = out["components"].setdefault(section, {})
                if name not in bucket:
                    bucket[name] = full["components"][section][name]
                    walk(bucket[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out["paths"])
    with open(dst, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1, sort_keys=False)
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
