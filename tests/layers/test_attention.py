"""MultiHeadAttention, Attention and AdditiveAttention against Keras 3 (torch backend)."""

import numpy as np
import pytest
import torch

import keraslike
from tests.layer_harness import assert_configs_equal, check_layer

keras = pytest.importorskip("keras")
from keras.src.backend import set_keras_mask  # noqa: E402

RNG = np.random.default_rng(1234)


def _np(x):
    return x.detach().cpu().numpy()


def _data(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _bool(*shape, p=0.7):
    return RNG.random(shape) < p


def mha_pair(init, query, value, key=None, call=None, keras_query_mask=None):
    """Builds Keras's and our MHA on the same data, copies Keras's weights, returns both outputs."""
    call = dict(call or {})
    k_layer = keras.layers.MultiHeadAttention(**init)
    k_args = [torch.tensor(query), torch.tensor(value)]
    if key is not None:
        k_args.append(torch.tensor(key))
    k_call = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in call.items()}
    if keras_query_mask is not None:
        # Keras reads the query mask from the query tensor itself (its Keras mask).
        set_keras_mask(k_args[0], torch.tensor(keras_query_mask))
    k_out = k_layer(*k_args, **k_call)

    o_layer = keraslike.layers.MultiHeadAttention(**init)
    o_args = [torch.tensor(query), torch.tensor(value)] + ([torch.tensor(key)] if key is not None else [])
    o_call = dict(k_call)
    if keras_query_mask is not None:
        o_call["query_mask"] = torch.tensor(keras_query_mask)
    o_layer(*o_args, **o_call)
    o_layer.set_weights([w for w in k_layer.get_weights()])
    o_out = o_layer(*o_args, **o_call)
    return o_layer, k_layer, o_out, k_out


def assert_close(ours, theirs, atol=1e-5):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_close(a, b, atol)
        return
    a, b = _np(ours), _np(theirs)
    assert a.shape == b.shape, f"shape {a.shape} != Keras {b.shape}"
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=atol)


# ---------------------------------------------------------------------- MultiHeadAttention

MHA_CASES = [
    ({"num_heads": 2, "key_dim": 3}, {}),
    ({"num_heads": 3, "key_dim": 2, "value_dim": 4}, {}),
    ({"num_heads": 2, "key_dim": 3, "use_bias": False}, {}),
    ({"num_heads": 2, "key_dim": 3, "output_shape": 5}, {}),
    ({"num_heads": 2, "key_dim": 3, "output_shape": (2, 3)}, {}),
    ({"num_heads": 2, "key_dim": 3, "use_gate": True, "value_dim": 2}, {}),
    ({"num_heads": 2, "key_dim": 3, "dropout": 0.3}, {}),
    ({"num_heads": 2, "key_dim": 3}, {"return_attention_scores": True}),
    ({"num_heads": 2, "key_dim": 3}, {"use_causal_mask": True}),
    ({"num_heads": 2, "key_dim": 3}, {"use_causal_mask": True, "return_attention_scores": True}),
    ({"num_heads": 2, "key_dim": 3, "dropout": 0.3}, {"use_causal_mask": True}),
    ({"num_heads": 2, "key_dim": 3, "sliding_window": 2}, {}),
    ({"num_heads": 2, "key_dim": 3, "sliding_window": 2}, {"use_causal_mask": True}),
]


@pytest.mark.parametrize("init,call", MHA_CASES, ids=[f"{i}-{sorted(c[0])}-{sorted(c[1])}" for i, c in enumerate(MHA_CASES)])
def test_mha_parity(init, call):
    # Query and value of different lengths and widths; the key given separately.
    q, v, k = _data(2, 5, 6), _data(2, 7, 4), _data(2, 7, 3)
    ours, theirs, out, k_out = mha_pair(init, q, v, k, call)
    assert_close(out, k_out)
    # The weights: Keras's names, order and layouts.
    k_paths = [w.path.replace(theirs.name, "mha", 1) for w in theirs.weights]
    o_paths = [w.path.replace(ours.name, "mha", 1) for w in ours.weights]
    assert o_paths == k_paths
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert_configs_equal(ours.get_config(), theirs.get_config())


