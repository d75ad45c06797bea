"""Train a small neural network (MLP) on scikit-learn's digits; print several metrics per epoch.

Each epoch prints ``accuracy=... loss=... train_time=...`` (train_time is cumulative
seconds). The experiment optimises accuracy and collects the others, each reduced to one
value per trial by its own strategy.

    python examples/multi-metric/train.py --hidden=32 --learning-rate=0.01
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hidden", type=int, required=True)
    parser.add_argument("--learning-rate", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=args.seed, stratify=y
    )
    model = MLPClassifier(hidden_layer_sizes=(args.hidden,),
                          learning_rate_init=args.learning_rate, random_state=args.seed)
    classes = np.unique(y)
    train_time = 0.0
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.partial_fit(x_train, y_train, classes=classes)
        train_time += time.perf_counter() - start
        accuracy = model.score(x_test, y_test)
        loss = log_loss(y_test, model.predict_proba(x_test), labels=classes)
        print(f"accuracy={accuracy:.6f} loss={loss:.6f} train_time={train_time:.4f}", flush=True)


if __name__ == "__main__":
    main()
