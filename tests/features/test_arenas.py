"""A build caps glibc's malloc arenas, so its threads reuse each other's freed memory (docs/adr/0014 decision 13)."""

from __future__ import annotations

import ctypes.util
import os
import platform
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from features.pipeline import PanelSpec, arenas, build_features

ROOT = Path(__file__).resolve().parents[2]
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# Eight threads allocate at once, then glibc's malloc_info lists the arenas ("heaps") the process has.
_PROBE = """
import ctypes, re, sys, tempfile, threading
from features.pipeline import arenas
if sys.argv[1] == "capped":
    assert arenas.share_arenas()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
together = threading.Barrier(8)
def allocate():
    held = [libc.malloc(1000) for _ in range(100)]
    together.wait()
    for pointer in held:
        libc.free(pointer)
threads = [threading.Thread(target=allocate) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes, libc.fclose.argtypes = [ctypes.c_int, ctypes.c_void_p], [ctypes.c_void_p]
with tempfile.NamedTemporaryFile(suffix=".xml") as out:
    stream = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    print(len(re.findall("<heap nr=", open(out.name).read())))
"""


def _heaps(mode: str) -> int:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # no MALLOC_ARENA_MAX from the caller's environment
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, env=env, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not GLIBC and not os.environ.get("CI"), reason="malloc arenas are glibc's; under CI (glibc) it must run")
def test_threads_of_a_capped_process_share_two_arenas() -> None:
    assert _heaps("plain") > arenas.ARENAS  # the probe can tell: uncapped, the threads take arenas of their own
    assert _heaps("capped") <= arenas.ARENAS


def test_none_keeps_glibcs_choice_and_other_platforms_are_left_alone(monkeypatch) -> None:
    arenas.share_arenas.cache_clear()
    assert arenas.share_arenas(None) is False
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert arenas.share_arenas(2) is False
    arenas.share_arenas.cache_clear()


def test_a_build_caps_the_arenas_before_its_threads_start(full_engine, tmp_path, monkeypatch) -> None:
    asked = []
    monkeypatch.setattr(arenas, "share_arenas", lambda limit: asked.append((limit, threading.active_count())) or True)
    before = threading.active_count()
    build_features(full_engine, spec=PanelSpec(), data_dir=tmp_path)
    build_features(full_engine, spec=PanelSpec(), data_dir=tmp_path, malloc_arenas=None)
    assert asked == [(arenas.ARENAS, before), (None, before)]  # while no thread of the build runs yet


def test_the_cli_passes_the_setting(sqlite_engine, tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from api.cli import app, features_cmd

    limits = []
    monkeypatch.setattr(features_cmd, "build_features", lambda *a, **kw: limits.append(kw["malloc_arenas"]) or _stop())
    env = {"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False)}
    CliRunner().invoke(app, ["features", "build"], env=env)
    CliRunner().invoke(app, ["features", "build"], env={**env, "CONCORD_BUILD_MALLOC_ARENAS": "4"})
    assert limits == [2, 4]


def _stop() -> None:
    raise LookupError("stopped after the arguments were seen")
