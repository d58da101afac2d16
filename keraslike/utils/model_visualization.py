"""`keras.utils.plot_model` and `model_to_dot`: a model's graph drawn by Graphviz as Keras 3 does.

Each layer (or op) is one box whose label is an HTML-like table: a black title row with the
layer's name and class, then optional rows for the activation and for the input/output shapes,
output dtype and trainable state. Edges follow the graph's nodes, so multi-input and multi-output
models, shared layers and nested models draw as they run. With `expand_nested=True` a nested
functional or Sequential model becomes a dashed cluster, and edges go to the layers inside it.

`pydot` (the Python binding) and the Graphviz `dot` program are optional dependencies, imported
only when a plot is asked for; a missing one is an ImportError that says how to install it.
"""

import html
import os
import shutil
import sys

from keraslike.graph import nest
from keraslike.layers.layer import Layer
from keraslike.serialization import registry
from keraslike.utils.summary_utils import display_class_name

_GRAPHVIZ_HELP = (
    "Install Graphviz, which provides the `dot` program: `apt-get install graphviz` (Debian, "
    "Ubuntu), `brew install graphviz` (macOS), `conda install graphviz`, or see "
    "https://graphviz.org/download/ ; then make sure `dot` is on your PATH."
)


def _import_pydot(what):
    try:
        import pydot
    except ImportError as e:
        raise ImportError(
            f"You must install pydot (`pip install pydot`, or `pip install keraslike[plot]`) for "
            f"`{what}` to work. To save a plot to a file, Graphviz is needed too. {_GRAPHVIZ_HELP}"
        ) from e
    return pydot


def _check_graphviz(what):
    if shutil.which("dot") is None:
        raise ImportError(
            f"You must install Graphviz for `{what}` to work: the `dot` program was not found "
            f"on your PATH. {_GRAPHVIZ_HELP}"
        )


# ---------------------------------------------------------------------- graph helpers


def _is_graph_model(operation):
    is_model = registry.is_builtin_subclass(type(operation), "Model")
    return is_model and operation._is_graph_network


def _has_weights(operation):
    return isinstance(operation, Layer) and bool(operation._stored_weights())


def _is_sequential(model):
    return registry.is_builtin_subclass(type(model), "Sequential")


def _class_name(operation):
    if isinstance(operation, Layer):
        return display_class_name(operation)
    # A `keras.ops` call or an operator on KerasTensors: name it as Keras names its op classes.
    base = getattr(operation, "op_name", None) or getattr(
        getattr(operation, "fn", None), "__name__", None
    )
    if not base:
        return type(operation).__name__
    return "".join(part.capitalize() for part in base.strip("_").split("_"))


def _first_call(operation, which):
    """The input or output tensor(s) of the operation's first call, as Keras's `layer.input`."""
    if isinstance(operation, Layer):
        return getattr(operation, which)  # a Model gives the structure it was built with
    nodes = operation._inbound_nodes
    if not nodes:
        raise AttributeError(f"Operation '{operation.name}' has never been called.")
    tensors = nodes[0].input_tensors if which == "input" else nodes[0].output_tensors
    return tensors[0] if len(tensors) == 1 else list(tensors)


def _activation_name(layer):
    activation = layer.activation
    if hasattr(activation, "name"):
        return activation.name
    if hasattr(activation, "__name__"):
        return activation.__name__
    return str(activation)


def _format_shape(shape):
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        text = ", ".join(f"{k}: {v}" for k, v in shape.items())
    else:
        text = f"{shape}"
    return html.escape(text.replace("}", "").replace("{", ""))


# ---------------------------------------------------------------------- labels and boxes


def _cell(text, colspan=None, bgcolor="white", color=None):
    span = f' colspan="{colspan}"' if colspan else ""
    font_color = f' color="{color}"' if color else ""
    return (
        f'<td bgcolor="{bgcolor}"{span}><font point-size="14"{font_color}>{text}</font></td>'
    )


