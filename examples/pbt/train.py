"""Train a small neural network on scikit-learn's digits, a few epochs at a time, from a checkpoint.

A pbt trial: it resumes from ``<checkpoint>/model.pkl`` when that file exists (its parent's
network, copied there before the trial starts), trains ``--epochs`` more epochs with this
trial's ``--lr`` and ``--batch-size``, reports the validation accuracy after every epoch, and
saves the network back for its children. On Katib the folder is the suggestion volume's
sub-path mounted at ``suggestion_trial_dir``; locally automl puts a folder of the runs folder
in its place.

    python examples/pbt/train.py --lr=0.05 --batch-size=64 --epochs=3 --checkpoint=ckpt
"""

from __future__ import annotations

import argparse
import os
import pickle
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, required=True, help="SGD's learning rate")
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--epochs", type=int, default=3, help="epochs this trial trains")
    parser.add_argument("--checkpoint", required=True, help="the folder to resume from and save to")
    args = parser.parse_args()

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.4,
                                                      random_state=0, stratify=y)
    path = os.path.join(args.checkpoint, "model.pkl")
    if os.path.exists(path):
        with open(path, "rb") as file:
            state = pickle.load(file)
    else:  # generation 0: a fresh network
        os.makedirs(args.checkpoint, exist_ok=True)
        state = {"epoch": 0, "model": MLPClassifier(
            hidden_layer_sizes=(32,), solver="sgd", momentum=0.9, warm_start=True,
            max_iter=1, random_state=0)}
    model = state["model"]
    # warm_start keeps the weights; each fit is one epoch with this trial's values (the
    # optimiser is made anew, so a changed learning rate takes effect)
    model.set_params(learning_rate_init=args.lr, batch_size=args.batch_size)
    for _ in range(args.epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch per fit, on purpose
            model.fit(x_train, y_train)
        state["epoch"] += 1
        print(f"epoch={state['epoch']} loss={model.loss_:.6f} "
              f"Validation-accuracy={model.score(x_val, y_val):.6f}", flush=True)
    with open(path + ".tmp", "wb") as file:
        pickle.dump(state, file)
    os.replace(path + ".tmp", path)  # a trial killed while saving leaves the old file whole


if __name__ == "__main__":
    main()
