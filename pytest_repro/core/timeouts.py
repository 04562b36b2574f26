"""How long a run may take by default (the `repro_timeout` setting is parsed in `pytest_repro.settings.table`)."""

DEFAULT_TIMEOUT = 3600.0  # an hour: far above a test-sized training, and never a hung CI job
