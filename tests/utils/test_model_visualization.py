"""`keras.utils.model_to_dot` / `plot_model`: dot source, Keras parity, rendering, missing deps."""

import importlib.util
import re
import shutil
import sys

import pytest

import keraslike as keras
from keraslike.utils import model_visualization
from tests.models import seed_models

HAS_PYDOT = importlib.util.find_spec("pydot") is not None
needs_pydot = pytest.mark.skipif(not HAS_PYDOT, reason="pydot is not installed (pip install pydot)")
needs_graphviz = pytest.mark.skipif(
    not HAS_PYDOT or shutil.which("dot") is None,
    reason="rendering needs pydot and Graphviz's `dot` program (apt-get install graphviz)",
)

ALL_OPTIONS = dict(
    show_shapes=True,
    show_dtype=True,
    show_layer_activations=True,
    show_trainable=True,
    expand_nested=True,
)


# ---------------------------------------------------------------------- helpers


def _operations(model):
    """Every operation drawn for `model`, nested models' included: id string -> operation."""
    found = {}
    stack = [model]
    while stack:
        m = stack.pop()
        for op in list(getattr(m, "_operations", None) or []) + list(getattr(m, "layers", [])):
            if str(id(op)) not in found:
                found[str(id(op))] = op
                if getattr(op, "_operations", None) or hasattr(op, "layers"):  # a nested model
                    stack.append(op)
    found[str(id(model))] = model
    return found


def _graphs(dot):
    yield dot
    for sub in dot.get_subgraphs():
        yield from _graphs(sub)


def _edges(dot, model):
    names = {k: op.name for k, op in _operations(model).items()}
    return {
        (names[e.get_source()], names[e.get_destination()])
        for g in _graphs(dot)
        for e in g.get_edges()
    }


def _labels(dot, model):
    """Box name -> label, over the graph and its clusters."""
    names = {k: op.name for k, op in _operations(model).items()}
    return {
        names[n.get_name()]: n.get("label")
        for g in _graphs(dot)
        for n in g.get_nodes()
        if n.get_name() in names
    }


def _clusters(dot):
    return [g.get_name() for g in _graphs(dot)][1:]


def _normalized_source(dot, model):
    """Dot source with the `id(...)` box names replaced by layer names (comparable across libs)."""
    names = {k: op.name for k, op in _operations(model).items()}
    return re.sub(r"\b\d{6,}\b", lambda m: names.get(m.group(0), m.group(0)), dot.to_string())


def _small_model():
    inputs = keras.Input(shape=(8,), name="features")
    x = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="small")


# ---------------------------------------------------------------------- dot source


@needs_pydot
def test_small_functional_model_dot_source():
    model = _small_model()
    dot = keras.utils.model_to_dot(model)
    source = dot.to_string()
    assert source.startswith("digraph G {")
    for attribute in ("rankdir=TB", "dpi=200", "splines=ortho", "concentrate=true"):
        assert attribute in source
    assert "node [shape=record]" in source
    assert _edges(dot, model) == {("features", "hidden"), ("hidden", "probs")}
    labels = _labels(dot, model)
    assert set(labels) == {"features", "hidden", "probs"}
    assert "<b>hidden</b> (Dense)" in labels["hidden"]
    assert "<b>features</b> (InputLayer)" in labels["features"]
    assert labels["hidden"].startswith('<<table border="0" cellborder="1" bgcolor="black"')
    assert "shape" not in labels["hidden"]  # no shape row unless asked
    assert "Activation" not in labels["hidden"]


@needs_pydot
def test_layer_names_off_shows_class_only_and_rankdir():
    model = _small_model()
    dot = keras.utils.model_to_dot(model, show_layer_names=False, rankdir="LR", dpi=72)
    source = dot.to_string()
    assert "rankdir=LR" in source and "dpi=72" in source
    label = _labels(dot, model)["hidden"]
    assert "<b>Dense</b>" in label and "hidden" not in label


