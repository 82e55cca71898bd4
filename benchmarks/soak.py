"""Fault-injection soak: SIGKILL a training run again and again; nothing is lost or repeated.

One run folder is trained by ``artifex-train train`` (a tiny ``gan``, a checkpoint every
dispatch) and killed with SIGKILL ``--kills`` times, each at a random moment after the
process's first new checkpoint (or save in progress) appears; each kill is followed by the
same command, which resumes. A kill is counted as *mid-save* when orbax's temporary folder
(``<step>.orbax-checkpoint-tmp*``) exists at that moment. Then the run is finished, and
compared with an uninterrupted run of the same command in another folder:

* every array of the final checkpoint bitwise equal (read back with tensorstore);
* ``metrics.jsonl`` holds every logged step exactly once, with the same values;
* ``artifex-train check`` finds every checkpoint kept intact.

    python benchmarks/soak.py [--kills 50] [--steps 240] [--minutes 10] [--seed 0]

``nox -s soak`` runs it (not in CI). Exit status 0 when everything matched.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TINY = [
    "model.generator.hidden_dims=[16]",
    "model.discriminator.hidden_dims=[16]",
    "training.steps_per_dispatch=2",
    "training.logging.log_every=2",
    "training.logging.sample_every=0",
    "training.checkpoint.every_n_steps=2",
    "training.checkpoint.keep_last=2",
    "training.data.batch_size=16",
]


def command(out: Path, steps: int) -> list[str]:
    sets = [arg for value in (*TINY, f"training.steps={steps}") for arg in ("--set", value)]
    cli = "artifex.generative_models.training.cli"
    return [sys.executable, "-m", cli, "train", "--preset", "gan", "--out", str(out), *sets]


def saves_in_progress(out: Path) -> list[Path]:
    directory = out / "checkpoints"
    return list(directory.glob("*.orbax-checkpoint-tmp*")) if directory.is_dir() else []


def complete_steps(out: Path) -> set[int]:
    directory = out / "checkpoints"
    if not directory.is_dir():
        return set()
    return {int(p.name) for p in directory.iterdir() if p.name.isdigit()}


def kill_once(out: Path, steps: int, window: float, rng: random.Random) -> dict[str, object]:
    """Start the run, SIGKILL it a random time after its first save begins; what happened."""
    before, leftovers = complete_steps(out), set(saves_in_progress(out))
    process = subprocess.Popen(
        command(out, steps), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    # Armed when this process starts saving: the kill then lands in training or saving,
    # not in the imports and the compile, which hold no state.
    # (A save left unfinished by the previous kill is not this process's.)
    while process.poll() is None and not (
        set(saves_in_progress(out)) - leftovers or complete_steps(out) - before
    ):
        time.sleep(0.002)
    if process.poll() is not None:
        return {"finished": True, "status": process.returncode, "stderr": process.stderr.read()}
    time.sleep(rng.uniform(0, window))
    mid_save = bool(saves_in_progress(out))
    process.send_signal(signal.SIGKILL)
    process.wait()
    return {"finished": False, "mid_save": mid_save, "kept": sorted(complete_steps(out))}


def read_arrays(step_dir: Path) -> dict[str, bytes]:
    """Every array of a checkpoint as bytes (read as ``artifex-train check`` reads them)."""
    import numpy as np

    from artifex.generative_models.training.checkpoints import stored_array_reader

    layout = json.loads((step_dir / "layout" / "metadata").read_text())
    read = stored_array_reader(step_dir / "state")
    return {name: np.ascontiguousarray(read(name)).tobytes() for name in layout["arrays"]}


def rows(out: Path) -> list[dict[str, object]]:
    """The logged rows, less their speed (``it_per_s``: a time, not a result)."""
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "it_per_s"} for line in lines]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--steps", type=int, default=240, help="iterations of the run")
    parser.add_argument("--minutes", type=float, default=None, help="stop killing after this")
    parser.add_argument("--seed", type=int, default=0, help="of the kill times")
    parser.add_argument("--keep", type=Path, default=None, help="keep the folders here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    root = Path(args.keep or tempfile.mkdtemp(prefix="artifex-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    reference, killed = root / "uninterrupted", root / "killed"

    started = time.monotonic()
    if not (reference / "scores.json").is_file():  # (--keep: an earlier soak's is reused)
        done = subprocess.run(command(reference, args.steps), capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
    reference_s = time.monotonic() - started
    # A kill lands within 1.5 checkpoint intervals (the time between the reference's last
    # two saves) of the process's first save: a few iterations, a save or two, per process.
    last_two = sorted(p.stat().st_mtime for p in (reference / "checkpoints").iterdir())[-2:]
    window = 1.5 * max(last_two[1] - last_two[0], 0.2)
    print(f"kill window {window:.2f} s", flush=True)

    soak_started = time.monotonic()
    outcomes = []
    while len(outcomes) < args.kills:
        if args.minutes is not None and time.monotonic() - soak_started > 60 * args.minutes:
            break
        outcome = kill_once(killed, args.steps, window, rng)
        if outcome["finished"]:
            print(f"the run finished before kill {len(outcomes) + 1}: {outcome['status']}")
            break
        outcomes.append(outcome)
        print(
            f"kill {len(outcomes)}: mid-save={outcome['mid_save']} kept={outcome['kept']}",
            flush=True,
        )
    final = subprocess.run(command(killed, args.steps), capture_output=True, text=True)
    soak_s = time.monotonic() - soak_started

    problems = []
    if final.returncode != 0:
        problems.append(f"the last resume ended with {final.returncode}: {final.stderr[-500:]}")
    if "Traceback" in final.stderr:
        problems.append("the last resume printed a traceback")
    last = max(complete_steps(reference))
    if max(complete_steps(killed), default=None) != last:
        problems.append(f"the killed run's last checkpoint is not step {last}")
    else:
        expected, got = (
            read_arrays(reference / "checkpoints" / str(last)),
            read_arrays(killed / "checkpoints" / str(last)),
        )
        differ = sorted(n for n in expected if expected[n] != got.get(n))
        if differ or set(got) != set(expected):
            problems.append(f"arrays differ from the uninterrupted run: {differ[:5]}")
    logged = [row["step"] for row in rows(killed)]
    if sorted(set(logged)) != logged or logged != [row["step"] for row in rows(reference)]:
        problems.append(f"metrics.jsonl steps are not each logged once: {logged}")
    elif rows(killed) != rows(reference):
        differ = [a["step"] for a, b in zip(rows(reference), rows(killed), strict=True) if a != b]
        problems.append(f"metrics.jsonl values differ at steps {differ[:10]}")
    check = subprocess.run(
        [sys.executable, "-m", "artifex.generative_models.training.cli", "check", str(killed)],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        problems.append(f"check: {check.stdout}{check.stderr}")

    import jax
    import orbax.checkpoint

    mid_save = sum(bool(o["mid_save"]) for o in outcomes)
    result = "bitwise equal, every step logged once" if not problems else "; ".join(problems)
    summary = {
        "kills": len(outcomes),
        "mid_save": mid_save,
        "steps": args.steps,
        "result": result,
        "window_s": round(window, 2),
        "uninterrupted_s": round(reference_s, 1),  # 0 when reused (--keep)
        "soak_s": round(soak_s, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "versions": f"python {platform.python_version()}, jax {jax.__version__}, "
        f"orbax-checkpoint {orbax.checkpoint.__version__}",
        "seed": args.seed,
    }
    print("SUMMARY " + json.dumps(summary))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
