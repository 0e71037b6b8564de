"""How the real-FreeScout lane finds its FreeScout, and what it says when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.real_freescout.tools import TARBALL_NAME, Unavailable, find_source, tarball_candidates


def test_freescout_src_wins_when_it_is_a_freescout_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "artisan").write_text("")
    (tmp_path / "Modules" / "ApiWebhooks").mkdir(parents=True)
    monkeypatch.setenv("FREESCOUT_SRC", str(tmp_path))
    assert find_source() == ("tree", tmp_path)


def test_a_freescout_src_without_the_module_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FREESCOUT_SRC", str(tmp_path))
    with pytest.raises(
        Unavailable, match=r"FREESCOUT_SRC=.* is not a FreeScout tree with Modules/ApiWebhooks"
    ):
        find_source()


def test_no_tree_and_no_tarball_says_which_variables_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FREESCOUT_SRC", raising=False)
    monkeypatch.setenv("FREESCOUT_TARBALL", str(tmp_path / TARBALL_NAME))
    with pytest.raises(Unavailable) as missing:
        find_source()
    assert "set FREESCOUT_SRC" in str(missing.value) and "FREESCOUT_TARBALL" in str(missing.value)
    assert str(tmp_path / TARBALL_NAME) in str(missing.value)


def test_the_default_tarball_is_looked_for_beside_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FREESCOUT_TARBALL", raising=False)
    candidates = tarball_candidates()
    assert candidates and all(p.parts[-3:] == ("shared", "freescout", TARBALL_NAME) for p in candidates)
