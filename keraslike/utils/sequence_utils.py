"""`pad_sequences`: pad or truncate variable-length sequences into one NumPy array."""

import numpy as np


def pad_sequences(
    sequences,
    maxlen=None,
    dtype="int32",
    padding="pre",
    truncating="pre",
    value=0.0,
):
    """Pads sequences to the same length.

    Turns a list of `num_samples` sequences (lists of integers, or arrays whose
    items share one shape) into a NumPy array of shape
    `(num_samples, num_timesteps) + item_shape`. `num_timesteps` is `maxlen` if
    given, else the length of the longest sequence. Shorter sequences are padded
    with `value`; longer ones are truncated. `padding` and `truncating` say at which
    end; the default for both is the start (`"pre"`).

    Args:
        sequences: List of sequences (each a list of integers, or an array).
        maxlen: Optional int, the length of every output sequence. If `None`, the
            length of the longest sequence.
        dtype: Type of the output (default `"int32"`). Use `object` to pad
            variable-length strings.
        padding: `"pre"` or `"post"`: pad before or after each sequence.
        truncating: `"pre"` or `"post"`: drop values from the start or the end of
            sequences longer than `maxlen`.
        value: Float or string, the padding value (default `0.0`).

    Returns:
        A NumPy array of shape `(len(sequences), maxlen) + item_shape`.

    Example:

    >>> keras.utils.pad_sequences([[1], [2, 3], [4, 5, 6]])
    array([[0, 0, 1],
           [0, 2, 3],
           [4, 5, 6]], dtype=int32)
    >>> keras.utils.pad_sequences([[1], [2, 3], [4, 5, 6]], padding="post", maxlen=2)
    array([[1, 0],
           [2, 3],
           [5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths = []
    sample_shape = None
    for s in sequences:
        try:
            lengths.append(len(s))
        except TypeError as e:
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {s}"
            ) from e
        if sample_shape is None and len(s):
            # Items' shape, taken from the first non-empty sequence.
            sample_shape = np.asarray(s).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = np.max(lengths)

    is_dtype_str = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_dtype_str:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')

    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {idx} "
                f"is different from expected shape {sample_shape}"
            )
        if padding == "post":
            out[idx, : len(kept)] = kept
        else:
            out[idx, -len(kept) :] = kept
    return out
