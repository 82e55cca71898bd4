"""Two real JAX processes on this machine train one run, exactly as ``--distributed`` does.

Every run here is the command line, ``python -m artifex.generative_models.training.cli
train --config exp.yaml --out RUN --distributed --coordinator 127.0.0.1:PORT
--num-processes 2 --process-id I`` (the command docs/multi-host.md gives), started by the
test with a free port, over gloo CPU collectives, one CPU device per process. The
processes run in their own process groups, are killed in a ``finally`` whatever happens,
and have bounded time; their output is shown when a check fails.

The runs, shared between the tests (each process start costs JAX's import and a compile;
a compilation cache shared by all the runs saves most of the compiles):

* ``one``: 1 process, 4 steps, checkpoints at 2 and 4;
* ``two``: 2 processes, the same global batch and seed (the reference for the rest);
* ``two_two``, ``two_one``: ``two``'s checkpoint 2 resumed by 2 processes and by 1;
* ``term``: ``one``'s checkpoint 2 resumed by 2 processes until SIGTERM reaches one;
* ``kill``: ``term`` resumed by 2 processes until one is SIGKILLed;
* ``after_kill``: ``kill`` resumed (1 process) from its last checkpoint to the end.

The model is a tiny GAN with BatchNorm in both networks on 8x8 images whose pixel (0, 0)
holds the example's id, so the examples each process reads are known.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

WORKER = Path(__file__).with_name("multiprocess_worker.py")
CLI = ("-m", "artifex.generative_models.training.cli")
EXAMPLES, BATCH, STEPS = 40, 8, 4  # 5 batches per epoch, 4 examples per process
# Not bitwise, as with 8 devices in one process (test_multidevice.py): the batch means are
# summed per process, then across, another order of float32 additions than one process's.
# The differences seen are at most ~1e-7; the tolerance leaves a margin of 10.
RTOL, ATOL = 1e-5, 1e-6
RUN_TIMEOUT = 900  # seconds, per run: ~10-30 s on 2 cores, minutes on an overloaded machine
HEARTBEAT = 3  # seconds: --heartbeat-timeout of the run whose process is killed
# A process whose peer died must be gone within this long (the heartbeat timeout, the
# coordination service's detection and its report, on a busy machine).
DEAD_PEER_LIMIT = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Run:
    """The processes of one run: started together, waited for, always cleaned up."""

    def __init__(self, folder: Path, name: str):
        self.folder, self.name = folder, name
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.seconds_to_exit: float | None = None  # of process 0, after a peer was killed
        self.checkpoints: list[int] = []  # the folder's checkpoints when the run ended

    def start(self, count: int, *args: str, env: dict[str, str], worker: bool = False) -> Run:
        program = [str(WORKER)] if worker else list(CLI)
        base = [sys.executable, *program, "train", *args, "--out", str(self.folder)]
        port = _free_port()
        for index in range(count):
            distributed = (
                [
                    "--distributed",
                    *("--coordinator", f"127.0.0.1:{port}"),
                    *("--num-processes", str(count), "--process-id", str(index)),
                ]
                if count > 1
                else []
            )
            log = self.folder.parent / f"{self.name}.{index}.log"
            self.logs.append(log)
            with open(log, "wb") as out:
                self.processes.append(
                    subprocess.Popen(
                        [*base, *distributed],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=env,
                        start_new_session=True,  # its own process group, killed as one
                    )
                )
        return self

    def wait(self, timeout: float = RUN_TIMEOUT) -> list[int]:
        deadline = time.monotonic() + timeout
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(max(deadline - time.monotonic(), 0.1)))
            except subprocess.TimeoutExpired:
                self.kill(dump=True)
                pytest.fail(f"run {self.name} did not end within {timeout} s\n{self.output()}")
        return codes

    def kill(self, *, dump: bool = False) -> None:
        """End every process still running; ``dump``: have each print its stack first."""
        if dump:
            for process in self.processes:
                if process.poll() is None:  # PYTHONFAULTHANDLER: the stacks, on SIGABRT
                    os.kill(process.pid, signal.SIGABRT)
            time.sleep(2)
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def output(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}"
            for log in self.logs
            if log.exists()
        )

    def check(self, codes: list[int], expected: list[int]) -> None:
        assert codes == expected, f"run {self.name} exited {codes}\n{self.output()}"

    def text(self, index: int) -> str:
        return self.logs[index].read_text(errors="replace")


@contextlib.contextmanager
def running(runs: dict[str, Run]) -> Iterator[None]:
    try:
        yield
    finally:
        for run in runs.values():
            run.kill()


def _metrics(folder: Path) -> list[dict[str, float]]:
    path = folder / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def _wait_for_step(run: Run, step: int, timeout: float = RUN_TIMEOUT) -> None:
    """Until ``metrics.jsonl`` logs ``step`` (the processes are inside the training loop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(row["step"] >= step for row in _metrics(run.folder)):
            return
        if any(process.poll() is not None for process in run.processes):
            pytest.fail(f"run {run.name} ended before step {step}\n{run.output()}")
        time.sleep(0.2)
    pytest.fail(f"run {run.name} did not reach step {step} in {timeout} s\n{run.output()}")


def _copy_until(source: Path, target: Path, step: int) -> Path:
    """A copy of run folder ``source`` as it was at checkpoint ``step`` (later ones removed)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".lock"))
    for checkpoint in (target / "checkpoints").iterdir():
        if checkpoint.name.isdigit() and int(checkpoint.name) > step:
            shutil.rmtree(checkpoint)
    return target


def _checkpoints(folder: Path) -> list[int]:
    return sorted(int(p.name) for p in (folder / "checkpoints").iterdir() if p.name.isdigit())


def _state(folder: Path, step: int) -> dict[str, np.ndarray]:
    """The arrays of checkpoint ``step``, by path, read by orbax as NumPy (no model)."""
    import jax
    import orbax.checkpoint as ocp

    directory = folder / "checkpoints" / str(step) / "state"
    with ocp.PyTreeCheckpointer() as checkpointer:
        metadata = checkpointer.metadata(directory)
        metadata = getattr(metadata, "item_metadata", metadata)
        as_numpy = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), metadata)
        tree = checkpointer.restore(directory, restore_args=as_numpy)
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {"/".join(str(k.key) for k in path): np.asarray(leaf) for path, leaf in flat}


def decided_by_rounding(name: str) -> bool:
    """The leaves float rounding alone decides (see ``test_multidevice.decided_by_rounding``).

    The biases of the dense layers before a BatchNorm (their true gradient is zero; Adam
    turns rounding noise into full steps), the EMA of the generator's, and the BatchNorm
    running means, which average them. Their optimizer moments are compared.
    """
    if "/opt_state/" in name:
        return False
    return bool(re.search(r"blocks/\d+/dense/bias$", name) or name.endswith("norm/mean"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    from artifex.generative_models.core.configuration import (
        CheckpointConfig,
        DataConfig,
        DiscriminatorConfig,
        EMAConfig,
        ExperimentConfig,
        GANConfig,
        GeneratorConfig,
        LoggingConfig,
        TrainingConfig,
    )

    root = tmp_path_factory.mktemp("multiprocess")
    images = np.random.default_rng(0).integers(0, 256, (EXAMPLES, 8, 8, 1), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(EXAMPLES)  # the id, read back as (v / 127.5 - 1)
    np.save(root / "images.npy", images)
    shape = (8, 8, 1)
    experiment = ExperimentConfig(
        model=GANConfig(
            generator=GeneratorConfig(hidden_dims=(8,), latent_dim=4, output_shape=shape),
            discriminator=DiscriminatorConfig(
                hidden_dims=(8,), input_shape=shape, batch_norm=True, dropout_rate=0.0
            ),
        ),
        training=TrainingConfig(
            steps=STEPS,
            seed=0,
            steps_per_dispatch=2,
            ema=EMAConfig(decay=0.5),
            data=DataConfig(
                source="npy",
                path=str(root / "images.npy"),
                batch_size=BATCH,
                channels=1,
                image_size=8,
            ),
            logging=LoggingConfig(log_every=2, sample_every=0, num_samples=4),
            checkpoint=CheckpointConfig(every_n_steps=2, keep_last=10),
        ),
    )
    config = root / "exp.yaml"
    config.write_text(experiment.to_yaml(include_type=True))
    env = {
        **{k: v for k, v in os.environ.items() if k != "XLA_FLAGS"},  # one device each
        "JAX_PLATFORMS": "cpu",
        "PYTHONFAULTHANDLER": "1",  # a process that hangs shows where (see Run.kill)
        # Every run compiles the same few programs: compile each once.
        "JAX_COMPILATION_CACHE_DIR": str(root / "jax-cache"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }
    made: dict[str, Run] = {}
    base = ("--config", str(config))

    def run(name: str, folder: Path | None = None) -> Run:
        made[name] = Run(folder or root / name, name)
        return made[name]

    with running(made):
        # The two fresh runs side by side (their programs differ: nothing to share). The
        # worker is the CLI that also records the example ids each process reads.
        one, two = run("one"), run("two")
        one.start(1, *base, env={**env, "ARTIFEX_TEST_IDS": str(root / "ids-one")}, worker=True)
        two.start(2, *base, env={**env, "ARTIFEX_TEST_IDS": str(root / "ids-two")}, worker=True)
        one.check(one.wait(), [0])
        two.check(two.wait(), [0, 0])
        # On the bundled digits the run ends with its FID and KID scores: the features are
        # split over both processes' devices and must be gathered before a host reads them.
        digits = run("digits")
        digits.start(2, *base, "--set", "training.data.source=digits", "--set",
                     "training.data.path=null", "--set", "training.steps=2", env=env)  # fmt: skip
        digits.check(digits.wait(), [0, 0])
        # Checkpoint 2 of each resumed by the other number of processes, and by the same.
        two_two = run("two_two", _copy_until(two.folder, root / "two_two", 2))
        two_one = run("two_one", _copy_until(two.folder, root / "two_one", 2))
        two_two.start(2, *base, env=env)
        two_one.start(1, *base, env=env)
        two_two.check(two_two.wait(), [0, 0])
        two_one.check(two_one.wait(), [0])
        # Faults. SIGTERM to process 1 once both train (step 6 logged): both save one
        # checkpoint and stop with the CLI's status 130.
        term = run("term", _copy_until(one.folder, root / "term", 2))
        long = (*base, "--set", "training.steps=100000", "--set",
                "training.checkpoint.every_n_steps=100000")  # fmt: skip
        term.start(2, *long, env=env)
        _wait_for_step(term, 6)
        term.processes[1].send_signal(signal.SIGTERM)
        term.check(term.wait(), [130, 130])
        term.checkpoints = _checkpoints(term.folder)
        # SIGKILL of process 1 in the resumed run: process 0 must not hang.
        kill = run("kill", term.folder)
        kill.start(2, *long, "--heartbeat-timeout", str(HEARTBEAT), env=env)
        resumed_at = max(row["step"] for row in _metrics(term.folder))
        _wait_for_step(kill, resumed_at + 2)
        os.killpg(kill.processes[1].pid, signal.SIGKILL)
        killed_at = time.monotonic()
        try:
            kill.processes[0].wait(DEAD_PEER_LIMIT)
        except subprocess.TimeoutExpired:
            kill.kill(dump=True)
            pytest.fail(f"process 0 still ran {DEAD_PEER_LIMIT} s after its peer died\n"
                        f"{kill.output()}")  # fmt: skip
        kill.seconds_to_exit = time.monotonic() - killed_at
        kill.wait(10)
        # The run goes on from its last checkpoint.
        last = _checkpoints(kill.folder)[-1]
        after = run("after_kill", kill.folder)
        after.start(1, *long, "--set", f"training.steps={last + 2}", env=env)
        after.check(after.wait(), [0])
    made["root"] = Run(root, "root")
    return made


@pytest.mark.slow
def test_two_processes_log_the_same_losses_and_end_with_the_same_state_as_one(runs):
    one, two = _metrics(runs["one"].folder), _metrics(runs["two"].folder)
    # Logged once (process 0 alone writes metrics.jsonl), at steps 2 and 4.
    assert [row["step"] for row in one] == [row["step"] for row in two] == [2, 4]
    for a, b in zip(one, two, strict=True):
        assert a.keys() == b.keys() and {"d_loss", "g_loss"} <= a.keys()
        for key in a.keys() - {"it_per_s"}:
            np.testing.assert_allclose(b[key], a[key], rtol=RTOL, atol=ATOL, err_msg=key)
    assert one[0]["d_loss"] != one[1]["d_loss"]  # it trained
    first, second = _state(runs["one"].folder, STEPS), _state(runs["two"].folder, STEPS)
    assert first.keys() == second.keys()
    skipped = sorted(name for name in first if decided_by_rounding(name))
    assert skipped == [
        "ema/blocks/0/dense/bias",
        "nets/0/blocks/0/dense/bias",
        "nets/0/blocks/0/norm/mean",
        "nets/1/blocks/0/dense/bias",
        "nets/1/blocks/0/norm/mean",
    ]
    initial = _state(runs["one"].folder, 2)
    for name in first.keys() - set(skipped):
        np.testing.assert_allclose(
            second[name].astype(np.float64), first[name].astype(np.float64),
            rtol=RTOL, atol=ATOL, err_msg=name,
        )  # fmt: skip
    # The compared parameters moved between the checkpoints by far more than the tolerance.
    moved = [n for n in first if n.startswith("nets/0/") and n not in skipped]
    assert all(np.max(np.abs(first[n] - initial[n])) > 100 * ATOL for n in moved), moved


@pytest.mark.slow
def test_each_process_reads_its_piece_and_one_epoch_sees_every_example_once(runs):
    root = runs["root"].folder
    rows = [
        json.loads(line)
        for index in (0, 1)
        for line in (root / f"ids-two.{index}").read_text().splitlines()
    ]
    assert {row["process"] for row in rows} == {0, 1}
    by_batch: dict[int, dict[int, list[int]]] = {}
    for row in rows:
        by_batch.setdefault(row["batch"], {})[row["process"]] = row["ids"]
    epoch = EXAMPLES // BATCH
    assert set(range(STEPS)) <= set(by_batch)  # read ahead: maybe more
    # The batches of the first epoch that were read (prefetch reads ahead, not always a
    # whole epoch in 4 steps): each process a distinct half of every global batch ...
    seen: list[int] = []
    for batch in sorted(b for b in by_batch if b < epoch):
        halves = by_batch[batch]
        assert sorted(halves) == [0, 1] and all(len(h) == BATCH // 2 for h in halves.values())
        assert not set(halves[0]) & set(halves[1])
        seen += halves[0] + halves[1]
    # ... and no example twice in an epoch. The one-process run read the same global
    # batches, in the same order: process 0's piece first, then process 1's.
    assert len(seen) == len(set(seen))
    single = {
        row["batch"]: row["ids"]
        for row in map(json.loads, (root / "ids-one.0").read_text().splitlines())
    }
    for batch in range(STEPS):
        assert single[batch] == by_batch[batch][0] + by_batch[batch][1]


def test_a_whole_epoch_over_two_shards_holds_every_example_once():
    # The pipeline both processes ran, over one whole epoch (no JAX processes needed).
    from artifex.generative_models.training.data import ArraySource, make_pipeline

    images = np.zeros((EXAMPLES, 8, 8, 1), np.float32)
    source = ArraySource(images, np.arange(EXAMPLES), source_layout="NHWC")
    epoch = EXAMPLES // BATCH
    seen = []
    for shard in (0, 1):
        it = make_pipeline(
            source, batch_size=BATCH, seed=3, shard_index=shard, shard_count=2, num_epochs=1
        )
        seen += [int(i) for batch in it for i in batch["label"]]
    assert sorted(seen) == list(range(EXAMPLES)) and len(seen) == epoch * BATCH


@pytest.mark.slow
def test_only_process_zero_writes_the_run_files_and_both_write_checkpoints(runs):
    folder = runs["two"].folder
    history = [
        json.loads(line) for line in (folder / "config-history.jsonl").read_text().splitlines()
    ]
    assert [(row["event"], row["values"]) for row in history] == [
        ("start", {"runtime.process_count": 2})
    ]
    assert (folder / "samples" / "final.png").is_file() and (folder / "scores.json").is_file()
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["2", "4"]
    checkpoint = folder / "checkpoints" / "4"
    # Each process wrote its own part of the arrays, and its data position.
    assert {"ocdbt.process_0", "ocdbt.process_1"} <= {
        p.name for p in (checkpoint / "state").iterdir()
    }
    assert sorted(p.name for p in (checkpoint / "data").glob("*.json")) == [
        "process_0-of-2.json",
        "process_1-of-2.json",
    ]
    # Process 1 did not refuse the folder process 0 had locked: both trained (exit 0).
    assert "artifex-train: done" in runs["two"].text(1)
    # The state is replicated over both processes' devices (so not fully addressable by
    # either): every array still has its CRC-32, and the checkpoint verifies.
    from artifex.generative_models.training.checkpoints import verify_checkpoint

    layout = json.loads((checkpoint / "layout" / "metadata").read_text())
    assert layout["arrays"] and all("crc32" in entry for entry in layout["arrays"].values())
    assert verify_checkpoint(checkpoint) == []


@pytest.mark.slow
def test_two_processes_resume_a_two_process_checkpoint_bitwise(runs):
    straight = _state(runs["two"].folder, STEPS)
    resumed = _state(runs["two_two"].folder, STEPS)
    assert straight.keys() == resumed.keys()
    for name, array in straight.items():
        np.testing.assert_array_equal(resumed[name], array, err_msg=name)
    # The log continues as it did: the same numbers at step 4, bit for bit.
    rows = [_metrics(runs[name].folder) for name in ("two", "two_two")]
    assert [[{k: v for k, v in r.items() if k != "it_per_s"} for r in run] for run in rows] == [
        [{k: v for k, v in r.items() if k != "it_per_s"} for r in rows[0]]
    ] * 2


@pytest.mark.slow
def test_a_checkpoint_resumes_with_the_other_number_of_processes(runs):
    # Two processes' checkpoint 2, continued by one process: as the one-process run.
    history = [
        json.loads(line)
        for line in (runs["two_one"].folder / "config-history.jsonl").read_text().splitlines()
    ]
    assert history[-1]["event"] == "resume"
    assert history[-1]["changes"] == {"runtime.process_count": {"old": 2, "new": 1}}
    one, two_one = _state(runs["one"].folder, STEPS), _state(runs["two_one"].folder, STEPS)
    for name in one:
        if not decided_by_rounding(name):
            np.testing.assert_allclose(
                two_one[name].astype(np.float64), one[name].astype(np.float64),
                rtol=RTOL, atol=ATOL, err_msg=name,
            )  # fmt: skip
    # One process's checkpoint 2, continued by two (the SIGTERM run): its step-4 losses
    # are the two-process run's.
    term = {row["step"]: row for row in _metrics(runs["term"].folder)}
    reference = _metrics(runs["two"].folder)[1]
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(term[4][key], reference[key], rtol=RTOL, atol=ATOL)


@pytest.mark.slow
def test_sigterm_to_one_process_makes_both_save_one_checkpoint_and_exit_130(runs):
    term = runs["term"]
    stopped = [re.search(r"stopped by signal 15 at step (\d+); checkpoint saved at step (\d+)",
                         term.text(i)) for i in (0, 1)]  # fmt: skip
    assert all(stopped), term.output()
    steps = {(int(m.group(1)), int(m.group(2))) for m in stopped if m}
    assert len(steps) == 1, steps  # the same step in both processes
    ((step, saved),) = steps
    assert step == saved >= 6
    # One checkpoint beside the one the run resumed from: every_n_steps was out of reach.
    assert term.checkpoints == [2, saved]
    # The folder's record: one's start, its resume by two processes (this run), and the
    # resumes after it (the SIGKILL run, two processes; then one process).
    history = [
        json.loads(line) for line in (term.folder / "config-history.jsonl").read_text().splitlines()
    ]
    assert [row["event"] for row in history] == ["start", "resume", "resume", "resume"]
    counts = [row.get("changes", {}).get("runtime.process_count") for row in history[1:]]
    assert counts == [{"old": 1, "new": 2}, None, {"old": 2, "new": 1}]


@pytest.mark.slow
def test_sigkill_of_one_process_ends_the_other_with_an_error_and_the_run_resumes(runs):
    kill, after = runs["kill"], runs["after_kill"]
    code = kill.processes[0].returncode
    assert code not in (0, None), kill.output()
    assert kill.seconds_to_exit < DEAD_PEER_LIMIT, kill.seconds_to_exit
    text = kill.text(0).lower()
    assert any(word in text for word in ("heartbeat", "task", "unavailable", "connection")), (
        kill.output()
    )
    assert "artifex-train: done" in after.text(0), after.output()
    steps = [row["step"] for row in _metrics(after.folder)]
    assert steps == sorted(set(steps)), steps  # each step logged once across the restarts


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--distributed", "--coordinator", "127.0.0.1:1234"],
            "--distributed with --coordinator also needs --num-processes, --process-id: "
            "give all three, or none",
        ),
        (
            [
                "--distributed",
                "--coordinator",
                "localhost",
                "--num-processes",
                "2",
                "--process-id",
                "0",
            ],
            "--coordinator expects HOST:PORT (e.g. 127.0.0.1:12345), got 'localhost'",
        ),
        (
            ["--distributed", "--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"],
            "--process-id must be in [0, 1] for --num-processes 2, got 2",
        ),
        (
            ["--distributed", "--coordinator", "h:1", "--num-processes", "0", "--process-id", "0"],
            "--num-processes must be at least 1, got 0",
        ),
        (
            ["--num-processes", "2", "--process-id", "1"],
            "--num-processes, --process-id only apply to a multi-process run: add --distributed",
        ),
        (["--distributed", "--heartbeat-timeout", "0"], "--heartbeat-timeout must be at least 1"),
    ],
)
def test_the_distributed_flags_are_checked_before_jax_starts(flags, message, capsys):
    from jax._src import xla_bridge

    from artifex.generative_models.training import cli

    started = dict(xla_bridge._backends)
    code = cli.main(["train", "--preset", "dcgan", "--out", "unused", *flags])
    assert code == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.startswith("artifex-train: error: ") and message in err, err
    assert dict(xla_bridge._backends) == started  # nothing reached jax.distributed


def test_without_distributed_nothing_is_initialized():
    from artifex.generative_models.training import _distributed, cli

    args = cli.build_parser().parse_args(["train", "--preset", "dcgan", "--out", "x"])
    assert _distributed.initialize_from(args) is False
    assert (args.distributed, args.coordinator, args.num_processes, args.process_id) == (
        False,
        None,
        None,
        None,
    )


@pytest.mark.slow
def test_a_two_process_run_on_the_digits_ends_with_its_fid_and_kid(runs):
    # (The first multi-process run of a preset failed here: the KID features, split over
    # the processes' devices, were read by the host whole.)
    scores = json.loads((runs["digits"].folder / "scores.json").read_text())
    assert scores["steps"] == 2
    assert np.isfinite(scores["fid_digits"]) and scores["fid_digits"] > 0
    assert np.isfinite(scores["kid_digits"])
    for index in (0, 1):
        assert "Traceback" not in runs["digits"].text(index), runs["digits"].output()
