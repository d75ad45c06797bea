"""Train a linear classifier (SGD) on scikit-learn's digits for ``--epochs`` passes.

Hyperband sets ``--epochs`` (its resource): the first rung of a bracket trains many
configurations for few epochs, the next rungs retrain the best ones for more.

    python examples/hyperband/train.py --epochs=3 --alpha=0.0001 --eta0=0.05
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--eta0", type=float, required=True)
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
    for _ in range(args.epochs):
        model.partial_fit(x_train, y_train, classes=np.unique(y))
    print(f"accuracy={model.score(x_test, y_test):.6f}", flush=True)


if __name__ == "__main__":
    main()
