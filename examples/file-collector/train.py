"""Train a logistic-regression model (SGD) on scikit-learn's digits; write metrics to a file.

Each epoch appends a line such as ``epoch 3 | accuracy: 0.9407 | loss: 0.2311`` to
``--log-path``: not Katib's ``name=value`` format, which is why the experiment gives the File
collector its own ``filter`` regex.

    python examples/file-collector/train.py --alpha=0.0001 --log-path=/tmp/metrics.log
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--eta0", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--log-path", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=args.seed, stratify=y
    )
    model = SGDClassifier(loss="log_loss", alpha=args.alpha, learning_rate="constant",
                          eta0=args.eta0, random_state=args.seed)
    path = Path(args.log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for epoch in range(1, args.epochs + 1):
        model.partial_fit(x_train, y_train, classes=np.unique(y))
        accuracy = model.score(x_test, y_test)
        loss = log_loss(y_test, model.predict_proba(x_test), labels=np.unique(y))
        with open(path, "a", encoding="utf-8") as file:
            file.write(f"epoch {epoch} | accuracy: {accuracy:.6f} | loss: {loss:.6f}\n")


if __name__ == "__main__":
    main()
