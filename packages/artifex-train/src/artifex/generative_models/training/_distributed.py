"""Joining a multi-process run from the command line: ``artifex-train train --distributed``.

JAX's distributed runtime does the work: :func:`initialize_from` calls
``jax.distributed.initialize`` before anything else touches JAX, with the coordinator,
process count and process id given on the command line, or with none of them, for JAX to
read from the environment it knows (SLURM, Open MPI, cloud TPU, ``JAX_COORDINATOR_ADDRESS``).
Every process then runs the same program; the device mesh spans all their devices, each
process reads its share of every batch, only process 0 writes the run folder's logs,
samples and scores, and all processes write their checkpoint shards.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_arguments", "initialize", "initialize_from"]

# Seconds without a heartbeat after which JAX's coordination service declares a process
# dead and ends the others with an error, instead of leaving them waiting in a collective.
DEFAULT_HEARTBEAT_TIMEOUT = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--distributed`` and its options to ``parser`` (the ``train`` command)."""
    group = parser.add_argument_group(
        "multi-process runs", "one process per host (or per GPU); see docs/multi-host.md"
    )
    group.add_argument(
        "--distributed", action="store_true",
        help="join a multi-process run (jax.distributed.initialize): with --coordinator, "
        "--num-processes and --process-id, or without them on SLURM, Open MPI or cloud TPU, "
        "where JAX reads them from the environment",
    )  # fmt: skip
    group.add_argument(
        "--coordinator", metavar="HOST:PORT", default=None,
        help="address of process 0, which every process connects to",
    )  # fmt: skip
    group.add_argument(
        "--num-processes", dest="num_processes", type=int, default=None, metavar="N",
        help="how many processes the run has",
    )  # fmt: skip
    group.add_argument(
        "--process-id", dest="process_id", type=int, default=None, metavar="I",
        help="this process's number, 0 to N-1 (0 writes the logs, samples and scores)",
    )  # fmt: skip
    group.add_argument(
        "--heartbeat-timeout", dest="heartbeat_timeout", type=int,
        default=DEFAULT_HEARTBEAT_TIMEOUT, metavar="SECONDS",
        help="after this long without news from a process, the others stop with an error "
        f"(default: {DEFAULT_HEARTBEAT_TIMEOUT})",
    )  # fmt: skip


def initialize_from(args: argparse.Namespace) -> bool:
    """Join the run ``args`` describe (see :func:`add_arguments`); return whether it did.

    Without ``--distributed`` nothing happens, and a stray ``--coordinator``,
    ``--num-processes`` or ``--process-id`` is refused (it would be ignored otherwise).

    Raises:
        ValueError: The options are incomplete or out of range (before JAX is touched).
    """
    explicit = {
        "--coordinator": getattr(args, "coordinator", None),
        "--num-processes": getattr(args, "num_processes", None),
        "--process-id": getattr(args, "process_id", None),
    }
    given = [flag for flag, value in explicit.items() if value is not None]
    if not getattr(args, "distributed", False):
        if given:
            raise ValueError(
                f"{', '.join(given)} only apply to a multi-process run: add --distributed"
            )
        return False
    initialize(
        coordinator=explicit["--coordinator"],
        num_processes=explicit["--num-processes"],
        process_id=explicit["--process-id"],
        heartbeat_timeout=getattr(args, "heartbeat_timeout", DEFAULT_HEARTBEAT_TIMEOUT),
    )
    return True


def initialize(
    *,
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    heartbeat_timeout: int = DEFAULT_HEARTBEAT_TIMEOUT,
) -> None:
    """``jax.distributed.initialize`` with checked arguments; CPU collectives over gloo.

    Give all three of ``coordinator``, ``num_processes`` and ``process_id``, or none (JAX
    reads them from SLURM, Open MPI or the TPU environment). Call it before any other JAX
    call: JAX fixes its devices on first use.

    Raises:
        ValueError: Some but not all three are given, or they are out of range.
    """
    values = {
        "--coordinator": coordinator,
        "--num-processes": num_processes,
        "--process-id": process_id,
    }
    missing = [flag for flag, value in values.items() if value is None]
    if 0 < len(missing) < len(values):
        raise ValueError(
            f"--distributed with {', '.join(f for f in values if f not in missing)} also needs "
            f"{', '.join(missing)}: give all three, or none to let JAX read them from the "
            "cluster's environment (SLURM, Open MPI, cloud TPU)"
        )
    if coordinator is not None:
        host, colon, port = coordinator.rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"--coordinator expects HOST:PORT (e.g. 127.0.0.1:12345), got {coordinator!r}"
            )
    if num_processes is not None and num_processes < 1:
        raise ValueError(f"--num-processes must be at least 1, got {num_processes}")
    if num_processes is not None and process_id is not None and not 0 <= process_id < num_processes:
        raise ValueError(
            f"--process-id must be in [0, {num_processes - 1}] for --num-processes "
            f"{num_processes}, got {process_id}"
        )
    if heartbeat_timeout < 1:
        raise ValueError(f"--heartbeat-timeout must be at least 1 second, got {heartbeat_timeout}")

    import jax

    # On CPU the processes exchange arrays through gloo (GPUs use NCCL, TPUs their ICI);
    # jax 0.7.1 and later have the option, and it must be set before the backend starts.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    kwargs: dict[str, Any] = {"heartbeat_timeout_seconds": heartbeat_timeout}
    if coordinator is not None:
        kwargs.update(
            coordinator_address=coordinator, num_processes=num_processes, process_id=process_id
        )
    jax.distributed.initialize(**kwargs)
