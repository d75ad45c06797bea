"""A DARTS trial: search a cell with first-order DARTS on digits (8x8) and print its genotype.

Katib's darts service gives every trial the same three arguments, as JSON with ``'`` for
``"``: ``--algorithm-settings`` (all its settings: the defaults as numbers, the experiment's
own as strings, ``None`` as null), ``--search-space`` (the candidate operations, e.g.
``separable_convolution_3x3``) and ``--num-layers`` (cells). The trial trains a supernet
(``supernet.py``) whose every edge is a softmax(alpha)-weighted mix of the candidates,
alternating an alpha step on one half of the training data with a weight step on the other.
After every epoch it prints ``Validation-Accuracy=<v>`` (on a held-out 20% of digits); at the
end, the best epoch's cell, as Katib's own DARTS trial does:
``Best-Genotype=Genotype(normal=[[('max_pooling_3x3',0),...]],normal_concat=range(2,4),...)``.

    python examples/nas-darts/trial.py --algorithm-settings="{'num_epochs': '3', ...}" \\
        --search-space="['max_pooling_3x3', 'skip_connection']" --num-layers="2"
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import torch
from supernet import NONE, Genotype, Supernet
from torch import nn


def katib_json(text: str) -> Any:
    """A Katib NAS argument as Python data (Katib writes JSON with ``'`` for ``"``)."""
    return json.loads(text.replace("'", '"'))


def digits() -> tuple[torch.Tensor, ...]:
    """scikit-learn's digits as (N, 1, 8, 8) tensors in [0, 1].

    Returns:
        x and y of the weight half, the alpha half (together a fixed stratified 80%), and
        the held-out 20% that ``Validation-Accuracy`` is measured on.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.2,
                                                      random_state=0, stratify=y)
    x_w, x_a, y_w, y_a = train_test_split(x_train, y_train, test_size=0.5, random_state=0,
                                          stratify=y_train)
    images = [torch.tensor(a).float().view(-1, 1, 8, 8) for a in (x_w, x_a, x_val)]
    labels = [torch.tensor(a).long() for a in (y_w, y_a, y_val)]
    return images[0], labels[0], images[1], labels[1], images[2], labels[2]


def search(model: Supernet, primitives: list[str], s: dict[str, Any]) -> Genotype:
    """First-order DARTS for ``num_epochs``; returns the genotype of the most accurate epoch."""
    x_w, y_w, x_a, y_a, x_val, y_val = digits()
    epochs, batch_size = int(s["num_epochs"]), s["batch_size"]
    # batch_size may be "None" in Katib's settings: then each step sees a whole half.
    batch_size = len(x_w) if batch_size is None else int(batch_size)
    w_optim = torch.optim.SGD(model.weights(), float(s["w_lr"]),
                              momentum=float(s["w_momentum"]),
                              weight_decay=float(s["w_weight_decay"]))
    alpha_optim = torch.optim.Adam(model.alphas(), float(s["alpha_lr"]), betas=(0.5, 0.999),
                                   weight_decay=float(s["alpha_weight_decay"]))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(w_optim, epochs,
                                                          eta_min=float(s["w_lr_min"]))
    loss_fn, print_step = nn.CrossEntropyLoss(), int(s["print_step"])
    best, best_genotype = -1.0, model.genotype(primitives)
    for epoch in range(1, epochs + 1):
        model.train()
        # The halves differ by at most one sample, so zip leaves at most one batch out.
        batches = zip(torch.randperm(len(x_w)).split(batch_size),
                      torch.randperm(len(x_a)).split(batch_size), strict=False)
        for step, (w_batch, a_batch) in enumerate(batches):
            # First order: the alpha gradient is taken at the current weights, without
            # DARTS's unrolled weight step (half the cost, and close enough for a small net).
            alpha_optim.zero_grad()
            loss_fn(model(x_a[a_batch]), y_a[a_batch]).backward(inputs=model.alphas())
            alpha_optim.step()
            w_optim.zero_grad()
            loss = loss_fn(model(x_w[w_batch]), y_w[w_batch])
            loss.backward(inputs=model.weights())
            nn.utils.clip_grad_norm_(model.weights(), float(s["w_grad_clip"]))
            w_optim.step()
            if step % print_step == 0:
                print(f"epoch {epoch}/{epochs} step {step}: train loss {loss.item():.4f}")
        schedule.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_val).argmax(dim=1) == y_val).float().mean().item()
        current = model.genotype(primitives)
        print(f"epoch {epoch}/{epochs} genotype {current}")
        print(f"Validation-Accuracy={accuracy:.6f}", flush=True)
        if accuracy > best:
            best, best_genotype = accuracy, current
    return best_genotype


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithm-settings", required=True)
    parser.add_argument("--search-space", required=True)
    parser.add_argument("--num-layers", required=True)
    args = parser.parse_args()

    settings = katib_json(args.algorithm_settings)
    primitives = [*katib_json(args.search_space), NONE]
    torch.manual_seed(0)
    # One thread: these small convolutions gain little from more, and cores stay free for
    # other trials.
    torch.set_num_threads(1)
    try:
        model = Supernet(primitives, int(args.num_layers), int(settings["num_nodes"]),
                         int(settings["init_channels"]), int(settings["stem_multiplier"]))
    except ValueError as error:
        sys.exit(f"error: {error}")
    print(f"candidates: {primitives}; settings: {settings}")
    genotype = search(model, primitives, settings)
    print(f"Best-Genotype={str(genotype).replace(' ', '')}")


if __name__ == "__main__":
    main()
