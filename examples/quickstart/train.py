"""Train scikit-learn's SVC on the digits data that ships with scikit-learn; print accuracy.

Run by each trial with the parameters as arguments, e.g.
    python examples/quickstart/train.py --C=1.5 --gamma=0.001 --kernel=rbf
It prints ``accuracy=<value>`` and ``train_time=<seconds>``, the format Katib's StdOut
metrics collector (and automl's) reads.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--C", type=float, required=True)
    parser.add_argument("--gamma", type=float, required=True)
    parser.add_argument("--kernel", choices=["rbf", "poly", "sigmoid"], required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=args.seed, stratify=y
    )
    start = time.perf_counter()
    model = SVC(C=args.C, gamma=args.gamma, kernel=args.kernel).fit(x_train, y_train)
    print(f"train_time={time.perf_counter() - start:.4f}")
    print(f"accuracy={model.score(x_test, y_test):.6f}")


if __name__ == "__main__":
    main()
