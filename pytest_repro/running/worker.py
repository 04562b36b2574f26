"""`python -m pytest_repro.running.worker`: one isolated training run (started by the plugin, not by users)."""

from pytest_repro.running.launcher import worker_main

if __name__ == "__main__":
    raise SystemExit(worker_main())