def test_mha_self_attention_and_default_key():
    x = _data(3, 4, 8)
    _, _, out, k_out = mha_pair({"num_heads": 4, "key_dim": 2}, x, x)
    assert_close(out, k_out)


@pytest.mark.parametrize("dropout", [0.0, 0.25])
@pytest.mark.parametrize("scores", [False, True])
def test_mha_masks_with_fully_masked_rows(dropout, scores):
    # Keras's fused path (no dropout, no scores) and explicit path treat fully masked rows
    # differently (uniform attention vs none); both are reproduced.
    q, v = _data(2, 4, 6), _data(2, 5, 6)
    attention_mask = _bool(2, 4, 5)
    attention_mask[0, 1] = False  # a query row that may attend to nothing
    value_mask = _bool(2, 5)
    key_mask = _bool(2, 5, p=0.9)
    call = {
        "attention_mask": attention_mask,
        "value_mask": value_mask,
        "key_mask": key_mask,
        "return_attention_scores": scores,
    }
    init = {"num_heads": 2, "key_dim": 3, "dropout": dropout}
    _, _, out, k_out = mha_pair(init, q, v, None, call)
    assert_close(out, k_out)


def test_mha_query_mask_and_causal():
    q, v = _data(2, 5, 6), _data(2, 5, 6)
    query_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    for call in ({}, {"use_causal_mask": True}, {"return_attention_scores": True}):
        _, _, out, k_out = mha_pair(
            {"num_heads": 2, "key_dim": 3}, q, v, None, call, keras_query_mask=query_mask
        )
        assert_close(out, k_out)


def test_mha_2d_attention_mask_broadcasts():
    q, v = _data(2, 4, 6), _data(2, 5, 6)
    mask = _bool(4, 5, p=0.8)
    mask[:, 0] = True
    _, _, out, k_out = mha_pair({"num_heads": 2, "key_dim": 3}, q, v, None, {"attention_mask": mask})
    assert_close(out, k_out)


@pytest.mark.parametrize(
    "axes,scores",
    [((2,), False), ((2,), True), ((1, 2), True), ((1,), True), (-2, True)],
)
def test_mha_attention_axes(axes, scores):
    # Attention over axis 2 lets its length differ; other axes must agree.
    q, v = _data(2, 3, 4, 6), _data(2, 3, 5, 6) if axes in ((2,), -2) else _data(2, 3, 4, 6)
    init = {"num_heads": 2, "key_dim": 2, "attention_axes": axes}
    call = {"return_attention_scores": scores}
    if axes == (2,):
        mask = _bool(2, 3, 4, 5)
        mask[0, 0, 0] = False
        call["attention_mask"] = mask
    ours, theirs, out, k_out = mha_pair(init, q, v, None, call)
    assert_close(out, k_out)
    assert_configs_equal(ours.get_config(), theirs.get_config())


def test_mha_query_and_value_widths_may_differ():
    # Keras projects query and value separately, so their feature sizes need not agree.
    _, _, out, k_out = mha_pair({"num_heads": 2, "key_dim": 3}, _data(2, 4, 5), _data(2, 6, 9))
    assert_close(out, k_out)
    assert tuple(out.shape) == (2, 4, 5)


def test_mha_storage_is_linear_like():
    layer = keraslike.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    layer(torch.zeros(1, 2, 6), torch.zeros(1, 3, 5))
    shapes = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
    assert shapes == {
        "query_dense.weight": (6, 6),
        "query_dense.bias": (6,),
        "key_dense.weight": (6, 5),
        "key_dense.bias": (6,),
        "value_dense.weight": (8, 5),
        "value_dense.bias": (8,),
        "output_dense.weight": (6, 8),
        "output_dense.bias": (6,),
    }
    assert all(p.is_contiguous() for p in layer.parameters())
    assert tuple(layer.query_dense.kernel.shape) == (6, 2, 3)
    assert tuple(layer.output_dense.kernel.shape) == (2, 4, 6)
    assert layer._query_dense is layer.query_dense


