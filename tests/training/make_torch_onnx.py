#!/usr/bin/python3
"""Exports small PyTorch models with torch.onnx.export (opset 13) for the ONNX import test,
with reference outputs computed by PyTorch itself.

    /usr/bin/python3 make_torch_onnx.py OUTDIR

Writes OUTDIR/<name>.onnx for cnn_gap, cnn_flatten, conv1d, mlp, unsupported and
OUTDIR/references.json: {name: {"shape": [...], "inputs": [[...]], "outputs": [[...]]}}
(inputs NCHW / NCL / NF, flat, as ONNX sees them). Needs Debian's python3-torch.
"""
import json
import os
import sys

import torch
import torch.nn as nn


class CnnGap(nn.Module):
    """Conv + BN + ReLU, depthwise + ReLU6, max / average pooling, global average pooling."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 12, 1)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        x = nn.functional.max_pool2d(x, 2)
        x = nn.functional.relu6(self.dw(x))
        x = nn.functional.avg_pool2d(torch.relu(self.pw(x)), 2)
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return torch.softmax(self.fc(x), dim=1)


class CnnFlatten(nn.Module):
    """Flatten of an NCHW tensor into a Linear layer (column order C, H, W), residual add,
    mean over the spatial axes (ReduceMean) concatenated."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, (3, 3), stride=(2, 1), padding=(1, 1))
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 5 * 6 + 4, 3)

    def forward(self, x):
        y = torch.relu(self.conv1(x))
        y = y + torch.relu(self.conv2(y))
        m = y.mean(dim=(2, 3))
        return self.fc(torch.cat([torch.flatten(y, 1), m], dim=1))


class Conv1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(3, 8, 5, padding=2)
        self.bn = nn.BatchNorm1d(8)
        self.c2 = nn.Conv1d(8, 8, 3, stride=2)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = torch.relu(self.bn(self.c1(x)))
        x = nn.functional.max_pool1d(x, 2)
        x = torch.relu(self.c2(x)).mean(dim=2)
        return self.fc(x)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(10, 16)
        self.bn = nn.BatchNorm1d(16)
        self.b = nn.Linear(16, 3)

    def forward(self, x):
        return torch.softmax(self.b(torch.clamp(self.bn(self.a(x)), 0.0, 6.0)), dim=-1)


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)

    def forward(self, x):
        return torch.sin(self.a(x))


def randomize_bn(model):
    # Non-trivial running statistics, as after training.
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    models = {
        "cnn_gap": (CnnGap(), (1, 2, 8, 8)),
        "cnn_flatten": (CnnFlatten(), (1, 1, 10, 6)),
        "conv1d": (Conv1d(), (1, 3, 32)),
        "mlp": (Mlp(), (1, 10)),
        "unsupported": (Unsupported(), (1, 4)),
    }
    refs = {}
    for name, (model, shape) in models.items():
        randomize_bn(model)
        model.eval()
        torch.onnx.export(model, torch.randn(*shape), os.path.join(out, name + ".onnx"),
                          opset_version=13, input_names=["input"], output_names=["output"])
        inputs = [torch.randn(*shape) for _ in range(4)]
        with torch.no_grad():
            outputs = [model(x) for x in inputs]
        refs[name] = {"shape": list(shape),
                      "inputs": [x.flatten().tolist() for x in inputs],
                      "outputs": [y.flatten().tolist() for y in outputs]}
    with open(os.path.join(out, "references.json"), "w") as f:
        json.dump(refs, f)


if __name__ == "__main__":
    main()
