"""Train an SGD classifier on scikit-learn's digits, printing the accuracy after every epoch.

Katib's medianstop reads these per-epoch lines: a trial whose best accuracy after
``start_step`` epochs is below the mean of the finished trials' is stopped (EarlyStopped).

    python examples/early-stopping/train.py --alpha=0.0001 --eta0=0.05 [--epochs=8]
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--eta0", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--epoch-seconds", type=float, default=0.2,
                        help="pause after each epoch, as a longer training would take")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=args.seed, stratify=y
    )
    model = SGDClassifier(alpha=args.alpha, learning_rate="constant", eta0=args.eta0,
                          random_state=args.seed)
    for epoch in range(1, args.epochs + 1):
        model.partial_fit(x_train, y_train, classes=np.unique(y))
        # one line per epoch, flushed so the collector sees it while the trial runs
        print(f"epoch={epoch} accuracy={model.score(x_test, y_test):.6f}", flush=True)
        time.sleep(args.epoch_seconds)


if __name__ == "__main__":
    main()
