"""The pytest items `pytest --repro` and `pytest -m lineage` generate, and how they are collected.

`generation` turns the configured training into one item per check; `twin_checks` holds
the twin comparisons (artifacts, folds, metrics, the lineage of each run, replay),
`probe_items` the runs that retrain on purpose (the seed probe, the sweep, each variation),
`lineage_checks` the verification of a lineage on disk.  `item_base` is what they share:
the one-line failure, the outcome words of `pytest_repro.core.outcomes`, and the JUnit
properties.  The runs themselves belong to `pytest_repro.running`.
"""
