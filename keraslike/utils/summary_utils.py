"""`model.summary()`: Keras 3's table, drawn with the same box characters, widths and wrapping.

Keras renders its summary through `rich`; this module reproduces that layout (column widths
from `positions`, rich's even reduction to fit `line_length`, word wrapping with an ellipsis for
over-long words) in plain Python, fast enough for models with thousands of layers.
"""

import math
import re
import shutil

_DTYPE_BYTES = {
    "float16": 2,
    "bfloat16": 2,
    "float32": 4,
    "float64": 8,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "int32": 4,
    "int64": 8,
    "bool": 1,
}


def count_params(weights):
    """Number of scalars in a list of weights, each counted once."""
    unique = {id(w): w for w in weights}.values()
    return int(sum(math.prod(w.shape) for w in unique))


def weight_memory_size(weights):
    """Bytes taken by a list of weights, each counted once."""
    unique = {id(w): w for w in weights}.values()
    return sum(
        math.prod(w.shape) * _DTYPE_BYTES.get(str(w.dtype).replace("torch.", ""), 4) for w in unique
    )


def readable_memory_size(size):
    """Formats a byte count as Keras does (`215.04 KB`)."""
    for unit in ["B", "KB", "MB", "GB", "TB", "PB"]:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _ratio_reduce(total, ratios, maximums, values):
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return list(values)
    remaining = total
    result = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _column_widths(positions, line_length, count):
    widths, current = [], 0
    for pos in positions:
        pos = pos if pos > 1 else int(pos * line_length)
        width = pos - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    widths = widths[:count]  # Keras builds one column per header, ignoring extra positions
    padded = [w + 2 for w in widths]
    available = line_length - (len(widths) + 1)
    if sum(padded) > available:
        padded = _ratio_reduce(sum(padded) - available, [1] * len(padded), padded, padded)
    elif sum(padded) < available:  # a table given a width expands to it (rich's rule)
        extra = _ratio_distribute(available - sum(padded), padded)
        padded = [w + e for w, e in zip(padded, extra)]
    return [w - 2 for w in padded]


def _ratio_distribute(total, ratios):
    total_ratio = sum(ratios)
    remaining = total
    result = []
    for ratio in ratios:
        share = math.ceil(ratio * remaining / total_ratio) if total_ratio > 0 else remaining
        result.append(share)
        total_ratio -= ratio
        remaining -= share
    return result


def _wrap(text, width):
    lines = []
    for paragraph in text.split("\n"):
        words = re.findall(r"\S+\s*", paragraph) or [""]
        words[0] = paragraph[: len(paragraph) - len(paragraph.lstrip())] + words[0]  # keep indent
        line = ""
        for word in words:
            if line and len(line) + len(word.rstrip()) > width:
                lines.append(line.rstrip())
                line = ""
            line += word
        lines.append(line.rstrip())
    return [ln if len(ln) <= width else ln[: width - 1] + "…" for ln in lines]


def _render_table(header, alignment, widths, rows):
    def render_row(cells):
        wrapped = [_wrap(str(c), w) for c, w in zip(cells, widths)]
        height = max(len(w) for w in wrapped)
        out = []
        for i in range(height):
            parts = []
            for lines, width, align in zip(wrapped, widths, alignment):
                text = lines[i] if i < len(lines) else ""
                if align == "right":
                    text = text.rjust(width)
                elif align == "center":
                    text = text.center(width)
                else:
                    text = text.ljust(width)
                parts.append(f" {text} ")
            out.append(parts)
        return out

    bars = ["━" * (w + 2) for w in widths]
    thin = ["─" * (w + 2) for w in widths]
    lines = ["┏" + "┳".join(bars) + "┓"]
    lines += ["┃" + "┃".join(parts) + "┃" for parts in render_row(header)]
    lines.append("┡" + "╇".join(bars) + "┩")
    for index, row in enumerate(rows):
        if index:
            lines.append("├" + "┼".join(thin) + "┤")
        lines += ["│" + "│".join(parts) + "│" for parts in render_row(row)]
    lines.append("└" + "┴".join(thin) + "┘")
    return lines


def _format_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _format_output_shape(layer):
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes:
        return "?"
    outputs = nodes[-1].output_tensors
    shapes = [_format_shape(t.shape) for t in outputs]
    if len(shapes) == 1:
        return shapes[0]
    return "[" + ", ".join(shapes) + "]"


def display_class_name(layer):
    """The class name Keras shows for a layer (`Functional` for functional models)."""
    name = getattr(layer, "_display_class_name", None)
    if name:
        return name
    if getattr(layer, "_is_graph_network", False) and type(layer).__name__ == "Model":
        return "Functional"
    return type(layer).__name__


