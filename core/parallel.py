"""One function over many items in worker processes, results in the items' order, memory flat.

Ingest extracts letters this way, `agreement` extracts the letters its cache lacks, and the
spans and de-identified exports cut tokens and scrub identifiers: the CPU-bound part of each,
while the calling process reads the store and writes.

- **The fork server, not fork**: a forked worker would inherit the store's lock and journal
  descriptors and keep the store locked if the run were killed.  The fork server starts clean.
- **A window of chunks in flight**, not ``pool.map``: that queues every item at once, and when
  the workers outrun the caller the finished results pile up in memory, where the garbage
  collector keeps walking them (a 10,000-letter ingest slowed down instead of speeding up).
  The items are drawn from their iterable only as chunks are sent, so a generator reading the
  store is read as the work goes.
- **Workers end with their parent**: a worker whose run was killed would wait for work forever.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_FROM = 200
"""Starting a worker costs about a second: below this many letters one process is quicker."""


def default_jobs(items: int) -> int:
    """Processes for ``items`` letters when the user says nothing: one a CPU from
    `PARALLEL_FROM`, else one."""
    return (os.cpu_count() or 1) if items >= PARALLEL_FROM else 1


WINDOW_PER_JOB = 3
"""Chunks in flight per worker: enough that none waits for the next, few enough to stay flat."""


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    jobs: int,
    chunk: int = 16,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    preload: Sequence[str] = (),
) -> Iterator[R]:
    """``map(fn, items)`` in ``jobs`` worker processes (in this one for ``jobs <= 1``), each
    given ``chunk`` items at a time and set up by ``initializer(*initargs)``; ``fn`` and
    ``initializer`` must be top-level functions, ``preload`` the modules the fork server
    imports once for every worker."""
    if jobs <= 1:
        if initializer is not None:
            initializer(*initargs)
        yield from map(fn, items)
        return
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["imrgold.core.parallel", *preload])
    chunks = _chunked(items, chunk)
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start_worker, initargs=(initializer, initargs)
    ) as pool:
        try:
            yield from _in_order(pool, fn, chunks, window=jobs * WINDOW_PER_JOB)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, max(1, size))):
        yield chunk


def _in_order(
    pool: ProcessPoolExecutor,
    fn: Callable[[T], R],
    chunks: Iterator[list[T]],
    *,
    window: int,
) -> Iterator[R]:
    pending: deque[Future[list[R]]] = deque()
    for chunk in itertools.islice(chunks, window):
        pending.append(pool.submit(_apply, fn, chunk))
    while pending:
        done = pending.popleft().result()
        for chunk in itertools.islice(chunks, 1):
            pending.append(pool.submit(_apply, fn, chunk))
        yield from done


def _apply(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(item) for item in chunk]


def _start_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    _exit_with_parent()
    if initializer is not None:
        initializer(*initargs)


def _exit_with_parent() -> None:
    import multiprocessing
    import threading
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