@needs_pydot
def test_show_shapes_dtype_activations_trainable():
    model = _small_model()
    model.get_layer("probs").trainable = False
    dot = keras.utils.model_to_dot(
        model, show_shapes=True, show_dtype=True, show_layer_activations=True, show_trainable=True
    )
    labels = _labels(dot, model)
    hidden, probs, features = labels["hidden"], labels["probs"], labels["features"]
    assert "Input shape: <b>(None, 8)</b>" in hidden
    assert "Output shape: <b>(None, 4)</b>" in hidden
    assert "Output dtype: <b>float32</b>" in hidden
    assert "Activation: <b>relu</b>" in hidden and "Activation: <b>softmax</b>" in probs
    assert 'bgcolor="forestgreen"' in hidden and "<b>Trainable</b>" in hidden
    assert 'bgcolor="firebrick"' in probs and "<b>Non-trainable</b>" in probs
    # An InputLayer has no input shape, no activation and no weights (so no trainable cell).
    assert "Input shape" not in features and "Output shape: <b>(None, 8)</b>" in features
    assert "Activation" not in features and "rainable" not in features
    assert 'colspan="4"' in hidden  # title spans shapes (2) + dtype + trainable


@needs_pydot
def test_multi_input_multi_output_edges_and_list_shapes():
    model = seed_models.ticket_model(keras, num_words=100)
    dot = keras.utils.model_to_dot(model, show_shapes=True)
    assert _edges(dot, model) == {
        ("title", "embedding"),
        ("body", "embedding_1"),
        ("embedding", "lstm"),
        ("embedding_1", "lstm_1"),
        ("lstm", "concatenate"),
        ("lstm_1", "concatenate"),
        ("tags", "concatenate"),
        ("concatenate", "priority"),
        ("concatenate", "department"),
    }
    label = _labels(dot, model)["concatenate"]
    assert "Input shape: <b>[(None, 128), (None, 32), (None, 12)]</b>" in label


@needs_pydot
def test_nested_model_collapsed_or_expanded_into_clusters():
    _, _, autoencoder = seed_models.encoder_decoder(keras)
    collapsed = keras.utils.model_to_dot(autoencoder, expand_nested=False)
    assert _clusters(collapsed) == []
    assert _edges(collapsed, autoencoder) == {("img", "encoder"), ("encoder", "decoder")}
    assert "<b>encoder</b> (Functional)" in _labels(collapsed, autoencoder)["encoder"]

    expanded = keras.utils.model_to_dot(autoencoder, expand_nested=True)
    assert _clusters(expanded) == ["cluster_encoder", "cluster_decoder"]
    assert 'label=encoder' in expanded.to_string() and "style=dashed" in expanded.to_string()
    edges = _edges(expanded, autoencoder)
    # Edges cross into the clusters: to the nested InputLayer, out of the producing layer.
    assert ("img", "img") in edges  # outer `img` Input -> encoder's own `img` InputLayer
    assert ("global_max_pooling2d", "encoded_img") in edges
    assert ("conv2d", "conv2d_1") in edges and ("reshape", "conv2d_transpose") in edges
    assert "encoder" not in {name for edge in edges for name in edge}


@needs_pydot
def test_sequential_has_no_input_box_and_nests_as_first_layer():
    inner = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, name="d1"), keras.layers.Dense(2, name="d2")],
        name="inner",
    )
    dot = keras.utils.model_to_dot(inner)
    assert set(_labels(dot, inner)) == {"d1", "d2"}
    assert _edges(dot, inner) == {("d1", "d2")}

    x = keras.Input((4,), name="x")
    outer = keras.Model(x, keras.layers.Dense(1, name="head")(inner(x)))
    expanded = keras.utils.model_to_dot(outer, expand_nested=True)
    assert _clusters(expanded) == ["cluster_inner"]
    assert _edges(expanded, outer) == {("x", "d1"), ("d1", "d2"), ("d2", "head")}


@needs_pydot
def test_ops_shared_layers_and_subclassed_models():
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    shared = keras.layers.Dense(3, name="shared")
    total = keras.ops.add(shared(a), shared(b))
    model = keras.Model([a, b], total * 2.0)
    dot = keras.utils.model_to_dot(model)
    labels = _labels(dot, model)
    assert "(Add)" in labels["add"] and "(Multiply)" in labels["multiply"]
    assert _edges(dot, model) == {
        ("a", "shared"),
        ("b", "shared"),
        ("shared", "add"),
        ("add", "multiply"),
    }

    class Custom(keras.Model):
        def call(self, x):
            return x

    custom = Custom()
    custom.built = True
    dot = keras.utils.model_to_dot(custom)
    assert len(dot.get_nodes()) == 2  # the `node` defaults entry and the model's one box
    assert "(Custom)" in dot.get_node(str(id(custom)))[0].get("label")


