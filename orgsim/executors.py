"""Where independent tasks run: in this process, in local processes, or on Dask.

Every executor has one interface, :meth:`Executor.map_unordered`, which runs a
picklable module-level function over tasks and yields ``(task, result)`` pairs
as they finish. Results must not depend on which executor ran them: tasks
carry everything they need (their seeds included), so the executor only
decides where and when they run.

Executors are context managers; leaving the ``with`` block stops their worker
processes (at once when it is left by an exception or Ctrl-C). Dask is
imported only when a Dask executor is made.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar

__all__ = [
    "EXECUTORS",
    "Executor",
    "SerialExecutor",
    "ProcessExecutor",
    "DaskExecutor",
    "make_executor",
    "open_executor",
]

T = TypeVar("T")
R = TypeVar("R")

#: The names the CLI's ``--executor`` accepts.
EXECUTORS = ("serial", "processes", "dask")

#: Tasks kept in flight per worker: enough to keep every worker busy, few
#: enough that tasks finish roughly in submission order.
IN_FLIGHT_PER_WORKER = 2


def _default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


class Executor:
    """Runs a function over tasks; subclasses decide where."""

    name = "executor"
    #: Tasks that can run at the same time.
    workers = 1

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Yield ``(task, fn(task))`` for every task, in the order they finish."""
        raise NotImplementedError

    def close(self, abort: bool = False) -> None:
        """Release workers; ``abort`` stops running tasks instead of waiting for them."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close(abort=kind is not None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} workers={self.workers}>"


class SerialExecutor(Executor):
    """One task after another in this process (the reference the others must match)."""

    name = "serial"

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        for task in tasks:
            yield task, fn(task)


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the parent handles it and stops
    # the workers, which would otherwise each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call(fn_task: tuple[Callable[[Any], Any], int, Any]) -> tuple[int, Any]:
    fn, key, task = fn_task
    return key, fn(task)


class ProcessExecutor(Executor):
    """Local worker processes (``multiprocessing``, started with *spawn*).

    *spawn* rather than *fork*: a forked child of a process with threads (a
    progress bar has one) can deadlock, and spawn behaves the same on every
    platform. Each worker imports orgsim once, about a second.
    """

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or _default_workers()
        self._pool: Any = None

    def __enter__(self) -> ProcessExecutor:
        # Start the workers now: they import orgsim while the caller prepares its first tasks.
        self._started()
        return self

    def _started(self) -> Any:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(self.workers, initializer=_ignore_sigint)
        return self._pool

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        pool = self._started()
        window = IN_FLIGHT_PER_WORKER * self.workers
        pending: dict[int, T] = {}
        source = iter(enumerate(tasks))
        # apply_async with a bounded window: tasks are taken from ``tasks``
        # lazily, and finish close to the order they were given.
        done: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()

        def submit() -> bool:
            try:
                key, task = next(source)
            except StopIteration:
                return False
            pending[key] = task
            pool.apply_async(
                _call, ((fn, key, task),),
                callback=lambda value: done.put((True, value)),
                error_callback=lambda err: done.put((False, err)),
            )
            return True

        while len(pending) < window and submit():
            pass
        while pending:
            ok, value = done.get()
            if not ok:
                raise value
            key, result = value
            task = pending.pop(key)
            submit()
            yield task, result

    def close(self, abort: bool = False) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if abort:
            pool.terminate()
        else:
            pool.close()
        pool.join()


def _private_security() -> Any:
    """TLS with a certificate authority made now, in memory, and required for every connection."""
    try:
        from distributed.security import Security

        return Security.temporary()
    except ImportError:  # pragma: no cover - depends on the installation
        from orgsim.errors import OrgsimError

        raise OrgsimError(
            "the dask executor's private cluster needs the cryptography package: pip install 'orgsim[distributed]'"
        ) from None


class DaskExecutor(Executor):
    """A Dask cluster: a LocalCluster of worker processes, or a running one by address.

    A running cluster's workers need orgsim installed (the same version);
    tasks carry the traced arrival times, so trace files need not be there.

    A LocalCluster listens on 127.0.0.1 only, over TLS with certificates made
    for it (only this process holds them). ``address`` is trusted: orgsim
    sends its runs there and takes back what it returns, so give only a
    scheduler you control (docs/sweeps.md, "Executors").
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - depends on the installation
            from orgsim.errors import OrgsimError

            raise OrgsimError(
                "the dask executor needs dask.distributed: pip install 'orgsim[distributed]'"
            ) from None
        self.address = address
        self._cluster: Any = None
        self._client: Any = None
        if address is None:
            self._cluster = LocalCluster(
                n_workers=workers or _default_workers(), threads_per_worker=1, processes=True,
                # Reachable only by this process: the scheduler and workers listen on
                # localhost, over TLS with certificates made for this cluster alone and
                # held in memory (Security.temporary), so another local user cannot
                # connect and submit code. No dashboard.
                host="127.0.0.1", protocol="tls://", security=_private_security(),
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(address, timeout="10s")
            except OSError as exc:
                from orgsim.errors import OrgsimError

                raise OrgsimError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        threads = self._client.nthreads()
        self.workers = workers or max(1, sum(threads.values()))

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        from dask.distributed import as_completed

        window = IN_FLIGHT_PER_WORKER * self.workers
        source = iter(tasks)
        pending: dict[Any, T] = {}
        running = as_completed()

        def submit() -> bool:
            try:
                task = next(source)
            except StopIteration:
                return False
            # pure=False: a fresh key every time, so two sweeps on one cluster never share one.
            future = self._client.submit(fn, task, pure=False)
            pending[future] = task
            running.add(future)
            return True

        while len(pending) < window and submit():
            pass
        try:
            for future in running:
                task = pending.pop(future)
                result = future.result()
                future.release()
                submit()
                yield task, result
        finally:
            for future in pending:
                future.cancel()

    def close(self, abort: bool = False) -> None:
        client, self._client = getattr(self, "_client", None), None
        if client is not None:
            client.close()
        if self._cluster is not None:
            cluster, self._cluster = self._cluster, None
            cluster.close()


def make_executor(
    name: str | None = None, *, address: str | None = None, workers: int | None = None
) -> Executor:
    """The executor called ``name`` (``serial``, ``processes`` or ``dask``).

    ``name`` defaults to ``dask`` when an ``address`` (a running scheduler,
    e.g. ``tcp://10.0.0.5:8786``) is given, to ``processes`` when more than
    one worker is asked for, and to ``serial`` otherwise; ``workers``
    defaults to the CPUs this process may use.
    """
    if name is None:
        name = "dask" if address is not None else "processes" if workers is not None and workers > 1 else "serial"
    if address is not None and name != "dask":
        raise ValueError(f"an address is for the dask executor, not {name!r}")
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(address, workers)
    raise ValueError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")


def make_executor_workers(
    name: str | None = None, *, address: str | None = None, workers: int | None = None
) -> int:
    """Runs at once in local processes on the executor :func:`make_executor` would make (1 when serial or remote)."""
    if name is None:
        name = "dask" if address is not None else "processes" if workers is not None and workers > 1 else "serial"
    if name == "serial" or address is not None:
        return 1
    return workers or _default_workers()


@contextlib.contextmanager
def open_executor(
    executor: str | Executor | None = None, *, address: str | None = None, workers: int | None = None,
    error: type[Exception] = ValueError,
) -> Iterator[Executor]:
    """The executor named (see :func:`make_executor`), closed afterwards (at once on an error).

    An :class:`Executor` given open is used and left open. A bad name or
    combination raises ``error`` (an :class:`~orgsim.errors.OrgsimError`
    subclass, for a user's mistake) with the reason.
    """
    if isinstance(executor, Executor):
        yield executor
        return
    try:
        ex = make_executor(executor, address=address, workers=workers)
    except ValueError as exc:
        raise error(str(exc)) from None
    with ex:
        yield ex
