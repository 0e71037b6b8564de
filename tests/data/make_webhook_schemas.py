"""Trim @octokit/openapi-webhooks to the webhook payload schemas the return path receives.

Usage: python3 make_webhook_schemas.py SRC_api.github.com.json DST.json
Keeps the named ``components/schemas`` entries and every component they reference (transitively),
unchanged; the output is deterministic for a given package version.
"""

import json
import sys

KEEP = [
    "webhook-issues-closed",
    "webhook-issues-reopened",
    "webhook-issue-comment-created",
    "webhook-ping",
]


def main(src: str, dst: str) -> None:
    with open(src, encoding="utf-8") as fh:
        full = json.load(fh)
    out = {"openapi": full["openapi"], "info": full["info"], "components": {}}

    def copy(section: str, name: str) -> None:
        bucket = out["components"].setdefault(section, {})
        if name not in bucket:
            bucket[name] = full["components"][section][name]
            walk(bucket[name])

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if isinstance(ref, str) and ref.startswith("#/components/"):
                _, _, section, name = ref.split("/", 3)
                copy(section, name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for name in KEEP:
        copy("schemas", name)
    out["components"] = {k: dict(sorted(v.items())) for k, v in sorted(out["components"].items())}
    with open(dst, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1, sort_keys=False)
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
