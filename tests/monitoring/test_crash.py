"""The lock survives a crashed holder; a run killed at any step leaves the serving model untouched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from models import registry
from models.monitoring import history
from models.monitoring.lock import JobLock, LockBusy
from models.monitoring.retrain import BUSY, lock_path, run_retrain

ROOT = Path(__file__).resolve().parents[2]

#: Run a retrain in a child process and SIGKILL it as the named step starts (an explicit hook, not a global).
CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from features.storage import make_engine
    from models.monitoring.retrain import run_retrain
    from tests.monitoring.conftest import State
    root, step = Path(sys.argv[1]), sys.argv[2]
    engine = make_engine(f"sqlite:///{root / 'concord.db'}")
    state = State(root=root, engine=engine, champion="")

    def kill_at(name):
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)

    run_retrain(engine, config=state.config(), triggered_by="crash-test", on_step=kill_at)
    sys.exit(3)  # reaching here means the step never came
""")


def run_child(root: Path, step: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", CHILD, str(root), step], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)


def registry_files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / "registry").iterdir()}


def test_lock_is_exclusive_and_freed_when_the_holder_is_killed(tmp_path) -> None:
    path = tmp_path / "locks" / "retrain.lock"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from models.monitoring.lock import JobLock
        lock = JobLock(__import__("pathlib").Path({str(path)!r}))
        lock.acquire()
        print("held", flush=True)
        time.sleep(120)
    """)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusy, match=f"pid={holder.pid}"):
            JobLock(path).acquire()
        started = time.monotonic()
        with pytest.raises(LockBusy, match="after waiting 0.5 s"):
            JobLock(path, wait_seconds=0.5, poll_seconds=0.1).acquire()
        assert time.monotonic() - started >= 0.5
        holder.send_signal(signal.SIGKILL)  # no cleanup runs: the kernel drops the lock
        holder.wait(timeout=30)
        with JobLock(path, wait_seconds=5):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_second_retrain_exits_busy_with_a_clear_message(state, monkeypatch) -> None:
    s = state(weak=True)
    with JobLock(lock_path(s.root)):
        outcome = run_retrain(s.engine, config=s.config(), triggered_by="test")
        assert outcome.exit_code == BUSY and "another job holds" in outcome.message and f"pid={os.getpid()}" in outcome.message
        monkeypatch.chdir(s.root)
        monkeypatch.setenv("CONCORD_DATA_DIR", str(s.root))
        monkeypatch.delenv("CONCORD_DATABASE_URL", raising=False)
        result = CliRunner().invoke(app, ["retrain"])
        assert result.exit_code == BUSY and "another job holds" in result.output
    assert history.list_runs(s.engine, job="retrain") == []  # a refused run starts nothing


@pytest.mark.parametrize("step", ["features", "drift", "promote"])
def test_a_run_killed_at_a_step_leaves_the_serving_model_and_the_next_run_succeeds(state, monkeypatch, step) -> None:
    s = state(weak=True)
    files = registry_files(s.root)
    killed = run_child(s.root, step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    serving = registry.serving_version(s.engine)
    assert serving.version == s.champion
    registry.load_artifact(s.engine, registry_dir=s.root / "registry", version=s.champion)  # file and checksum intact
    after = registry_files(s.root)
    assert {name: after[name] for name in files} == files  # no existing artifact was touched
    dead = history.list_runs(s.engine, job="retrain")[0]
    assert (dead.status, dead.step) == ("running", step)
    if step != "promote":  # one full recovery per kind of crash would triple the test time
        return
    monkeypatch.chdir(s.root)
    monkeypatch.setenv("CONCORD_DATA_DIR", str(s.root))
    monkeypatch.delenv("CONCORD_DATABASE_URL", raising=False)
    monkeypatch.setenv("CONCORD_MONITORING__COMPARISON_FOLDS", "3")
    result = CliRunner().invoke(app, ["retrain", "--no-counts", "--seed", "0"])
    assert result.exit_code == 0, result.output
    assert "promoted" in result.output and "report:" in result.output
    runs = history.list_runs(s.engine, job="retrain")
    assert [r.status for r in runs] == ["succeeded", "crashed"] and runs[0].summary["previous_runs_crashed"] == [dead.run_id]
    assert registry.serving_version(s.engine).version == runs[0].summary["challenger"] != s.champion
