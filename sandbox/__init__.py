"""Local simulators of FreeScout (API & Webhooks module) and GitHub's REST issues API.

Everything in this package is a **local simulator** for tests and demos. Nothing here talks
to a real FreeScout or GitHub. The simulators follow ``docs/upstream/freescout.md`` and
``docs/upstream/github.md`` point by point, quirks included, keep their state in memory and
record every request they receive so tests can assert on the wire traffic.

Entry points:

- :func:`sandbox.freescout_sim.create_app` / :class:`FreeScoutSimConfig`
- :func:`sandbox.github_sim.create_app` / :class:`GitHubSimConfig`
- :class:`sandbox.serve.ServerThread` runs either app on a loopback port
- ``python -m sandbox freescout|github --port N`` runs one from the shell
"""
