"""Which devices and processes a run has, and the mesh it shards over.

Data parallelism in Artifex is one ``Mesh`` over every device of every process with a
single ``data`` axis: a batch is split along its first axis across the mesh, parameters
and optimizer states are replicated. :class:`DeviceManager` finds the devices, builds that
mesh, places batches and states on it, and says what it found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["DeviceManager"]


class DeviceManager:
    """The devices of a run and the data-parallel mesh over them.

    Example:
        >>> from artifex.generative_models.core import DeviceManager
        >>> manager = DeviceManager()
        >>> batch = manager.shard_batch(jnp.zeros((8 * manager.device_count, 4)))

    Args:
        devices: The devices to use; all devices of all processes (``jax.devices()``) by
            default.
        axis_name: Name of the mesh axis the batch is split along.

    Attributes:
        devices: The devices, in mesh order.
        mesh: A ``jax.sharding.Mesh`` with one axis, ``axis_name``.
        axis_name: The batch axis name (``"data"``).
        process_index: This process's index (0 on a single host).
        process_count: The number of processes (hosts) in the run.
    """

    def __init__(self, devices: Sequence[Any] | None = None, *, axis_name: str = "data"):
        chosen = tuple(jax.devices() if devices is None else devices)
        if not chosen:
            raise ValueError("DeviceManager needs at least one device, got an empty list")
        platforms = sorted({d.platform for d in chosen})
        if len(platforms) > 1:
            raise ValueError(
                f"DeviceManager needs devices of one platform, got {', '.join(platforms)}"
            )
        self.devices = chosen
        self.axis_name = axis_name
        self.mesh = Mesh(np.asarray(chosen, dtype=object), (axis_name,))
        self.process_index = jax.process_index()
        self.process_count = jax.process_count()

    @classmethod
    def distributed(cls, **initialize_kwargs: Any) -> DeviceManager:
        """Join a multi-host run (``jax.distributed.initialize``), then manage all devices.

        Args:
            **initialize_kwargs: Passed to ``jax.distributed.initialize`` (coordinator
                address, number of processes, process id); on managed clusters (SLURM,
                TPU pods) JAX finds them itself and none are needed.

        On CPU the processes exchange arrays over gloo. The command line's
        ``--distributed`` does the same (see ``docs/multi-host.md``).
        """
        # Read when the CPU backend starts, so before initialize (jax 0.7.1 has it too).
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(**initialize_kwargs)
        return cls()

    @property
    def platform(self) -> str:
        """``"cpu"``, ``"gpu"`` or ``"tpu"``."""
        return str(self.devices[0].platform)

    @property
    def device_count(self) -> int:
        """Devices in the mesh, over all processes."""
        return len(self.devices)

    @property
    def local_device_count(self) -> int:
        """Devices in the mesh that belong to this process."""
        return sum(d.process_index == self.process_index for d in self.devices)

    @property
    def data_sharding(self) -> NamedSharding:
        """Split the first axis of an array over the mesh."""
        return NamedSharding(self.mesh, PartitionSpec(self.axis_name))

    @property
    def replicated_sharding(self) -> NamedSharding:
        """A full copy of an array on every device."""
        return NamedSharding(self.mesh, PartitionSpec())

    def check_batch_size(self, batch_size: int) -> None:
        """Refuse a global batch size that the devices cannot split evenly."""
        if batch_size % self.device_count:
            raise ValueError(
                f"batch size {batch_size} cannot be split evenly over {self.device_count} "
                f"devices; use a multiple of {self.device_count}"
            )

    def shard_batch(self, batch: Any) -> Any:
        """Place every array of ``batch`` on the mesh, split along its first axis."""
        for leaf in jax.tree_util.tree_leaves(batch):
            self.check_batch_size(int(np.shape(leaf)[0]))
        return jax.device_put(batch, self.data_sharding)

    def replicate(self, tree: Any) -> Any:
        """Place every array of ``tree`` on every device of the mesh."""
        return jax.device_put(tree, self.replicated_sharding)

    def describe(self) -> str:
        """One line saying what was found, for logs."""
        kinds = sorted({getattr(d, "device_kind", d.platform) for d in self.devices})
        return (
            f"{self.device_count} {self.platform} device(s) ({', '.join(kinds)}) in "
            f"{self.process_count} process(es); this is process {self.process_index} with "
            f"{self.local_device_count} local device(s); mesh axis '{self.axis_name}'"
        )

    def __repr__(self) -> str:
        return f"DeviceManager({self.describe()})"
