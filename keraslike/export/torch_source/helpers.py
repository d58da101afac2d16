"""Source text of the small functions an ejected model may need, each included only when used.

They reproduce keraslike's (that is, Keras's) semantics on channels-last tensors with plain torch:
TensorFlow-style "same" padding (the odd element at the end), pooling that leaves padding out of
averages, and recurrent layers returning Keras's outputs.
"""

HELPERS = {
    "same_pads": '''
def same_pads(sizes, kernel_size, strides, dilation=None):
    """F.pad amounts for TensorFlow's "same" padding of the trailing len(sizes) dims (odd pad at the end)."""
    dilation = dilation or (1,) * len(sizes)
    pads = []
    for size, k, s, d in reversed(list(zip(sizes, kernel_size, strides, dilation))):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        pads += [total // 2, total - total // 2]
    return pads
''',
    "conv_channels_last": '''
def conv_channels_last(conv, x, padding="valid"):
    """Runs an nn.ConvNd on a channels-last tensor; padding "valid", "same" (TensorFlow's) or "causal"."""
    x = x.movedim(-1, 1)  # (B, C, *spatial): a view with channels_last strides, no copy
    if padding == "same":
        x = F.pad(x, same_pads(x.shape[2:], conv.kernel_size, conv.stride, conv.dilation))
    elif padding == "causal":
        x = F.pad(x, [(conv.kernel_size[0] - 1) * conv.dilation[0], 0])
    return conv(x).movedim(1, -1)
''',
    "conv_transpose_channels_last": '''
def conv_transpose_channels_last(conv, x, trim=None, extend=None):
    """Runs an nn.ConvTransposeNd on a channels-last tensor, with Keras's output geometry."""
    y = conv(x.movedim(-1, 1))
    if trim is not None:
        y = y[(slice(None), slice(None)) + tuple(slice(0, n - t) for n, t in zip(y.shape[2:], trim))]
    if extend is not None:
        y = F.pad(y, [p for e in reversed(extend) for p in (0, e)])
    return y.movedim(1, -1)
''',
    "pool_channels_last": '''
def pool_channels_last(x, mode, pool_size, strides, padding):
    """Max or average pooling of a channels-last tensor; "same" pads like TensorFlow and averages
    over the real elements only."""
    rank = len(pool_size)
    fn = {("max", 1): F.max_pool1d, ("max", 2): F.max_pool2d, ("max", 3): F.max_pool3d,
          ("average", 1): F.avg_pool1d, ("average", 2): F.avg_pool2d, ("average", 3): F.avg_pool3d}[(mode, rank)]
    x = x.movedim(-1, 1)
    if padding == "same":
        pads = same_pads(x.shape[2:], pool_size, strides)
        if mode == "max":
            y = fn(F.pad(x, pads, value=float("-inf")), pool_size, strides)
        else:
            ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
            y = fn(F.pad(x, pads), pool_size, strides) / fn(F.pad(ones, pads), pool_size, strides)
    else:
        y = fn(x, pool_size, strides)
    return y.movedim(1, -1)
''',
    "Normalize": '''
class Normalize(nn.Module):
    """Keras's Normalization layer: (x - mean) / max(sqrt(variance), epsilon), or its inverse."""

    def __init__(self, shape, epsilon, invert=False):
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("variance", torch.ones(shape))
        self.epsilon, self.invert = epsilon, invert

    def forward(self, x):
        std = torch.clamp(torch.sqrt(self.variance), min=self.epsilon)
        return self.mean + x * std if self.invert else (x - self.mean) / std
''',
    "KerasBatchNorm": '''
class KerasBatchNorm(nn.Module):
    """Batch normalization over dim 1 with Keras's optional gamma (`scale`) and beta (`center`)."""

    def __init__(self, features, eps, momentum, scale=True, center=True):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(features)) if scale else None
        self.bias = nn.Parameter(torch.zeros(features)) if center else None
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))
        self.eps, self.momentum = eps, momentum

    def forward(self, x):
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, self.training, self.momentum, self.eps
        )
''',
    "SeparableConv": '''
class SeparableConv(nn.Module):
    """A depthwise convolution (groups = input channels) followed by a 1x1 pointwise one."""

    def __init__(self, rank, channels, depth_multiplier, filters, kernel_size, stride, dilation, bias=True):
        super().__init__()
        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[rank - 1]
        self.depthwise = conv(
            channels, channels * depth_multiplier, kernel_size, stride=stride, dilation=dilation,
            groups=channels, bias=False,
        )
        self.pointwise = conv(channels * depth_multiplier, filters, 1, bias=bias)
''',
    "recurrent": '''
def recurrent(rnn, x, return_sequences, go_backwards):
    """Runs a batch-first nn.LSTM/GRU/RNN as a Keras recurrent layer: the last output, or all of
    them; `go_backwards` reads the sequence reversed (and returns it reversed, as Keras does)."""
    if go_backwards:
        x = x.flip(1)
    outputs, _ = rnn(x)
    return outputs if return_sequences else outputs[:, -1]
''',
}

# Helpers that call other helpers.
REQUIRES = {
    "conv_channels_last": ("same_pads",),
    "pool_channels_last": ("same_pads",),
}


def helper_source(names):
    """The source of the named helpers and those they need, in a stable order."""
    needed = set()
    for name in names:
        needed.add(name)
        needed.update(REQUIRES.get(name, ()))
    return "".join(HELPERS[name] for name in HELPERS if name in needed)
