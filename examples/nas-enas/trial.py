"""An ENAS trial: build the proposed network in PyTorch and train it briefly on digits (8x8).

Katib passes ``--architecture`` and ``--nn_config`` as its ENAS service writes them (JSON with
single quotes). ``architecture`` has one entry per layer, ``[op_id, skip_0, ..., skip_{i-1}]``;
``nn_config["embedding"]`` says what each op id is (``opt_type`` and ``opt_params``). The
network is trained on a fixed stratified 80/20 split of scikit-learn's digits, and the trial
prints ``Validation-Accuracy=<v>`` after every epoch for the StdOut collector.

    python examples/nas-enas/trial.py --architecture="[[0], [5, 1]]" --nn_config="{...}"
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import torch
from torch import nn

OPERATIONS = ("convolution", "separable_convolution", "depthwise_convolution", "reduction")
POOLS = {"max_pooling": nn.MaxPool2d, "avg_pooling": nn.AvgPool2d}


def katib_json(text: str) -> Any:
    """A Katib NAS argument as Python data (Katib writes JSON with ``'`` for ``"``)."""
    return json.loads(text.replace("'", '"'))


def operation(op: dict[str, Any], channels: int) -> nn.Module:
    """The layer for one ``embedding`` entry, taking ``channels`` input channels.

    Raises:
        ValueError: For an operation (or reduction) type this trial cannot build.
    """
    kind, p = op["opt_type"], op["opt_params"]
    if kind not in OPERATIONS:
        raise ValueError(f"unknown operation type {kind!r} (op id {op['opt_id']}); this trial "
                         f"builds {', '.join(OPERATIONS)}")
    if kind == "reduction":
        if p["reduction_type"] not in POOLS:
            raise ValueError(f"unknown reduction_type {p['reduction_type']!r} (op id "
                             f"{op['opt_id']}); this trial builds {', '.join(POOLS)}")
        # ceil_mode keeps a 1x1 map 1x1, so any number of reductions fits 8x8 images.
        return POOLS[p["reduction_type"]](int(p["pool_size"]), ceil_mode=True)
    size, stride = int(p["filter_size"]), int(p["stride"])
    # "same" padding only exists for stride 1; otherwise pad like an odd kernel would.
    padding: int | str = "same" if stride == 1 else size // 2
    if kind == "convolution":
        filters = int(p["num_filter"])
        conv: nn.Module = nn.Conv2d(channels, filters, size, stride, padding, bias=False)
    else:
        filters = channels * int(p["depth_multiplier"])
        conv = nn.Conv2d(channels, filters, size, stride, padding, groups=channels, bias=False)
        if kind == "separable_convolution":  # depthwise, then pointwise
            conv = nn.Sequential(conv, nn.Conv2d(filters, int(p["num_filter"]), 1, bias=False))
            filters = int(p["num_filter"])
    return nn.Sequential(conv, nn.BatchNorm2d(filters), nn.ReLU())


def adapter(source: torch.Size, target: torch.Size) -> nn.Module:
    """Reshape a skipped layer's output (C, H, W) to another layer's, to be added to it."""
    steps: list[nn.Module] = []
    if source[1:] != target[1:]:
        steps.append(nn.AdaptiveAvgPool2d(tuple(target[1:])))
    if source[0] != target[0]:
        steps += [nn.Conv2d(source[0], target[0], 1, bias=False), nn.BatchNorm2d(target[0])]
    return nn.Sequential(*steps)


class Network(nn.Module):
    """The layers Katib proposed, with their skip connections, then a linear classifier."""

    def __init__(self, architecture: list[list[int]], nn_config: dict[str, Any]) -> None:
        super().__init__()
        height, width, channels = nn_config["input_sizes"]
        embedding = nn_config["embedding"]
        self.skips = [[j for j, flag in enumerate(layer[1:]) if flag] for layer in architecture]
        self.layers = nn.ModuleList()
        self.adapters = nn.ModuleList()
        # Shapes come from a dummy batch, so every operation's size arithmetic stays in torch.
        x = torch.zeros(2, channels, height, width)
        shapes: list[torch.Size] = []
        for layer, skips in zip(architecture, self.skips, strict=True):
            # eval(): the dummy batch must not move BatchNorm's running statistics.
            self.layers.append(operation(embedding[str(layer[0])], x.shape[1]).eval())
            with torch.no_grad():
                x = self.layers[-1](x)
            # A skip adds earlier outputs to this layer's output (rather than concatenating
            # them), so a layer's shape, and every later layer, does not depend on its skips.
            self.adapters.append(nn.ModuleList(adapter(shapes[j], x.shape[1:]) for j in skips))
            shapes.append(x.shape[1:])
        self.classifier = nn.Linear(x.shape[1], nn_config["output_sizes"][0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs: list[torch.Tensor] = []
        for layer, skips, adapters in zip(self.layers, self.skips, self.adapters, strict=True):
            x = layer(x)
            for j, adapt in zip(skips, adapters, strict=True):
                x = x + adapt(outputs[j])
            outputs.append(x)
        return self.classifier(x.mean(dim=(2, 3)))


def digits() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn's digits as (N, 1, 8, 8) tensors in [0, 1]: a fixed stratified 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    parts = train_test_split(x / 16.0, y, test_size=0.2, random_state=0, stratify=y)
    x_train, x_val, y_train, y_val = (torch.tensor(a) for a in parts)
    return (x_train.float().view(-1, 1, 8, 8), y_train.long(),
            x_val.float().view(-1, 1, 8, 8), y_val.long())


def train(model: nn.Module, epochs: int, batch_size: int, lr: float) -> None:
    """Adam, cosine-annealed, on the training part; prints validation accuracy every epoch."""
    x_train, y_train, x_val, y_val = digits()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # Annealing to 0 steadies the last epochs, which a few-epoch run cannot afford to lose.
    steps = epochs * -(-len(x_train) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, epochs + 1):
        model.train()
        for batch in torch.randperm(len(x_train)).split(batch_size):
            optimizer.zero_grad()
            loss_fn(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
            schedule.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_val).argmax(dim=1) == y_val).float().mean().item()
        print(f"epoch {epoch}/{epochs}")
        print(f"Validation-Accuracy={accuracy:.6f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", required=True)
    parser.add_argument("--nn_config", required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.02)
    args = parser.parse_args()

    nn_config = katib_json(args.nn_config)
    if (nn_config["input_sizes"], nn_config["output_sizes"]) != ([8, 8, 1], [10]):
        sys.exit(f"error: this trial trains on digits, 8x8x1 images of 10 classes; nn_config "
                 f"has input_sizes {nn_config['input_sizes']}, "
                 f"output_sizes {nn_config['output_sizes']}")
    torch.manual_seed(0)
    torch.set_num_threads(1)  # trials run side by side, one core each
    try:
        model = Network(katib_json(args.architecture), nn_config)
    except ValueError as error:
        sys.exit(f"error: {error}")
    print(model)
    train(model, args.epochs, args.batch_size, args.lr)


if __name__ == "__main__":
    main()