@needs_pydot
def test_models_sharing_one_graph_draw_only_their_own_nodes():
    encoder, autoencoder = seed_models.shared_graph_autoencoder(keras)[:2]
    dot = keras.utils.model_to_dot(encoder)
    drawn = {name for edge in _edges(dot, encoder) for name in edge}
    assert drawn == {"img", "conv2d", "conv2d_1", "max_pooling2d", "conv2d_2", "conv2d_3",
                     "global_max_pooling2d"}


@needs_pydot
def test_names_are_escaped_in_html_labels():
    inputs = keras.Input((2,), name="in")
    model = keras.Model(inputs, keras.layers.Dense(1, name="a&b<c>")(inputs))
    label = _labels(keras.utils.model_to_dot(model), model)["a&b<c>"]
    assert "<b>a&amp;b&lt;c&gt;</b>" in label


@needs_pydot
def test_bad_arguments():
    model = _small_model()
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        keras.utils.model_to_dot(model, show_colors=True)
    with pytest.raises(ValueError, match="layer_range` is no longer supported"):
        keras.utils.model_to_dot(model, layer_range=["a", "b"])
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="has not yet been built"):
        keras.utils.model_to_dot(unbuilt)


@needs_pydot
@pytest.mark.parametrize("builder", ["ticket", "resnet", "autoencoder", "sequential"])
@pytest.mark.parametrize("options", [{}, ALL_OPTIONS], ids=["defaults", "all_options"])
def test_dot_source_matches_keras(keras_oracle, builder, options):
    def build(lib):
        if builder == "ticket":
            return seed_models.ticket_model(lib, num_words=100)
        if builder == "resnet":
            return seed_models.toy_resnet(lib)
        if builder == "autoencoder":
            return seed_models.encoder_decoder(lib)[2]
        return lib.Sequential(
            [lib.Input((4,)), lib.layers.Dense(3, activation="relu"), lib.layers.Dense(2)]
        )

    ours, theirs = build(keras), build(keras_oracle)
    expected = _normalized_source(keras_oracle.utils.model_to_dot(theirs, **options), theirs)
    assert _normalized_source(keras.utils.model_to_dot(ours, **options), ours) == expected


# ---------------------------------------------------------------------- rendering


@needs_graphviz
def test_plot_model_writes_png(tmp_path):
    path = tmp_path / "model.png"
    model = seed_models.ticket_model(keras, num_words=100)
    result = keras.utils.plot_model(model, to_file=path, show_shapes=True, dpi=72)
    assert result is None  # not under IPython
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert 500 < width < 10000 and 200 < height < 10000 and width > height  # wide: 3 inputs
    assert len(data) > 5000


@needs_graphviz
def test_plot_model_format_follows_extension(tmp_path):
    model = _small_model()
    keras.utils.plot_model(model, to_file=str(tmp_path / "m.svg"), rankdir="LR")
    svg = (tmp_path / "m.svg").read_text()
    # plot_model hides layer names by default (Keras 3), model_to_dot shows them.
    assert "<svg" in svg and "hidden" not in svg and "Dense" in svg
    keras.utils.plot_model(model, to_file=tmp_path / "m.pdf", show_layer_names=True)
    assert (tmp_path / "m.pdf").read_bytes()[:5] == b"%PDF-"
    keras.utils.plot_model(model, to_file=tmp_path / "noext", dpi=50)
    assert (tmp_path / "noext").read_bytes()[:4] == b"\x89PNG"


# ---------------------------------------------------------------------- missing dependencies


def test_missing_pydot_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)  # makes `import pydot` raise ImportError
    model = _small_model()
    for fn in (keras.utils.model_to_dot, keras.utils.plot_model):
        with pytest.raises(ImportError, match=r"pip install pydot") as info:
            fn(model)
        assert "apt-get install graphviz" in str(info.value)


@needs_pydot
def test_missing_graphviz_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(model_visualization.shutil, "which", lambda name: None)
    with pytest.raises(ImportError, match=r"`dot` program was not found") as info:
        keras.utils.plot_model(_small_model(), to_file=tmp_path / "m.png")
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert not (tmp_path / "m.png").exists()
