"""automl._fs with real files in tmp_path: FIFOs, sockets, dangling, looping and outside
symlinks, read-only files and folders."""

from __future__ import annotations

import logging
import os
import socket
import stat
from pathlib import Path

import pytest

from automl._fs import PathEscape, copy_tree, join_under, remove_tree


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A checkpoint as a trial may leave it, and a large folder outside it."""
    outside = tmp_path / "dataset"
    outside.mkdir()
    (outside / "big.bin").write_bytes(b"x" * 1000)
    top = tmp_path / "parent"
    (top / "sub").mkdir(parents=True)
    (top / "model.pt").write_bytes(b"weights")
    (top / "sub" / "state.json").write_text("{}")
    os.mkfifo(top / "pipe")
    os.symlink("/nonexistent/automl-test", top / "dangling")
    os.symlink("loop", top / "loop")
    os.symlink(outside, top / "data")  # a symlinked folder: a link in the copy, not a copy
    os.symlink("sub/state.json", top / "relative")
    os.symlink(top / "model.pt", top / "absolute")
    frozen = top / "frozen"
    frozen.mkdir()
    (frozen / "readonly.txt").write_text("keep")
    (frozen / "readonly.txt").chmod(0o444)
    frozen.chmod(0o555)
    return top


def test_copy_tree_keeps_links_as_links_and_skips_a_fifo_naming_it(tree, tmp_path, caplog
                                                                    ) -> None:
    caplog.set_level(logging.WARNING, logger="automl")
    copy = tmp_path / "runs" / "child" / "checkpoint"
    skipped = copy_tree(tree, copy)
    assert skipped == [f"{tree / 'pipe'}: a FIFO, not a file"]
    assert f"not copied: {tree / 'pipe'}: a FIFO, not a file" in caplog.messages
    assert not (copy / "pipe").exists() and not (copy / "pipe").is_symlink()
    assert (copy / "model.pt").read_bytes() == b"weights"
    assert (copy / "sub" / "state.json").read_text() == "{}"
    assert os.readlink(copy / "dangling") == "/nonexistent/automl-test"
    assert os.readlink(copy / "loop") == "loop"
    assert os.readlink(copy / "data") == str(tmp_path / "dataset")  # not copied in full
    assert os.readlink(copy / "relative") == "sub/state.json"
    # an absolute link into the copied folder points into the copy, not back to the parent
    assert os.readlink(copy / "absolute") == str(copy / "model.pt")
    assert stat.S_IMODE((copy / "frozen").stat().st_mode) == 0o555
    assert stat.S_IMODE((copy / "frozen" / "readonly.txt").stat().st_mode) == 0o444
    assert (copy / "frozen" / "readonly.txt").read_text() == "keep"


def test_copy_tree_skips_a_socket(tmp_path) -> None:
    top = tmp_path / "parent"
    top.mkdir()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(top / "sock"))
        assert copy_tree(top, tmp_path / "copy") == [f"{top / 'sock'}: a socket, not a file"]
    assert list((tmp_path / "copy").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file of mode 000")
def test_copy_tree_skips_an_unreadable_file_and_folder(tmp_path) -> None:
    top = tmp_path / "parent"
    (top / "locked").mkdir(parents=True)
    (top / "secret").write_text("x")
    (top / "secret").chmod(0)
    (top / "locked").chmod(0)
    try:
        skipped = copy_tree(top, tmp_path / "copy")
    finally:
        (top / "locked").chmod(0o755)
    assert sorted(skipped) == [f"{top / 'locked'}: Permission denied",
                               f"{top / 'secret'}: Permission denied"]
    assert (tmp_path / "copy" / "locked").is_dir()


def test_copy_tree_names_the_path_a_write_failed_on(tree, tmp_path) -> None:
    (tmp_path / "copy").mkdir()
    with pytest.raises(FileExistsError) as failure:
        copy_tree(tree, tmp_path / "copy")
    assert failure.value.filename == str(tmp_path / "copy")


def test_remove_tree_removes_read_only_folders_and_never_follows_a_link(tree, tmp_path) -> None:
    copy = tmp_path / "copy"
    copy_tree(tree, copy)
    remove_tree(copy)
    assert not copy.exists()
    assert (tmp_path / "dataset" / "big.bin").exists()  # what a link led to is kept
    assert (tree / "model.pt").exists()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "dataset")
    remove_tree(link)
    assert not link.is_symlink() and (tmp_path / "dataset" / "big.bin").exists()
    remove_tree(tmp_path / "missing")  # nothing there: nothing to do


@pytest.mark.parametrize("name", ["logs/../../escape", "../escape", "/absolute/name", "", "a/.."])
def test_join_under_refuses_a_path_that_leaves_the_folder(tmp_path, name) -> None:
    with pytest.raises(PathEscape, match="not a relative path inside") as refused:
        join_under(tmp_path / "out", name, "trial name")
    assert refused.value.exit_code == 2
    assert "\n" not in str(refused.value)


def test_join_under_refuses_a_symlink_leading_out_and_keeps_one_that_stays(tmp_path) -> None:
    out = tmp_path / "out"
    (out / "inner").mkdir(parents=True)
    (out / "away").symlink_to(tmp_path)
    (out / "here").symlink_to(out / "inner")
    (out / "loop").symlink_to("loop")
    with pytest.raises(PathEscape, match=r"leads out of .* through a symlink"):
        join_under(out, "away/x.txt")
    assert join_under(out, "here/x.txt") == out / "here" / "x.txt"
    assert join_under(out, "loop/x") == out / "loop" / "x"  # a loop fails when written, inside
    assert join_under(out, "new/deeper/x.txt") == out / "new" / "deeper" / "x.txt"
