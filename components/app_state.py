"""The state of one running app, in one object: app.py builds an `AppState` and installs it with `use`; tests build
their own. It holds loading's runtime (settings, the model cache, the disk budget), the handlers' worker threads, the
running-work counter of each kind of work, and each session's Stop flag. Importing this module makes nothing: the
first call that needs a state makes a default one."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from model_zoo import loading


class RunningWork:
    """How much work of one kind is running, bounded by its limit: a slot is taken before the work starts and given
    back when the work ends, not when its request gives up on it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0
        self._changed = threading.Condition()

    def acquire(self, timeout: float) -> bool:
        with self._changed:
            if not self._changed.wait_for(lambda: self.running < self.limit, timeout):
                return False
            self.running += 1
            return True

    def release(self) -> None:
        with self._changed:
            self.running -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing of this kind runs (tests use it); False if `timeout` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self.running == 0, timeout)


@dataclass
class AppState:
    loading: loading.Runtime = field(default_factory=loading.Runtime)
    workers: ThreadPoolExecutor | None = None            # made on first use (a state made starts no thread)
    running: dict[str, RunningWork] = field(default_factory=dict)   # kind -> its counter (components.common)
    stops: dict[str, threading.Event] = field(default_factory=dict)  # "job:session" -> its Stop flag
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def executor(self, max_workers: int) -> ThreadPoolExecutor:
        with self.lock:
            if self.workers is None:
                self.workers = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="explorer-handler")
            return self.workers

    def running_work(self, kind: str, limit: int) -> RunningWork:
        with self.lock:
            if kind not in self.running:
                self.running[kind] = RunningWork(limit)
            return self.running[kind]

    @contextmanager
    def stop_flag(self, job: str, request=None):
        """The Stop flag of this session's `job` while the job runs (a fresh one: an older run keeps its own); a
        request without a session gets a flag no Stop button reaches."""
        key = f"{job}:{getattr(request, 'session_hash', None) or uuid.uuid4()}"
        event = threading.Event()
        with self.lock:
            self.stops[key] = event
        try:
            yield event
        finally:
            with self.lock:
                if self.stops.get(key) is event:
                    del self.stops[key]

    def stop(self, job: str, request=None) -> bool:
        """Set the Stop flag of this session's `job`; False when no such job runs."""
        with self.lock:
            event = self.stops.get(f"{job}:{getattr(request, 'session_hash', None) or ''}")
        if event is not None:
            event.set()
        return event is not None


_state: AppState | None = None
_state_lock = threading.Lock()


def use(state: AppState) -> AppState:
    """Install `state` (and its loading runtime) as the app's; returns it."""
    global _state
    with _state_lock:
        _state = state
    loading.use(state.loading)
    return state


def current() -> AppState:
    """The installed state; a default one (around the loading runtime in use) when none was installed."""
    global _state
    with _state_lock:
        if _state is None:
            _state = AppState(loading=loading.runtime())
        return _state
