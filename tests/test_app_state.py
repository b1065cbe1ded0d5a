"""The app's state is one object that its builder installs: two states share no loaded model, no running-work
counter and no Stop flag, and installing one back finds its models still loaded."""
from types import SimpleNamespace

from components import app_state, common
from model_zoo import loading


def test_two_app_states_share_nothing(tiny_path):
    before = app_state.current()
    try:
        first = app_state.use(app_state.AppState(loading=loading.Runtime(loading.Settings(device="cpu",
                                                                                           offline=True))))
        loaded = loading.load(tiny_path("bert"))
        assert loading.cache().loads == 1 and first.loading.models.loads == 1
        common.running_work("model").acquire(1.0)
        session_a = SimpleNamespace(session_hash="session-a")
        running = first.stop_flag("compare", session_a)
        stop = running.__enter__()

        second = app_state.use(app_state.AppState(loading=loading.Runtime(loading.Settings(device="cpu",
                                                                                            offline=True))))
        assert loading.cache().keys() == [] and common.running_work("model").running == 0
        assert not second.stop("compare", session_a)              # no such job in this state
        assert loading.load(tiny_path("bert")) is not loaded      # loaded again, for this state
        assert second.loading.models.loads == 1

        app_state.use(first)
        assert loading.load(tiny_path("bert")) is loaded and first.loading.models.loads == 1   # still cached
        assert common.running_work("model").running == 1
        assert first.stop("compare", session_a) and stop.is_set()
        running.__exit__(None, None, None)
        assert not first.stop("compare", session_a)               # the flag goes with its job
        common.running_work("model").release()
    finally:
        app_state.use(before)
