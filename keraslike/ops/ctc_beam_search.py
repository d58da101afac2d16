"""CTC prefix beam search (the `strategy="beam_search"` of `ops.nn.ctc_decode`).

Each beam entry is a collapsed label prefix with two log-probabilities: of the alignments that
end in a label ("emit") and of those that end in a blank. A step extends every entry by every
class (a blank keeps the prefix; a label equal to the prefix's last one keeps it when coming
from "emit", extends it when coming from "blank"), merges equal prefixes in log space and keeps
the `beam_width` best. Ties break as in Keras (its JAX reference): classes are numbered in
reverse and prefixes are ordered lexicographically before a stable sort.

The prefixes kept depend on the values, so decoding reads each sequence length and each step's
number of distinct prefixes on the host, as Keras's own torch implementation does.
"""

import torch

_PAD = -1


def _merge(inverse, scores, size):
    """Log-sum-exp of `scores` per bucket `inverse` (empty buckets give -inf)."""
    top = scores.max()
    out = torch.zeros(size, dtype=scores.dtype, device=scores.device)
    out.scatter_add_(0, inverse, torch.exp(scores - top))
    return torch.log(out) + top


def _unique(paths, min_rows):
    """Distinct rows in lexicographic order, padded with `_PAD` rows to `min_rows`."""
    unique, inverse = torch.unique(paths, dim=0, return_inverse=True)
    if unique.shape[0] < min_rows:
        fill = unique.new_full((min_rows - unique.shape[0], paths.shape[1]), _PAD)
        unique = torch.cat([unique, fill])
    return unique, inverse.reshape(-1)


def _extend(paths, scores, masked, x, blank):
    """Every entry extended by every class: `(entries * classes)` new entries."""
    classes = x.shape[0]
    paths = paths.repeat_interleave(classes, dim=0)
    prev_masked = masked.repeat_interleave(classes)
    scores = scores.repeat_interleave(classes) + x.repeat(paths.shape[0] // classes)
    rows = torch.arange(paths.shape[0], device=paths.device)
    tail = (paths == _PAD).to(torch.int32).argmax(dim=1)  # where the next label goes
    last = torch.where(tail == 0, _PAD, paths[rows, (tail - 1).clamp(min=0)])
    labels = torch.arange(classes, device=paths.device, dtype=paths.dtype)
    labels = torch.where(labels == blank, _PAD, labels).repeat(paths.shape[0] // classes)
    masked = labels == _PAD  # the alignment now ends in a blank
    labels = torch.where(~prev_masked & (last == labels), _PAD, labels)  # a repeat collapses
    paths = paths.clone()
    paths[rows, tail] = labels
    return paths, scores, masked


def _prune(paths, scores, masked, beam_width):
    """Equal prefixes merged; the `beam_width` best kept, as an emit half and a blank half."""
    unique, inverse = _unique(paths, beam_width)
    size = unique.shape[0]
    emit = _merge(inverse, torch.where(masked, -torch.inf, scores), size)
    blank = _merge(inverse, torch.where(masked, scores, -torch.inf), size)
    best = torch.argsort(torch.logaddexp(emit, blank), stable=True)[-beam_width:]
    paths = unique[best].repeat(2, 1)
    masked = torch.arange(2 * beam_width, device=paths.device) >= beam_width
    return paths, torch.cat([emit[best], blank[best]]), masked


def _decode_one(x, length, beam_width, top_paths, blank):
    """One sequence: `x` `(time, classes)` log-probabilities with reversed class numbers."""
    time, classes = x.shape
    n_init = min(classes, beam_width)
    first = torch.argsort(x[0], stable=True)[-n_init:]
    paths = torch.full((2 * beam_width, time), _PAD, dtype=torch.int64, device=x.device)
    paths[:n_init, 0] = torch.where(first == blank, _PAD, first)
    scores = torch.full((2 * beam_width,), -torch.inf, dtype=x.dtype, device=x.device)
    scores[:n_init] = x[0, first]
    masked = paths[:, 0] == _PAD
    for t in range(1, length):
        paths, scores, masked = _extend(paths, scores, masked, x[t], blank)
        paths, scores, masked = _prune(paths, scores, masked, beam_width)
    unique, inverse = _unique(paths, top_paths)
    totals = _merge(inverse, scores, unique.shape[0])
    best = torch.argsort(totals, stable=True)[-top_paths:].flip(0)
    return unique[best], totals[best]


def ctc_beam_search_decode(inputs, sequence_lengths, beam_width, top_paths, mask_index):
    """Beam search over `inputs` `(batch, time, classes)` logits.

    Returns:
        `(paths, scores)`: `paths` `(top_paths, batch, time)` int32 label sequences padded with
        -1, best first; `scores` `(batch, top_paths)`, their log-probabilities.
    """
    batch, time, classes = inputs.shape
    if beam_width < 1 or top_paths < 1:
        raise ValueError(
            "`ctc_decode` beam search needs beam_width >= 1 and top_paths >= 1. Received: "
            f"beam_width={beam_width}, top_paths={top_paths}"
        )
    if inputs.device.type == "meta":  # shape inference of a symbolic call: no values to decode
        return (torch.empty((top_paths, batch, time), dtype=torch.int32, device="meta"),
                torch.empty((batch, top_paths), dtype=inputs.dtype, device="meta"))
    if mask_index is None:
        mask_index = classes - 1
    log_probs = torch.log_softmax(inputs, dim=-1).flip(2)
    blank = classes - 1 - mask_index
    lengths = sequence_lengths.to(torch.int64).tolist()  # host read: the loops depend on it
    results = [
        _decode_one(log_probs[b], int(min(lengths[b], time)), beam_width, top_paths, blank)
        for b in range(batch)
    ]
    paths = torch.stack([p for p, _ in results], dim=1)  # (top_paths, batch, time)
    paths = torch.where(paths == _PAD, _PAD, classes - 1 - paths).to(torch.int32)
    return paths, torch.stack([s for _, s in results])
