"""Helpers that both the tests (tests/) and the benchmarks (bench/) use, owned by neither: a free loopback port, the
hostile-input fuzzer, the simultaneous-users load runner. Nothing here imports tests/ or bench/ (tests/test_layering
checks it), so each of those may import this and never the other.

    >>> from testkit.net import free_port            # a port to launch the app on
    >>> from testkit.fuzzing import fuzz, HOSTILE_TEXTS
    >>> from testkit.load import run_load            # N users on loopback: latencies, errors, memory
"""