def test_mha_config_round_trip_and_from_keras_config():
    theirs = keras.layers.MultiHeadAttention(
        num_heads=2, key_dim=4, value_dim=3, dropout=0.1, output_shape=(5,), attention_axes=1,
        kernel_initializer="he_normal", kernel_regularizer="l2",
    )
    ours = keraslike.layers.MultiHeadAttention(
        num_heads=2, key_dim=4, value_dim=3, dropout=0.1, output_shape=(5,), attention_axes=1,
        kernel_initializer="he_normal", kernel_regularizer="l2",
    )
    assert_configs_equal(ours.get_config(), theirs.get_config())
    clone = keraslike.layers.MultiHeadAttention.from_config(ours.get_config())
    assert_configs_equal(clone.get_config(), ours.get_config())
    from_keras = keraslike.layers.MultiHeadAttention.from_config(theirs.get_config())
    assert_configs_equal(from_keras.get_config(), theirs.get_config())


def test_mha_seeded_initialization_equals_keras():
    # Kernels are drawn in Keras's layout with EinsumDense's fan axes, then stored transposed.
    x = np.zeros((1, 4, 5), "float32")
    theirs = keras.layers.MultiHeadAttention(
        2, 3, kernel_initializer=keras.initializers.GlorotUniform(seed=3),
        bias_initializer=keras.initializers.RandomNormal(seed=4),
    )
    theirs(x, x)
    ours = keraslike.layers.MultiHeadAttention(
        2, 3, kernel_initializer=keraslike.initializers.GlorotUniform(seed=3),
        bias_initializer=keraslike.initializers.RandomNormal(seed=4),
    )
    ours(torch.tensor(x), torch.tensor(x))
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_mha_keyword_call():
    x = torch.randn(2, 3, 4)
    layer = keraslike.layers.MultiHeadAttention(num_heads=2, key_dim=2)
    assert tuple(layer(query=x, value=x).shape) == (2, 3, 4)
    inp = keraslike.Input(shape=(3, 4))
    out = keraslike.layers.MultiHeadAttention(num_heads=2, key_dim=2)(query=inp, value=inp, key=inp)
    assert out.shape == (None, 3, 4)
    assert tuple(keraslike.Model(inp, out)(x).shape) == (2, 3, 4)


def test_mha_kernel_regularizer_losses():
    layer = keraslike.layers.MultiHeadAttention(num_heads=2, key_dim=3, kernel_regularizer="l2")
    layer(torch.randn(1, 2, 4), torch.randn(1, 3, 4))
    assert len(layer.losses) == 4  # one per projection kernel


def test_mha_functional_model_shapes():
    query = keraslike.Input(shape=(6, 8))
    value = keraslike.Input(shape=(None, 5))
    layer = keraslike.layers.MultiHeadAttention(num_heads=2, key_dim=4, output_shape=(3,))
    out, scores = layer(query, value, return_attention_scores=True)
    assert out.shape == (None, 6, 3)
    assert scores.shape == (None, 2, 6, None)
    model = keraslike.Model([query, value], [out, scores])
    y, s = model([torch.randn(2, 6, 8), torch.randn(2, 4, 5)])
    assert tuple(y.shape) == (2, 6, 3) and tuple(s.shape) == (2, 2, 6, 4)
    torch.testing.assert_close(s.sum(-1), torch.ones(2, 2, 6))

    # Same shapes as Keras's symbolic call.
    k_layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, output_shape=(3,))
    k_out = k_layer(keras.Input(shape=(6, 8)), keras.Input(shape=(None, 5)))
    assert tuple(k_out.shape) == out.shape


def _padded_sequences(lengths, steps, dim):
    x = _data(len(lengths), steps, dim)
    for row, length in enumerate(lengths):
        x[row, length:] = 0.0
    return x


def test_mha_functional_model_uses_input_masks():
    # Masking -> MHA(x, x): the padding masks become query/value masks, as in Keras.
    x = _padded_sequences([3, 4], 5, 6)

    def build(lib):
        inp = lib.Input(shape=(5, 6))
        masked = lib.layers.Masking(0.0)(inp)
        y = lib.layers.MultiHeadAttention(num_heads=2, key_dim=3)(masked, masked)
        return lib.Model(inp, y)

    k_model, o_model = build(keras), build(keraslike)
    o_model.set_weights(k_model.get_weights())
    assert_close(o_model(torch.tensor(x)), k_model(torch.tensor(x)))


