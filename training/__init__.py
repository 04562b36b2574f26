"""A small, config-driven scikit-learn pipeline: pytest-repro's first user.

`train` (alias `train_for_repro`, what `repro_train` names) trains and publishes the artifacts,
`load_config` validates a config file; scikit-learn is imported only when a training starts.
"""

from training.config import load_config
from training.run import train, train_for_repro

__all__ = ["load_config", "train", "train_for_repro"]
