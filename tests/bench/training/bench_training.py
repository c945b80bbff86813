#!/usr/bin/python3
"""PyTorch side of bench_training: trains the model a ModelSpec JSON describes, exactly as
training/Trainer.cpp does (Adam, cross-entropy, shuffled mini-batches, NHWC flatten), and
prints {"seconds_per_epoch": [...]} as JSON.

    /usr/bin/python3 bench_training.py CASE.json
CASE.json: {"spec": ModelSpec, "data": "x.f32", "labels": "y.i32", "count": N,
            "batch_size": B, "epochs": E, "threads": T, "lr": LR}
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.layers = spec["layers"]
        shape = list(spec["input_shape"])
        self.mods = nn.ModuleList()
        for l in self.layers:
            k = l["kind"]
            m = nn.Identity()
            if k in ("conv2d", "depthwise_conv2d"):
                cin = shape[2]
                cout = l["out"] if k == "conv2d" else cin
                m = nn.Conv2d(cin, cout, tuple(l["kernel"]), stride=tuple(l["stride"]),
                              padding=tuple(l["pad"]), groups=1 if k == "conv2d" else cin)
                h = (shape[0] + 2 * l["pad"][0] - l["kernel"][0]) // l["stride"][0] + 1
                w = (shape[1] + 2 * l["pad"][1] - l["kernel"][1]) // l["stride"][1] + 1
                shape = [h, w, cout]
            elif k == "dense":
                m = nn.Linear(int(np.prod(shape)), l["out"])
                shape = [l["out"]]
            elif k == "batch_norm":
                m = nn.BatchNorm2d(shape[2]) if len(shape) == 3 else nn.BatchNorm1d(shape[0])
            elif k in ("max_pool", "avg_pool"):
                shape = [(shape[0] - l["kernel"][0]) // l["stride"][0] + 1,
                         (shape[1] - l["kernel"][1]) // l["stride"][1] + 1, shape[2]]
            elif k == "global_avg_pool":
                shape = [shape[2]]
            elif k == "flatten":
                shape = [int(np.prod(shape))]
            self.mods.append(m)

    def forward(self, x):
        for l, m in zip(self.layers, self.mods):
            k = l["kind"]
            if k in ("conv2d", "depthwise_conv2d", "dense", "batch_norm"):
                x = m(x)
            elif k == "relu":
                x = torch.relu(x)
            elif k == "relu6":
                x = torch.clamp(x, 0, 6)
            elif k == "max_pool":
                x = nn.functional.max_pool2d(x, tuple(l["kernel"]), tuple(l["stride"]))
            elif k == "avg_pool":
                x = nn.functional.avg_pool2d(x, tuple(l["kernel"]), tuple(l["stride"]))
            elif k == "global_avg_pool":
                x = x.mean(dim=(2, 3))
            elif k == "flatten":
                x = x.permute(0, 2, 3, 1).flatten(1) if x.dim() == 4 else x.flatten(1)
            elif k == "dropout":
                x = nn.functional.dropout(x, l["p"], self.training)
        return x


def main():
    case = json.load(open(sys.argv[1]))
    torch.set_num_threads(case["threads"])
    torch.manual_seed(1)
    spec = case["spec"]
    n = case["count"]
    x = torch.from_numpy(np.fromfile(case["data"], dtype=np.float32).reshape([n] + spec["input_shape"]))
    if x.dim() == 4:
        x = x.permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(np.fromfile(case["labels"], dtype=np.int32).astype(np.int64))
    net = Net(spec)
    opt = torch.optim.Adam(net.parameters(), lr=case["lr"])
    b = case["batch_size"]
    times = []
    for _ in range(case["epochs"]):
        t0 = time.perf_counter()
        net.train()
        order = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for s in range(0, n, b):
            idx = order[s:s + b]
            if len(idx) < 2:
                break
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            out = net(xb)
            loss = nn.functional.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds_per_epoch": times, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
