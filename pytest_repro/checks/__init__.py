"""The reproducibility checks as plain functions that know nothing of pytest (scikit-learn's `check_*` manner).

    result            what a check is given (`CheckContext`) and returns (`CheckResult`: one `Outcome`)
    registry          the one registry of checks and the one generator choosing them (`planned_checks`)
    twin_comparisons  artifacts, folds, metrics, each run's lineage, the replay of a recorded lineage
    probe_checks      the seed sweep, the seed probe and each variation: runs beyond the twins
    lineage_file      verifying a lineage against the files it names

The one item class that runs them under pytest is `pytest_repro.items.item_base.ReproItem`.
"""
