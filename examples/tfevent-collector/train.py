"""Train an SGD classifier on scikit-learn's digits; log accuracy as TensorBoard events.

Writes one scalar ``accuracy`` event per epoch into ``--logdir`` with TensorBoard's own event
writer (no TensorFlow needed), the files Katib's TensorFlowEvent collector reads.

    python examples/tfevent-collector/train.py --alpha=0.0001 --eta0=0.05 --logdir=/tmp/tb
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--eta0", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--logdir", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=args.seed, stratify=y
    )
    model = SGDClassifier(alpha=args.alpha, learning_rate="constant", eta0=args.eta0,
                          random_state=args.seed)
    writer = EventFileWriter(args.logdir)
    for epoch in range(1, args.epochs + 1):
        model.partial_fit(x_train, y_train, classes=np.unique(y))
        value = Summary.Value(tag="accuracy", simple_value=model.score(x_test, y_test))
        writer.add_event(Event(wall_time=time.time(), step=epoch, summary=Summary(value=[value])))
    writer.close()


if __name__ == "__main__":
    main()
