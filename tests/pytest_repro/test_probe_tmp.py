import pytest
from conftest import training_source

CASES = {
    "forest": dict(model="RandomForestClassifier(n_estimators=5, max_depth=4)"),
    "kfold": dict(splitter="KFold(n_splits=3, shuffle=True)"),
    "time": dict(extra_metrics='{"trained_at": time.time()}'),
    "set": dict(feature_order="list(set(COLUMNS))"),
    "noise": dict(threshold="0.5 + np.random.default_rng().normal(0, 0.01)"),
}

@pytest.mark.parametrize("case", CASES)
def test_probe(example, case):
    iso = None if case == "set" else "inprocess"
    example.write(training_source(**CASES[case]), isolation=iso)
    result = example.run("--repro", "-rs")
    print(result.stdout.str())
    print(result.stderr.str())
    assert 0
