"""Training progress on a terminal: one live line per model, right when folds finish out of order."""

from __future__ import annotations

import io

from training.progress import Progress


def test_plain_lines_name_the_model_and_fold_in_the_order_given():
    stream = io.StringIO()
    progress = Progress(stream, live=False)
    progress.fold("svm", 2, 3, 0.91, 1.5)
    progress.fold("knn", 1, 3, 0.88, 0.2)
    assert stream.getvalue() == "[svm] fold 2/3 roc_auc=0.9100 (1.5s)\n[knn] fold 1/3 roc_auc=0.8800 (0.2s)\n"


def test_a_live_bar_counts_the_folds_done_and_keeps_a_model_once_all_are_in():
    # Parallel fits finish out of order: svm's folds 3 and 1 first, then knn's only fold, then svm's 2.
    stream = io.StringIO()
    progress = Progress(stream, live=True)
    progress.fold("svm", 3, 3, 0.90, 1.0)
    progress.fold("svm", 1, 3, 0.91, 1.0)
    progress.fold("knn", 1, 1, 0.88, 0.2)
    progress.fold("svm", 2, 3, 0.92, 1.0)
    progress.message("refitting")
    kept = [line.rsplit("\r", 1)[-1] for line in stream.getvalue().split("\n") if line]
    # Each model's bar ends full, on a line of its own; the last one drawn is what stays.
    assert kept == [
        f"{'knn':<20} [{'#' * 20}] fold 1/1 roc_auc=0.8800 (0.2s)",
        f"{'svm':<20} [{'#' * 20}] fold 2/3 roc_auc=0.9200 (1.0s)",
        "refitting",
    ]
    assert f"{'svm':<20} [{'#' * 13}{'-' * 7}] fold 1/3" in stream.getvalue()  # two of three done