def _make_label(operation, show_layer_names, show_layer_activations, show_dtype, show_shapes,
                show_trainable):
    """The HTML-like table Keras 3 uses as a box's label."""
    class_name = _class_name(operation)
    colspan = max(1, int(show_dtype) + int(show_trainable) + (2 if show_shapes else 0))
    if show_layer_names:
        title = f"<b>{html.escape(operation.name)}</b> ({class_name})"
    else:
        title = f"<b>{class_name}</b>"
    rows = [
        f'<tr><td colspan="{colspan}" bgcolor="black">'
        f'<font point-size="16" color="white">{title}</font></td></tr>'
    ]
    activation = getattr(operation, "activation", None)
    if show_layer_activations and activation is not None:
        rows.append(
            "<tr>"
            + _cell(f"Activation: <b>{html.escape(_activation_name(operation))}</b>", colspan)
            + "</tr>"
        )

    cols = []
    if show_shapes:
        input_shape = output_shape = None
        try:
            input_shape = nest.map_structure(lambda x: x.shape, _first_call(operation, "input"))
            output_shape = nest.map_structure(lambda x: x.shape, _first_call(operation, "output"))
        except (ValueError, AttributeError):
            pass
        if class_name != "InputLayer":
            cols.append(_cell(f"Input shape: <b>{_format_shape(input_shape)}</b>"))
        cols.append(_cell(f"Output shape: <b>{_format_shape(output_shape)}</b>"))
    if show_dtype:
        dtype = None
        try:
            dtype = nest.map_structure(lambda x: x.dtype, _first_call(operation, "output"))
        except (ValueError, AttributeError):
            pass
        cols.append(_cell(f"Output dtype: <b>{html.escape(str(dtype or '?'))}</b>"))
    if show_trainable and hasattr(operation, "trainable") and _has_weights(operation):
        if operation.trainable:
            cols.append(_cell("<b>Trainable</b>", bgcolor="forestgreen", color="white"))
        else:
            cols.append(_cell("<b>Non-trainable</b>", bgcolor="firebrick", color="white"))
    if cols:
        rows.append(f"<tr>{''.join(cols)}</tr>")
    return (
        '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
        + "".join(rows)
        + "</table>>"
    )


def _make_node(pydot, operation, label_options):
    node = pydot.Node(str(id(operation)), label=_make_label(operation, **label_options))
    node.set("fontname", "Helvetica")
    node.set("border", "0")
    node.set("margin", "0")
    return node


def _add_edge(pydot, dot, source, destination):
    src, dst = str(id(source)), str(id(destination))
    if not dot.get_edge(src, dst):
        edge = pydot.Edge(src, dst)
        edge.set("penwidth", "2")
        dot.add_edge(edge)


def _edge_ends(source, destination, output_index, input_index):
    """Moves the ends of an edge that touches a nested model onto the layers inside it."""
    # A model has no box of its own when expanded: the edge leaves the layer producing the
    # output it consumes (maybe several models deep) ...
    while _is_graph_model(source):
        source, _, output_index = source.outputs[output_index]._keras_history
    # ... and enters the model's InputLayer (functional) or first layer (Sequential).
    while _is_graph_model(destination):
        if _is_sequential(destination):
            destination = destination.layers[0]
        else:
            destination = destination.inputs[input_index]._keras_history[0]
    return source, destination


# ---------------------------------------------------------------------- public API


