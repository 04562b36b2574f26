"""Train a churn model the way most repositories do: a script, relative paths, its own seed."""

import json
import pickle
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

rows = np.loadtxt("data/customers.csv", delimiter=",", skiprows=1)
X, y = rows[:, :-1], rows[:, -1].astype(int)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42, stratify=y)
model = RandomForestClassifier(n_estimators=50, max_depth=6, random_state=42).fit(X_train, y_train)

Path("models").mkdir(exist_ok=True)
with open("models/model.pkl", "wb") as handle:
    pickle.dump(model, handle)
Path("reports").mkdir(exist_ok=True)
metrics = {"test_roc_auc": roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])}
Path("reports/metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
print(f"test ROC AUC {metrics['test_roc_auc']:.4f}")