def test_mha_gradcheck_float64():
    torch.manual_seed(0)
    layer = keraslike.layers.MultiHeadAttention(num_heads=2, key_dim=2, dtype="float64")
    q = torch.randn(1, 3, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(1, 2, 4, dtype=torch.float64, requires_grad=True)
    layer(q, v)
    mask = torch.tensor([[[True, False], [True, True], [False, True]]])
    assert torch.autograd.gradcheck(lambda a, b: layer(a, b, attention_mask=mask), (q, v))
    assert torch.autograd.gradcheck(
        lambda a, b: layer(a, b, return_attention_scores=True), (q, v)
    )
    assert torch.autograd.gradcheck(lambda a: layer(a, a, use_causal_mask=True), (q,))


def test_mha_dropout_follows_training_flag():
    torch.manual_seed(0)
    layer = keraslike.layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5)
    x = torch.randn(2, 6, 8)
    eval_out = layer(x, x)
    torch.testing.assert_close(layer(x, x), eval_out)  # inference: deterministic
    assert not torch.allclose(layer(x, x, training=True), eval_out)
    layer.train()
    assert not torch.allclose(layer(x, x), eval_out)
    assert not torch.allclose(layer(x, x, training=True, return_attention_scores=True)[0], eval_out)
    torch.testing.assert_close(layer(x, x, training=False), eval_out)


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"num_heads": 0, "key_dim": 2}, "num_heads"),
        ({"num_heads": -1, "key_dim": 2}, "num_heads"),
        ({"num_heads": "2", "key_dim": 2}, "num_heads"),
        ({"num_heads": 2, "key_dim": 0}, "key_dim"),
        ({"num_heads": 2, "key_dim": -3}, "key_dim"),
        ({"num_heads": 2, "key_dim": 2, "value_dim": 0}, "value_dim"),
        ({"num_heads": 2, "key_dim": 2, "dropout": 1.5}, "dropout"),
        ({"num_heads": 2, "key_dim": 2, "attention_axes": "x"}, "attention_axes"),
    ],
)
def test_mha_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment) as info:
        keraslike.layers.MultiHeadAttention(name="bad_mha", **kwargs)
    assert "bad_mha" in str(info.value)


def test_mha_bad_shapes_name_the_layer():
    layer = keraslike.layers.MultiHeadAttention(num_heads=2, key_dim=2, name="mha_x")
    with pytest.raises(ValueError, match="mha_x.*`value` and `key`"):
        layer(torch.zeros(1, 3, 4), torch.zeros(1, 5, 4), torch.zeros(1, 6, 4))
    # Keras fails here too (in build).
    with pytest.raises(ValueError):
        keras.layers.MultiHeadAttention(num_heads=2, key_dim=2)(
            torch.zeros(1, 3, 4), torch.zeros(1, 5, 4), torch.zeros(1, 6, 4)
        )
    layer = keraslike.layers.MultiHeadAttention(num_heads=2, key_dim=2, name="mha_y")
    with pytest.raises(ValueError, match="mha_y.*same rank"):
        layer(keraslike.Input(shape=(3, 4)), keraslike.Input(shape=(2, 5, 4)))


# ---------------------------------------------------------------------- Attention layers

ATTENTION_CASES = [
    ("Attention", {}, {}),
    ("Attention", {"use_scale": True}, {}),
    ("Attention", {"score_mode": "concat"}, {}),
    ("Attention", {"score_mode": "concat", "use_scale": True}, {}),
    ("Attention", {}, {"return_attention_scores": True}),
    ("Attention", {"use_scale": True}, {"use_causal_mask": True}),
    ("Attention", {"dropout": 0.5}, {"use_causal_mask": True, "return_attention_scores": True}),
    ("AdditiveAttention", {}, {}),
    ("AdditiveAttention", {"use_scale": False}, {}),
    ("AdditiveAttention", {}, {"use_causal_mask": True, "return_attention_scores": True}),
]


@pytest.mark.parametrize(
    "name,init,call", ATTENTION_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(ATTENTION_CASES)]
)
@pytest.mark.parametrize("with_key", [False, True])
def test_attention_parity(name, init, call, with_key):
    shapes = [(2, 4, 3), (2, 5, 6)] + ([(2, 5, 3)] if with_key else [])
    if not with_key:
        shapes[0] = (2, 4, 6)
    ours, theirs, _, _ = check_layer(name, init, shapes, call_kwargs=call)
    assert [w.path.split("/")[-1] for w in ours.weights] == [
        w.path.split("/")[-1] for w in theirs.weights
    ]


