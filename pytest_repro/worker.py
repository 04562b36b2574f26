"""`python -m pytest_repro.worker`: one isolated training run (started by the plugin, not by users)."""

from pytest_repro.runs import worker_main

if __name__ == "__main__":
    raise SystemExit(worker_main())
