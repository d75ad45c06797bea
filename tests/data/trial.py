"""A trial program for tests: reports metrics the ways Katib's collectors read them.

    python trial.py --x=0.3 --y=2 [--epochs=3] [--mode=stdout|file|json|push|tfevent|none]
                    [--path=P] [--exit=N] [--sleep=S] [--skip-objective]
    python trial.py --echo ARGS...

The objective ``loss`` is (x - 0.3)^2 + (y - 2)^2 / 10, reported once per epoch, decreasing to
it; ``accuracy`` = 1 - loss. ``--echo`` prints the received arguments as JSON (for the
verbatim-argument tests).
"""

import argparse
import json
import os
import sys
import time


def main() -> None:
    if sys.argv[1:2] == ["--echo"]:  # before argparse, which would read values as options
        print(json.dumps({"argv": sys.argv[1:], "env": os.environ.get("ECHO_ENV")}))
        print("loss=0")
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--x", type=float, default=0.0)
    parser.add_argument("--y", type=float, default=0.0)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--mode", default="stdout")
    parser.add_argument("--path", default="")
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--skip-objective", action="store_true")
    args = parser.parse_args()
    loss = (args.x - 0.3) ** 2 + (args.y - 2) ** 2 / 10
    for epoch in range(1, args.epochs + 1):
        value = loss * (1 + (args.epochs - epoch))
        metrics = {"accuracy": 1 - value}
        if not args.skip_objective:
            metrics["loss"] = value
        report(args, metrics, epoch)
        time.sleep(args.sleep)
    sys.exit(args.exit)


def report(args, metrics, epoch) -> None:
    if args.mode == "stdout":
        print(" ".join(f"{k}={v}" for k, v in metrics.items()), flush=True)
    elif args.mode == "file":
        with open(args.path, "a") as f:
            f.write(" ".join(f"{k}={v}" for k, v in metrics.items()) + "\n")
    elif args.mode == "json":
        with open(args.path, "a") as f:
            f.write(json.dumps({k: str(v) for k, v in metrics.items()}) + "\n")
    elif args.mode == "push":
        import automl

        automl.report(metrics, step=epoch)
    elif args.mode == "tfevent":
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        writer = EventFileWriter(args.path)
        for k, v in metrics.items():
            writer.add_event(Event(wall_time=time.time(), step=epoch, summary=Summary(
                value=[Summary.Value(tag=k, simple_value=v)])))
        writer.close()


if __name__ == "__main__":
    main()
