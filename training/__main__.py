"""`python -m training`: train with ./config.yaml and write ./artifacts/."""

from training.cli import train_main

raise SystemExit(train_main())
