"""One process of a multi-process run in ``test_multiprocess.py``: the CLI, watched.

Runs ``artifex-train`` (``cli.main``) with the arguments given, exactly as the command
line does. With ``ARTIFEX_TEST_IDS=<file>`` it also appends, for every batch the data
pipeline reads in this process, ``{"process": i, "batch": k, "ids": [...]}`` to
``<file>.<i>``: the example ids (pixel (0, 0) of each test image holds its id as a uint8).
"""

import faulthandler
import json
import os
import signal
import sys
import threading

import numpy as np

from artifex.generative_models.training import cli
from artifex.generative_models.training.data import _pipeline

# SIGUSR1 prints every thread's Python stack: what a test shows of a process that hangs.
faulthandler.register(signal.SIGUSR1, all_threads=True)
RECORD = os.environ.get("ARTIFEX_TEST_IDS")
_lock = threading.Lock()

if RECORD:
    read_batch = _pipeline._BatchReader.__call__

    def recording_read(self, batch_number, index):
        import jax

        batch = read_batch(self, batch_number, index)
        # uint8 v scaled to [-1, 1] as v / 127.5 - 1.
        ids = np.rint((np.asarray(batch["image"])[:, 0, 0, 0] + 1) * 127.5).astype(int)
        row = {"process": jax.process_index(), "batch": int(batch_number), "ids": ids.tolist()}
        with _lock, open(f"{RECORD}.{row['process']}", "a") as file:
            file.write(json.dumps(row) + "\n")
        return batch

    _pipeline._BatchReader.__call__ = recording_read

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
