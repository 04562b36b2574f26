"""The environment variables the plugin sets in a run: the contract variables a training may read, and the thread counts."""

# Knobs the variation hunt sets in a run's environment; a training may honour them.
N_JOBS_VARIABLE = "REPRO_N_JOBS"
ROW_ORDER_VARIABLE = "REPRO_ROW_ORDER_SEED"
# The worker processes a run may use: the plugin sets it to the share of the cores it gives
# the run (1 for each twin on two cores), so concurrent runs never oversubscribe the machine.
WORKERS_VARIABLE = "REPRO_WORKERS"
# The variables a training may read to cooperate with the variations (what `not exercised` is judged by).
CONTRACT_VARIABLES = frozenset({N_JOBS_VARIABLE, ROW_ORDER_VARIABLE, WORKERS_VARIABLE})
# The thread-count variables BLAS and OpenMP libraries read once, when they load; the
# plugin sets each to a run's share of the cores, and a training's own worker processes may
# set them to 1.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
