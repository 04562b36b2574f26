"""Running a training: in fresh processes, isolated from the user's project, and recorded.

`service` is the one owner of a session's trainings (the twin cache, the queue, the
twins started ahead, every probe run); `scheduler` decides which runs go when, on how
many cores, and `executor` where (local subprocesses today); `launcher` is one run (a
function in a worker interpreter, or a command) and relays its output;
`isolation` and `tree_copy` give each run its copy of the project, its environment and
a write guard (`run_site/`, loaded as `sitecustomize` in every Python process of a
run, which also holds the run recorder); `command_training` describes and runs a
script training; `recorded` and `hand_run` are runs that happened outside the twins
(`--repro-against`, `repro-run`).  Nothing here compares outputs: that is
`pytest_repro.diagnose`.
"""