def _is_sequential_like(model, nodes_by_depth):
    for nodes in nodes_by_depth.values():
        if len(nodes) > 1 or (len(nodes) == 1 and len(nodes[0].input_tensors) > 1):
            return False
    relevant = {n for nodes in nodes_by_depth.values() for n in nodes}
    for layer in model.layers:
        if sum(1 for n in layer._inbound_nodes if n in relevant) > 1:
            return False
    return True


def _layer_range(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2 or not all(isinstance(x, str) for x in layer_range):
        raise ValueError(
            f"layer_range must be a list or tuple of two layer names. Received: {layer_range}"
        )
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(
            f"Passed layer_names do not match the layer names in the model. Received: {layer_range}"
        )
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def summary_lines(
    model, line_length=None, positions=None, expand_nested=False, show_trainable=False, layer_range=None
):
    """Returns the lines of `model.summary()`."""
    graph = getattr(model, "_graph", None)
    is_functional = graph is not None and type(model).__name__ != "Sequential"
    relevant_nodes = set()
    if is_functional:
        layers = list(model._operations)
        nodes_by_depth = {}
        for node, depth in graph.node_depth.items():
            nodes_by_depth.setdefault(depth, []).append(node)
        sequential_like = _is_sequential_like(model, nodes_by_depth)
        relevant_nodes = set(graph.node_depth)
    else:
        layers = model.layers
        sequential_like = True

    if sequential_like:
        default_length, default_positions = 88, [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        alignment = ["left", "left", "right"]
    else:
        default_length, default_positions = 108, [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        alignment = ["left", "left", "right", "left"]
    positions = positions or default_positions
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        alignment.append("center")
    console_width = shutil.get_terminal_size().columns
    default_length = min(default_length, console_width - 4)
    line_length = line_length or default_length
    widths = _column_widths(positions, line_length, len(header))

    def connections(layer):
        parts = []
        for node in layer._inbound_nodes:
            if relevant_nodes and node not in relevant_nodes:
                continue
            for t in node.input_tensors:
                op, node_index, tensor_index = t._keras_history
                parts.append(f"{op.name}[{node_index}][{tensor_index}]")
        return ", ".join(parts) or "-"

    def fields(layer, prefix=""):
        if not hasattr(layer, "built"):
            params = "0"
        elif not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        row = [f"{prefix}{layer.name} ({display_class_name(layer)})", _format_output_shape(layer), params]
        if not sequential_like:
            row.append(connections(layer))
        if show_trainable:
            if hasattr(layer, "_stored_weights") and layer._stored_weights():
                row.append("Y" if layer.trainable else "N")
            else:
                row.append("-")
        return row

    def rows_for(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        rows = [fields(layer, prefix)]
        if expand_nested and getattr(layer, "layers", None) and hasattr(layer, "_graph"):
            for sub in layer.layers:
                rows.extend(rows_for(sub, level + 1))
        return rows

    start, stop = _layer_range(layers, layer_range)
    rows = []
    for layer in layers[start:stop]:
        rows.extend(rows_for(layer))

    trainable = model._stored_trainable_weights()
    non_trainable = model._stored_non_trainable_weights()
    trainable_count, trainable_size = count_params(trainable), weight_memory_size(trainable)
    frozen_count, frozen_size = count_params(non_trainable), weight_memory_size(non_trainable)
    total_count, total_size = trainable_count + frozen_count, trainable_size + frozen_size
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    optimizer_vars = list(getattr(optimizer, "variables", []) or []) if optimizer is not None else []
    if optimizer_vars and getattr(optimizer, "built", False):
        total_count += count_params(optimizer_vars)
        total_size += weight_memory_size(optimizer_vars)

    lines = [f'Model: "{model.name}"']
    # rich crops table lines at the console's width, whatever line_length asks for.
    lines += [line[:console_width] for line in _render_table(header, alignment, widths, rows)]
    lines.append(f" Total params: {total_count:,} ({readable_memory_size(total_size)})")
    lines.append(f" Trainable params: {trainable_count:,} ({readable_memory_size(trainable_size)})")
    lines.append(f" Non-trainable params: {frozen_count:,} ({readable_memory_size(frozen_size)})")
    if optimizer_vars and getattr(optimizer, "built", False):
        lines.append(
            f" Optimizer params: {count_params(optimizer_vars):,} "
            f"({readable_memory_size(weight_memory_size(optimizer_vars))})"
        )
    return lines


def print_summary(model, print_fn=None, **kwargs):
    """Prints `model.summary()`; with `print_fn`, calls it once with the whole text."""
    lines = summary_lines(model, **kwargs)
    if print_fn is None:
        for line in lines:
            print(line)
    else:
        print_fn("\n".join(lines) + "\n")
