"""The DARTS supernet for ``trial.py``: cells whose every edge mixes all candidate operations.

The candidates are named as Katib's darts service names them (``separable_convolution_3x3``,
``dilated_convolution_5x5``, ``avg_pooling_3x3``, ``max_pooling_3x3``, ``skip_connection``),
plus DARTS's ``none``. Cells and their reductions are laid out as in Katib's DARTS trial.
"""

from __future__ import annotations

from collections import namedtuple

import torch
import torch.nn.functional as F
from torch import nn

Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
NONE = "none"  # DARTS's zero operation: a candidate on every edge, never in the genotype


def relu_conv_bn(c_in: int, c_out: int) -> nn.Sequential:
    """ReLU, 1x1 convolution, BatchNorm: fits a cell input to the cell's channels."""
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False),
                         nn.BatchNorm2d(c_out, affine=False))


def dilated(channels: int, size: int, stride: int, dilation: int) -> list[nn.Module]:
    """ReLU, a (dilated) depthwise convolution keeping the map size / stride, 1x1, BatchNorm."""
    padding = dilation * (size - 1) // 2
    return [nn.ReLU(),
            nn.Conv2d(channels, channels, size, stride, padding, dilation, channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels, affine=False)]


class Zero(nn.Module):
    """No edge: zeros of the output's shape."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, ::self.stride, ::self.stride] * 0.0


class FactorizedReduce(nn.Module):
    """Halve the map with two offset stride-2 1x1 convolutions, so no pixel is dropped."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
                                   for _ in range(2))
        self.bn = nn.BatchNorm2d(c_out // 2 * 2, affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        # Padding first keeps the offset half as large as the other for odd map sizes too.
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1))


def candidate(name: str, channels: int, stride: int) -> nn.Module:
    """One candidate operation by name.

    Raises:
        ValueError: For an operation this trial cannot build.
    """
    if name == NONE:
        return Zero(stride)
    if name == "skip_connection":
        return nn.Identity() if stride == 1 else FactorizedReduce(channels, channels)
    kind, _, shape = name.rpartition("_")
    size = int(shape.partition("x")[0]) if shape.partition("x")[0].isdigit() else 0
    if kind == "avg_pooling" and size:
        pool: nn.Module = nn.AvgPool2d(size, stride, size // 2, count_include_pad=False)
        return nn.Sequential(pool, nn.BatchNorm2d(channels, affine=False))
    if kind == "max_pooling" and size:
        return nn.Sequential(nn.MaxPool2d(size, stride, size // 2),
                             nn.BatchNorm2d(channels, affine=False))
    if kind == "dilated_convolution" and size:
        return nn.Sequential(*dilated(channels, size, stride, 2))
    if kind == "separable_convolution" and size:  # two separable convolutions, as in DARTS
        return nn.Sequential(*dilated(channels, size, stride, 1), *dilated(channels, size, 1, 1))
    raise ValueError(f"unknown operation {name!r}; this trial builds separable_convolution_KxK, "
                     "dilated_convolution_KxK, avg_pooling_KxK, max_pooling_KxK and "
                     "skip_connection")


class MixedOp(nn.Module):
    """An edge: the softmax(alpha)-weighted sum of every candidate operation."""

    def __init__(self, primitives: list[str], channels: int, stride: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(candidate(p, channels, stride) for p in primitives)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return sum(w * op(x) for w, op in zip(weights, self.ops, strict=True))


class Cell(nn.Module):
    """Two inputs (the two previous cells), ``nodes`` intermediate nodes, their concatenation."""

    def __init__(self, primitives: list[str], nodes: int, c_prev_prev: int, c_prev: int,
                 channels: int, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        # After a reduction cell, the cell before it has twice this map size.
        self.pre0 = (FactorizedReduce(c_prev_prev, channels) if reduction_prev
                     else relu_conv_bn(c_prev_prev, channels))
        self.pre1 = relu_conv_bn(c_prev, channels)
        # Node i has an edge from both cell inputs and every earlier node; in a reduction
        # cell the edges from the inputs halve the map.
        self.edges = nn.ModuleList(
            nn.ModuleList(MixedOp(primitives, channels, 2 if reduction and j < 2 else 1)
                          for j in range(2 + i)) for i in range(nodes))

    def forward(self, s0: torch.Tensor, s1: torch.Tensor,
                weights: list[torch.Tensor]) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for edges, w in zip(self.edges, weights, strict=True):
            inputs = enumerate(zip(edges, states, strict=True))
            states.append(sum(edge(s, w[j]) for j, (edge, s) in inputs))
        return torch.cat(states[2:], dim=1)


class Supernet(nn.Module):
    """Stem, ``layers`` cells, global average pooling and a linear classifier.

    As in Katib's DARTS trial, one layer is a normal cell; with two layers the second is a
    reduction cell; with more, the cells at 1/3 and 2/3 of the depth are (doubling channels).
    """

    def __init__(self, primitives: list[str], layers: int, nodes: int, channels: int,
                 stem_multiplier: int, in_channels: int = 1, classes: int = 10) -> None:
        super().__init__()
        c_stem = stem_multiplier * channels
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(c_stem))
        c_prev_prev, c_prev, reduction_prev = c_stem, c_stem, False
        self.cells = nn.ModuleList()
        for i in range(layers):
            reduction = (layers == 2 and i == 1) or (
                layers > 2 and i in (layers // 3, 2 * layers // 3))
            channels *= 2 if reduction else 1
            self.cells.append(Cell(primitives, nodes, c_prev_prev, c_prev, channels, reduction,
                                   reduction_prev))
            c_prev_prev, c_prev, reduction_prev = c_prev, channels * nodes, reduction
        self.classifier = nn.Linear(c_prev, classes)
        self.alpha_normal = nn.ParameterList(
            nn.Parameter(1e-3 * torch.randn(2 + i, len(primitives))) for i in range(nodes))
        self.alpha_reduce = nn.ParameterList(
            nn.Parameter(1e-3 * torch.randn(2 + i, len(primitives)))
            for i in range(nodes if layers > 1 else 0))

    def alphas(self) -> list[nn.Parameter]:
        """The architecture parameters (one row of operation weights per edge)."""
        return [*self.alpha_normal, *self.alpha_reduce]

    def weights(self) -> list[nn.Parameter]:
        """Every other parameter: the operations' weights."""
        alphas = {id(a) for a in self.alphas()}
        return [p for p in self.parameters() if id(p) not in alphas]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        normal = [F.softmax(a, dim=-1) for a in self.alpha_normal]
        reduce = [F.softmax(a, dim=-1) for a in self.alpha_reduce]
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, reduce if cell.reduction else normal)
        return self.classifier(s1.mean(dim=(2, 3)))

    def genotype(self, primitives: list[str]) -> Genotype:
        """Each node keeps the 2 incoming edges whose strongest operation (not none) weighs most.

        ``primitives`` must end with ``none``.
        """
        def parse(alphas: nn.ParameterList) -> list[list[tuple[str, int]]]:
            gene = []
            for alpha in alphas:
                strongest, ops = F.softmax(alpha, dim=-1)[:, :-1].max(dim=1)
                gene.append([(primitives[ops[j]], j) for j in strongest.topk(2).indices.tolist()])
            return gene

        concat = range(2, 2 + len(self.alpha_normal))
        return Genotype(parse(self.alpha_normal), concat, parse(self.alpha_reduce), concat)
