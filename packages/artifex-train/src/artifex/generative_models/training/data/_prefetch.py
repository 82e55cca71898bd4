"""Batches prepared and placed on the devices ahead of the training step, by a thread.

The host's share of a training iteration — drawing the batches from the data iterator,
stacking and checking them, ``device_put`` onto the mesh — runs in one background thread
up to ``size`` dispatches ahead (the prefetch-to-device pattern). JAX dispatches the
compiled step asynchronously, so while the devices compute the main thread only waits,
and the next dispatch's batches are already on the devices when it is issued.

The data position stays exact. The iterator runs ahead of the training, so each prepared
item carries a snapshot of the iterator's position (``get_state()``) taken right after
its batches were drawn; the snapshot of the last item consumed is where the training is.
:meth:`DevicePrefetcher.rewind` stops the thread, drops the items not consumed and sets
the iterator back to that snapshot (``set_state``). The trainer rewinds before every
checkpoint (which then holds the position of the last batch a step consumed), when the
training rules change (the dropped items were prepared under the old ones) and when
``fit`` ends; the next item asked for restarts the thread, which prepares the dropped
items again. An iterator without ``get_state`` / ``set_state`` cannot be set back: its
prepared items are kept and served before the thread restarts, and those still unserved
when the feed closes are lost (such an iterator's position is not checkpointed anyway).

An exception in the thread (a bad batch, the data running out) is raised in the main
thread when the item it stands in for is asked for, with the thread's traceback.
"""

from __future__ import annotations

import collections
import copy
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["DevicePrefetcher"]

T = TypeVar("T")

# How often a thread blocked on a full queue looks whether it was asked to stop.
_POLL_S = 0.05


class _Failure:
    """What the thread put in the queue instead of an item: the exception it raised."""

    def __init__(self, error: BaseException):
        self.error = error


def _has_position(iterator: Any) -> bool:
    return callable(getattr(iterator, "get_state", None)) and callable(
        getattr(iterator, "set_state", None)
    )


class DevicePrefetcher(Generic[T]):
    """An iterator of ``prepare()``'s results, computed by a thread ``size`` items ahead.

    Args:
        prepare: Makes one item (e.g. draws, stacks and places one dispatch's batches);
            called in the background thread only, one call at a time.
        size: Items prepared ahead; >= 1.
        position: The data iterator ``prepare`` draws from. If it has ``get_state`` /
            ``set_state`` (grain iterators do), each item carries its position and
            :meth:`rewind` sets it back to the last item consumed.

    Raises:
        ValueError: ``size < 1``.
    """

    def __init__(self, prepare: Callable[[], T], *, size: int, position: Any = None):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(
                f"size must be an int >= 1 (items prepared ahead), got {size!r}; "
                "without prefetching call prepare() directly"
            )
        self._prepare = prepare
        self._size = size
        self._iterator = position if _has_position(position) else None
        self._consumed = self._snapshot()
        self._queue: queue.Queue[tuple[T, Any] | _Failure] = queue.Queue(maxsize=size)
        self._kept: collections.deque[tuple[T, Any] | _Failure] = collections.deque()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        # What the thread made after it was asked to stop (queued by rewind after the rest).
        self._late: tuple[T, Any] | _Failure | None = None
        self._ahead = False  # the iterator moved past the consumed position
        self._closed = False

    def __iter__(self) -> DevicePrefetcher[T]:
        return self

    def __next__(self) -> T:
        if self._closed:
            raise ValueError("this DevicePrefetcher was closed")
        if self._kept:
            entry = self._kept.popleft()
        else:
            if self._thread is None:
                self._start()
            entry = self._queue.get()
        if isinstance(entry, _Failure):
            # The thread ended with it; the next item asked for starts a new one.
            self._join()
            raise entry.error
        item, self._consumed = entry
        return item

    @property
    def consumed_position(self) -> Any:
        """The iterator's position after the last item served (None: it has none)."""
        return self._consumed

    def rewind(self) -> None:
        """Stop the thread and set the iterator back to the last item served.

        Items prepared but not served are dropped (and prepared again when asked for);
        for an iterator without a position they are kept and served first instead.
        """
        self._join()
        pending: list[tuple[T, Any] | _Failure] = []
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if self._late is not None:
            pending.append(self._late)
            self._late = None
        if self._iterator is None:
            self._kept.extend(pending)
        elif self._ahead:
            self._iterator.set_state(copy.deepcopy(self._consumed))
        self._ahead = False

    def close(self) -> None:
        """:meth:`rewind`, then refuse further items (the iterator stays usable)."""
        if not self._closed:
            self.rewind()
            self._kept.clear()
            self._closed = True

    def __enter__(self) -> DevicePrefetcher[T]:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------

    def _snapshot(self) -> Any:
        # A copy: an iterator may hand out (and later change) its own state object.
        return None if self._iterator is None else copy.deepcopy(self._iterator.get_state())

    def _start(self) -> None:
        self._stop = threading.Event()
        self._ahead = True
        # A daemon thread: a data iterator that blocks forever must not keep the
        # interpreter alive after the main thread has gone.
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="artifex-device-prefetch", daemon=True
        )
        self._thread.start()

    def _join(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def _run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                item = self._prepare()
                if not self._put((item, self._snapshot()), stop):
                    return
        except BaseException as error:  # handed to the main thread, raised there
            self._put(_Failure(error), stop)

    def _put(self, entry: tuple[T, Any] | _Failure, stop: threading.Event) -> bool:
        """Queue ``entry``; asked to stop first, keep it for :meth:`rewind`. Whether queued."""
        while not stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        self._late = entry  # rewind reads it after joining this thread
        return False