def model_to_dot(
    model,
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    subgraph=False,
    show_layer_activations=False,
    show_trainable=False,
    splines="ortho",
    **kwargs,
):
    """Converts a Keras model to dot format (a `pydot.Dot` graph).

    Needs `pydot` (`pip install pydot`); rendering the result needs Graphviz's `dot` too.

    Args:
        model: A built Keras model (functional, Sequential, or subclassed, drawn as one box).
        show_shapes: Whether to display each layer's input and output shapes.
        show_dtype: Whether to display each layer's output dtype.
        show_layer_names: Whether to display layer names (otherwise only class names).
        rankdir: Graphviz `rankdir`: `"TB"` draws top to bottom; `"LR"` left to right.
        expand_nested: Whether to draw nested functional and Sequential models as clusters of
            their layers (otherwise each is one box).
        dpi: Image resolution in dots per inch.
        subgraph: Whether to return a `pydot.Cluster` (used for nested models).
        show_layer_activations: Whether to display the activation of layers that have one.
        show_trainable: Whether to display whether each layer with weights is trainable.
        splines: How edges are drawn: `"ortho"` (right angles, the default), `"curved"`,
            `"polyline"`, `"spline"` or `"line"`.

    Returns:
        A `pydot.Dot`, or a `pydot.Cluster` when `subgraph=True`.

    Raises:
        ImportError: When pydot is not installed.
        ValueError: When the model is not built, or for an unknown keyword argument.

    Example:

    ```python
    dot = keras.utils.model_to_dot(model, show_shapes=True)
    print(dot.to_string())
    ```
    """
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or "
            "by calling the model on a batch of data."
        )
    pydot = _import_pydot("model_to_dot")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")

    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")

    label_options = {
        "show_layer_names": show_layer_names,
        "show_layer_activations": show_layer_activations,
        "show_dtype": show_dtype,
        "show_shapes": show_shapes,
        "show_trainable": show_trainable,
    }
    if not _is_graph_model(model):
        # A subclassed model: its graph is Python code, so it is drawn as a single box.
        dot.add_node(_make_node(pydot, model, label_options))
        return dot

    sequential = _is_sequential(model)
    # Sequential draws no box for its InputLayer (as in Keras); functional models do.
    operations = model.layers if sequential else model._operations
    for operation in operations:
        if expand_nested and _is_graph_model(operation):
            dot.add_subgraph(
                model_to_dot(
                    operation,
                    show_shapes=show_shapes,
                    show_dtype=show_dtype,
                    show_layer_names=show_layer_names,
                    rankdir=rankdir,
                    expand_nested=expand_nested,
                    subgraph=True,
                    show_layer_activations=show_layer_activations,
                    show_trainable=show_trainable,
                )
            )
        else:
            dot.add_node(_make_node(pydot, operation, label_options))

    if sequential and not expand_nested:
        for before, after in zip(operations, operations[1:]):
            _add_edge(pydot, dot, before, after)
        return dot

    # The first layer of a nested Sequential gets its edge from outside (from whatever feeds the
    # Sequential model), since the Sequential's InputLayer has no box.
    destinations = operations[1:] if sequential else operations
    model_nodes = model._graph.node_depth  # this model's calls; a shared layer has others
    for operation in destinations:
        for node in operation._inbound_nodes:
            if node not in model_nodes:
                continue
            for input_index, tensor in enumerate(node.input_tensors):
                source, _, output_index = tensor._keras_history
                if expand_nested:
                    src, dst = _edge_ends(source, operation, output_index, input_index)
                else:
                    src, dst = source, operation
                _add_edge(pydot, dot, src, dst)
    return dot


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=False,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
    splines="ortho",
    **kwargs,
):
    """Draws a model's graph with Graphviz and saves it to a file.

    Needs `pydot` (`pip install pydot`) and Graphviz's `dot` program (`apt-get install
    graphviz`, `brew install graphviz`). The format follows `to_file`'s extension (`.png` when
    there is none): `png`, `svg`, `pdf`, `jpg`, ... any format `dot -T` knows.

    Args:
        model: A built Keras model.
        to_file: File name of the plot image.
        show_shapes: Whether to display each layer's input and output shapes.
        show_dtype: Whether to display each layer's output dtype.
        show_layer_names: Whether to display layer names (`False` by default, as in Keras 3).
        rankdir: Graphviz `rankdir`: `"TB"` draws top to bottom; `"LR"` left to right.
        expand_nested: Whether to draw nested functional and Sequential models as clusters.
        dpi: Image resolution in dots per inch.
        show_layer_activations: Whether to display the activation of layers that have one.
        show_trainable: Whether to display whether each layer with weights is trainable.
        splines: How edges are drawn: `"ortho"` (default), `"curved"`, `"polyline"`,
            `"spline"` or `"line"`.

    Returns:
        An `IPython.display.Image` (an `SVG` for `.svg`) when running under IPython, so a
        notebook shows the plot in-line; otherwise `None`.

    Raises:
        ImportError: When pydot or Graphviz's `dot` program is missing; the message says how
            to install them.
        ValueError: When the model is not built, or for an unknown keyword argument.

    Example:

    ```python
    keras.utils.plot_model(model, "model.png", show_shapes=True)
    ```
    """
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or "
            "by calling the model on a batch of data."
        )
    _import_pydot("plot_model")
    _check_graphviz("plot_model")
    dot = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        dpi=dpi,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
        splines=splines,
        **kwargs,
    )
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    dot.write(to_file, format=extension)
    return _notebook_image(to_file, extension)


def _notebook_image(path, extension):
    # Keras imports IPython whenever it is installed; we only look for it where it already runs
    # (a notebook or an IPython shell), so plain scripts do not pay for importing it.
    if "IPython" not in sys.modules:
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    if extension == "svg":
        return display.SVG(filename=path)
    if extension in ("png", "jpg", "jpeg", "gif"):
        return display.Image(filename=path)
    return None
