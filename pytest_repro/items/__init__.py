"""The pytest side of the checks: the collectors, the one item class, and the runs a check may ask for.

`generation` holds the config file's node, which yields one item per check that
`pytest_repro.checks.registry.planned_checks` chooses, and the lineage manifest's
node; `item_base` the one item class, which runs a registered check (a plain function of
`pytest_repro.checks`) and turns its result into pass, fail or skip, a summary row
and the JUnit properties (`pytest_repro.core.outcomes` is their one vocabulary);
`session_runs` what a check may ask of the session (its twins, narrowing, a seed's
run, the variation hunt).  The runs themselves belong to `pytest_repro.running`.
"""