@pytest.mark.parametrize("name,init", [("Attention", {}), ("Attention", {"score_mode": "concat"}),
                                       ("AdditiveAttention", {})])
@pytest.mark.parametrize("call", [{}, {"use_causal_mask": True}, {"return_attention_scores": True}])
def test_attention_masks(name, init, call):
    q, v = _data(2, 4, 3), _data(2, 5, 3)
    q_mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=bool)
    v_mask = np.array([[1, 1, 1, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)  # row 2: nothing to attend
    mask = [torch.tensor(q_mask), torch.tensor(v_mask)]
    k_layer = getattr(keras.layers, name)(**init)
    k_out = k_layer([torch.tensor(q), torch.tensor(v)], mask=mask, **call)
    o_layer = getattr(keraslike.layers, name)(**init)
    o_layer([torch.tensor(q), torch.tensor(v)], mask=mask, **call)
    o_layer.set_weights(k_layer.get_weights())
    o_out = o_layer([torch.tensor(q), torch.tensor(v)], mask=mask, **call)
    assert_close(o_out, k_out)


def test_attention_functional_model_propagates_masks():
    x = _padded_sequences([2, 4], 4, 6)

    def build(lib):
        inp = lib.Input(shape=(4, 6))
        masked = lib.layers.Masking(0.0)(inp)
        y, s = lib.layers.Attention(use_scale=True)([masked, masked], return_attention_scores=True)
        return lib.Model(inp, [y, s])

    k_model, o_model = build(keras), build(keraslike)
    assert o_model.outputs[0].shape == (None, 4, 6) and o_model.outputs[1].shape == (None, 4, 4)
    o_model.set_weights(k_model.get_weights())
    assert_close(o_model(torch.tensor(x)), k_model(torch.tensor(x)))


def test_attention_gradcheck_float64():
    q = torch.randn(1, 3, 2, dtype=torch.float64, requires_grad=True)
    v = torch.randn(1, 4, 2, dtype=torch.float64, requires_grad=True)
    mask = [None, torch.tensor([[True, True, False, True]])]
    for layer in (
        keraslike.layers.Attention(use_scale=True, dtype="float64"),
        keraslike.layers.Attention(score_mode="concat", dtype="float64"),
        keraslike.layers.AdditiveAttention(dtype="float64"),
    ):
        layer([q, v])
        assert torch.autograd.gradcheck(lambda a, b: layer([a, b], mask=mask), (q, v))
        assert torch.autograd.gradcheck(
            lambda a, b: layer([a, b], return_attention_scores=True, use_causal_mask=True), (q, v)
        )


def test_attention_bad_inputs():
    with pytest.raises(ValueError, match="score_mode"):
        keraslike.layers.Attention(score_mode="add")
    layer = keraslike.layers.Attention(name="att_x")
    with pytest.raises(ValueError, match="att_x.*list of inputs"):
        layer(torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="att_x.*length 2 or 3"):
        layer([torch.zeros(1, 2, 3)])
    # Query and key widths must agree for dot-product and additive scores (Keras fails too).
    with pytest.raises(ValueError, match="att_x.*last dimension of the query"):
        layer([torch.zeros(1, 2, 3), torch.zeros(1, 4, 5)])
    with pytest.raises(Exception):
        keras.layers.Attention()([torch.zeros(1, 2, 3), torch.zeros(1, 4, 5)])
    additive = keraslike.layers.AdditiveAttention(name="add_x")
    with pytest.raises(ValueError, match="add_x"):
        additive([keraslike.Input(shape=(2, 3)), keraslike.Input(shape=(4, 5))])


def test_default_names_after_multi_head_attention_follow_keras():
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    q = keras.Input((3, 4))
    keras.layers.MultiHeadAttention(2, 4)(q, q)
    expected = [keras.layers.Dropout(0.1).name, keras.layers.Softmax().name]
    import keraslike

    keraslike.backend.clear_session()
    ours_q = keraslike.Input((3, 4))
    keraslike.layers.MultiHeadAttention(2, 4)(ours_q, ours_q)
    assert [keraslike.layers.Dropout(0.1).name, keraslike.layers.Softmax().name] == expected
