"""Train scikit-learn's SVC on the digits data that ships with scikit-learn; print accuracy.

    python examples/compare/train.py --C=1.5 --gamma=0.01
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--C", type=float, required=True)
    parser.add_argument("--gamma", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=args.seed, stratify=y
    )
    model = SVC(C=args.C, gamma=args.gamma).fit(x_train, y_train)
    print(f"accuracy={model.score(x_test, y_test):.6f}")


if __name__ == "__main__":
    main()
