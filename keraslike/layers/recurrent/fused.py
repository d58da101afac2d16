"""torch's fused recurrent kernels (`torch._VF.lstm/gru/rnn_tanh/rnn_relu`, cuDNN on CUDA).

The built-in layers keep their weights in `nn.LSTM`'s layout, so these kernels take the
parameters as they are: no per-call copy or transpose. Right-padded masks (what
`Embedding(mask_zero=True)` gives for padded batches) run packed, like `pack_padded_sequence`
with `nn.LSTM`; other masks take the step loop.
"""

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

_KERNELS = {
    "LSTM": lambda: torch._VF.lstm,
    "GRU": lambda: torch._VF.gru,
    "RNN_TANH": lambda: torch._VF.rnn_tanh,
    "RNN_RELU": lambda: torch._VF.rnn_relu,
}


def _tracing():
    return torch.compiler.is_compiling() or torch.jit.is_tracing()


def right_padded_lengths(mask):
    """Returns the lengths (CPU int64) of a strictly right-padded mask, else None.

    A mask qualifies when every row is `True` then `False` and no row is empty. Checking it
    reads one boolean from the device (packing needs the lengths on the host anyway), so it is
    skipped (None: use the step loop) under `torch.compile`/tracing and on `meta` tensors.
    """
    if mask.device.type == "meta" or _tracing() or mask.dim() != 2:
        return None
    lengths = mask.sum(dim=1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    ok = ((steps.unsqueeze(0) < lengths.unsqueeze(1)) == mask).all() & (lengths > 0).all()
    if not bool(ok):
        return None
    return lengths.cpu()


def run(mode, x, hx, params, has_biases, lengths=None):
    """Runs one fused single-layer, unidirectional recurrence over batch-first `x`.

    Args:
        mode: `"LSTM"`, `"GRU"`, `"RNN_TANH"` or `"RNN_RELU"`.
        x: `(batch, time, features)`.
        hx: `(1, batch, units)`, or the pair `(h, c)` of them for LSTM.
        params: `[weight_ih, weight_hh, bias_ih, bias_hh]` (or the two weights without biases),
            in torch's layout.
        has_biases: Whether `params` holds the biases.
        lengths: Optional CPU lengths of right-padded sequences (packed run).

    Returns:
        `(outputs (batch, time, units), [final states, each (batch, units)])`; with `lengths`,
        outputs past a sequence's length are zero.
    """
    kernel = _KERNELS[mode]()
    train = torch.is_grad_enabled()  # cuDNN keeps what backward needs only in training mode
    if lengths is None:
        result = kernel(x, hx, params, has_biases, 1, 0.0, train, False, True)
        return result[0], [s[0] for s in result[1:]]
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    order, inverse = packed.sorted_indices, packed.unsorted_indices
    if mode == "LSTM":
        hx = (hx[0].index_select(1, order), hx[1].index_select(1, order))
    else:
        hx = hx.index_select(1, order)
    result = kernel(packed.data, packed.batch_sizes, hx, params, has_biases, 1, 0.0, train, False)
    out = PackedSequence(result[0], packed.batch_sizes, order, inverse)
    outputs, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return outputs, [s[0].index_select(0, inverse) for s in result[1:]]


def flatten_for_cudnn(tensors, mode, input_size, hidden_size):
    """Makes the weights views into one cuDNN-layout buffer (as `nn.LSTM.flatten_parameters`).

    Without this, cuDNN compacts the weights into a temporary buffer at every call. Only acts
    on CUDA tensors of one dtype when cuDNN accepts them; otherwise does nothing.

    Args:
        tensors: `[weight_ih, weight_hh, bias_ih, bias_hh]` or the two weights.
        mode: `"LSTM"`, `"GRU"`, `"RNN_TANH"` or `"RNN_RELU"`.
    """
    if not tensors or not all(isinstance(t, torch.Tensor) for t in tensors):
        return False
    first = tensors[0]
    if not first.is_cuda or not torch.backends.cudnn.is_available():
        return False
    if any(t.dtype != first.dtype or not torch.backends.cudnn.is_acceptable(t) for t in tensors):
        return False
    if len({t.data_ptr() for t in tensors}) != len(tensors):
        return False
    import torch.backends.cudnn.rnn as cudnn_rnn

    with torch.cuda.device_of(first), torch.no_grad():
        if not torch._use_cudnn_rnn_flatten_weight():
            return False
        torch._cudnn_rnn_flatten_weight(
            tensors, len(tensors), input_size, cudnn_rnn.get_cudnn_mode(mode), hidden_size,
            0, 1, True, False,
        )
    return True
