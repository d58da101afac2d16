"""Models shared by the benchmarks: keraslike graphs and the hand-written torch modules they face.

Each pair computes the same function with the same layers; `copy_weights` makes them equal so
the benchmarks can also check that outputs agree.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import keraslike as keras  # noqa: E402
from keraslike import layers  # noqa: E402


def keras_mlp():
    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="mnist_model")


class _SubclassedMLP(keras.Model):
    """The MLP as a subclassed Keras model (its sublayers called eagerly in `call`)."""

    def __init__(self):
        super().__init__(name="subclassed_mlp")
        self.hidden1 = layers.Dense(64, activation="relu")
        self.hidden2 = layers.Dense(64, activation="relu")
        self.head = layers.Dense(10)

    def call(self, x):
        return self.head(self.hidden2(self.hidden1(x)))


def keras_subclassed_mlp():
    model = _SubclassedMLP()
    model(torch.zeros(1, 784))
    return model


class TorchMLP(nn.Module):
    """784-64-64-10 with ReLU, written by hand."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def keras_chain(depth=50, width=32):
    inputs = keras.Input(shape=(width,))
    x = inputs
    for _ in range(depth):
        x = layers.Dense(width)(x)
    return keras.Model(inputs, x, name="chain")


class TorchChain(nn.Module):
    """`depth` Linear(width, width) layers in a row, written by hand."""

    def __init__(self, depth=50, width=32):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def keras_toy_resnet():
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="toy_resnet")


class TorchToyResNet(nn.Module):
    """The guide's toy ResNet written by hand on NHWC input (channels_last kernels)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 32, 3)
        self.c2 = nn.Conv2d(32, 64, 3)
        self.c3 = nn.Conv2d(64, 64, 3, padding=1)
        self.c4 = nn.Conv2d(64, 64, 3, padding=1)
        self.c5 = nn.Conv2d(64, 64, 3, padding=1)
        self.c6 = nn.Conv2d(64, 64, 3, padding=1)
        self.c7 = nn.Conv2d(64, 64, 3)
        self.fc1 = nn.Linear(64, 256)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)  # NHWC data -> NCHW view with channels_last strides
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x))
        b1 = F.max_pool2d(x, 3)
        x = F.relu(self.c3(b1))
        x = F.relu(self.c4(x))
        b2 = x + b1
        x = F.relu(self.c5(b2))
        x = F.relu(self.c6(x))
        b3 = x + b2
        x = F.relu(self.c7(b3))
        x = x.mean(dim=(2, 3))
        x = F.relu(self.fc1(x))
        x = self.drop(x)
        return self.fc2(x)


def copy_weights(keras_model, torch_model):
    """Copies the keraslike model's parameters into the hand-written module, in order."""
    ours = [p for p in keras_model.parameters()]
    theirs = [p for p in torch_model.parameters()]
    assert len(ours) == len(theirs), (len(ours), len(theirs))
    with torch.no_grad():
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape, (a.shape, b.shape)
            b.copy_(a)


def paired_timings(fn_a, fn_b, repeats=15, min_time=0.05, clock=time.perf_counter):
    """Times two functions alternately; returns the per-call times of each, per repeat.

    `clock=time.thread_time` counts this thread's CPU time only, which resists neighbours on a
    shared machine (time spent descheduled is not counted); use it for CPU-only measures.
    """
    number = 1
    while True:
        start = clock()
        for _ in range(number):
            fn_a()
        if clock() - start > min_time:
            break
        number *= 2
    times_a, times_b = [], []
    for _ in range(repeats):
        for fn, times in ((fn_a, times_a), (fn_b, times_b)):
            start = clock()
            for _ in range(number):
                fn()
            times.append((clock() - start) / number)
    return times_a, times_b


def ratio_report(label, times_ours, times_theirs):
    """Formats median times and the median / min-max of the paired ratios."""
    ratios = sorted(a / b for a, b in zip(times_ours, times_theirs))
    return (
        f"{label:<34} ours {statistics.median(times_ours) * 1e6:9.1f} us   "
        f"torch {statistics.median(times_theirs) * 1e6:9.1f} us   "
        f"ratio median {statistics.median(ratios):.3f} (min {ratios[0]:.3f}, max {ratios[-1]:.3f})"
    )
