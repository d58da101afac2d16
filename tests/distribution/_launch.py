"""Starts `worker.py` as 2 processes of a gloo `torch.distributed` group, or as 1 plain process.

A free port, output captured, a hard timeout: a hang fails the test instead of blocking the
suite, and every process left running is killed.
"""

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
TIMEOUT_S = 180


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra):
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(WORKER)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def device_params():
    """`device` parameters for a test: `"cpu"` (gloo, CUDA hidden from the processes) and
    `"cuda"` (marked `cuda`: NCCL with one GPU per process, gloo on GPU 0 when the 2 processes
    share one GPU; see `keras.distribution.initialize`)."""
    return [pytest.param("cpu"), pytest.param("cuda", marks=pytest.mark.cuda)]


def needs_gpus(device, count):
    """Skips a `cuda` test that needs `count` GPUs (e.g. NCCL collectives FSDP2 uses)."""
    if device == "cuda" and torch.cuda.device_count() < count:
        pytest.skip(f"needs {count} CUDA GPUs (NCCL), found {torch.cuda.device_count()}")


def _start(scenario, tmp_path, world, worker, device, env):
    """Starts the processes of one run; returns `(out_dir, [(process, log_path)])`."""
    env = dict(env)
    if device == "cpu":
        env.setdefault("CUDA_VISIBLE_DEVICES", "")
    out = tmp_path / f"{scenario.replace(',', '-').strip('+')}_{world}"
    out.mkdir()
    port = free_port()
    started = []
    for r in range(world):
        extra = {} if world == 1 else dict(
            RANK=r, LOCAL_RANK=r, WORLD_SIZE=world, LOCAL_WORLD_SIZE=world,
            MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
        log = out / f"log_rank{r}.txt"
        with open(log, "wb") as f:  # a file, not a pipe: a chatty rank can never block
            process = subprocess.Popen([sys.executable, worker, scenario, str(out)],
                                       env=_env(**extra, **env), stdout=f, stderr=subprocess.STDOUT)
        started.append((process, log))
    return out, started


def _finish(out, started):
    """Waits for the processes (killing all of them on a timeout); returns each rank's result."""
    try:
        for process, _ in started:
            process.wait(timeout=TIMEOUT_S)
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, log in started:
        assert process.returncode == 0, log.read_text(errors="replace")[-3000:]
    return [json.loads((out / f"result_{r}.json").read_text()) for r in range(len(started))]


def _port_taken(started):
    """Whether a rank failed because another program took the free port before it bound it
    (the port is released between `free_port` and the group's start-up)."""
    return any(
        process.returncode != 0 and "address already in use" in log.read_text(errors="replace").lower()
        for process, log in started
    )


def _finish_group(scenario, tmp_path, world, worker, device, env, started, attempts=3):
    """`_finish` for a group, started again on a new port (at most `attempts` times in all)
    when a rank lost the race for its port; any other failure fails at once."""
    for attempt in range(attempts):
        try:
            return _finish(*started)
        except AssertionError:
            if world == 1 or attempt == attempts - 1 or not _port_taken(started[1]):
                raise
        shutil.rmtree(started[0])  # the same place again: callers read files written there
        started = _start(scenario, tmp_path, world, worker, device, env)


def run(scenario, tmp_path, world, worker=WORKER, device="cpu", **env):
    """Runs `worker scenario out_dir` on `world` processes; returns each rank's result JSON.

    `device="cpu"` hides CUDA from the processes (`CUDA_VISIBLE_DEVICES=""`): gloo on CPUs.
    `device="cuda"` leaves it: the processes train on the GPU(s).
    """
    started = _start(scenario, tmp_path, world, worker, device, env)
    return _finish_group(scenario, tmp_path, world, worker, device, env, started)


def run_pair(scenario, tmp_path, device="cpu", **env):
    """One process and a 2-process group running `scenario` at the same time (their start-ups
    overlap); returns `(single_result, [rank results])`."""
    single = _start(scenario, tmp_path, 1, WORKER, device, env)
    pair = _start(scenario, tmp_path, 2, WORKER, device, env)
    try:
        ranks = _finish_group(scenario, tmp_path, 2, WORKER, device, env, pair)
    finally:
        first = _finish(*single)
    return first[0], ranks


def assert_trained_alike(single, ranks, atol=1e-5):
    """Ranks bitwise equal to each other; weights and History within `atol` of one process."""
    assert ranks[0]["weights"] == ranks[1]["weights"]
    for a, b in zip(ranks[0]["weights"], single["weights"]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=atol)
    for key, values in single.get("history", {}).items():
        assert ranks[0]["history"][key] == ranks[1]["history"][key], key
        np.testing.assert_allclose(ranks[0]["history"][key], values, rtol=1e-5, atol=1e-6, err_msg=key)
