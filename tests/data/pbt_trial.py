"""A stand-in for Katib's simple-pbt trial program, for the tests.

It takes the arguments of Katib's ``examples/v1beta1/trial-images/simple-pbt/pbt_test.py``
(``--lr``, ``--epochs``, ``--checkpoint``) and keeps its checkpoint contract: it resumes from
``<checkpoint>/training.ckpt`` when that file exists, trains, and saves it again. Unlike
Katib's it is deterministic and fast, prints the accuracy after every epoch, and writes the
names of the trials that trained the checkpoint into it, so that a test can read a lineage.
"""

import argparse
import json
import math
import os
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--checkpoint", default="/var/log/katib/checkpoints/")
parser.add_argument("--sleep", type=float, default=0.0, help="seconds before saving")
parser.add_argument("--fail-below", type=float, default=None,
                    help="exit 1 without saving when lr is below this")
parser.add_argument("--leave", default=None,
                    help="leave a FIFO, a dangling link and a link to this folder in the "
                         "checkpoint, beside the saved state")
opt = parser.parse_args()

path = os.path.join(opt.checkpoint, "training.ckpt")
if os.path.exists(path):
    with open(path, encoding="utf-8") as file:
        state = json.load(file)
else:
    os.makedirs(opt.checkpoint, exist_ok=True)
    state = {"step": 1, "accuracy": 0.0, "trials": []}

for _ in range(opt.epochs):
    # the closer lr is to 0.01 (on a log scale), the faster the accuracy grows
    state["accuracy"] = min(100.0, state["accuracy"] + 10 / (1 + abs(math.log10(opt.lr / 0.01))))
    state["step"] += 1
    print(f"epoch {state['step']}")
    print(f"Validation-accuracy={state['accuracy'] / 100:.4f}", flush=True)
time.sleep(opt.sleep)
if opt.fail_below is not None and opt.lr < opt.fail_below:
    sys.exit(1)
state["trials"].append(os.environ.get("KATIB_TRIAL_NAME", ""))
with open(path, "w", encoding="utf-8") as file:
    json.dump(state, file)
if opt.leave is not None:  # once: a child finds its parent's, copied
    for name, make in (("pipe", os.mkfifo),
                       ("dangling", lambda p: os.symlink("/nonexistent/automl-test", p)),
                       ("data", lambda p: os.symlink(opt.leave, p))):
        if not os.path.lexists(os.path.join(opt.checkpoint, name)):
            make(os.path.join(opt.checkpoint, name))
