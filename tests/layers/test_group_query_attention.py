"""GroupQueryAttention against Keras 3 (torch backend): weights, outputs, masks, scores, configs."""

import numpy as np
import pytest
import torch

import keraslike
from tests.layer_harness import assert_configs_equal

keras = pytest.importorskip("keras")
from keras.src.backend import set_keras_mask  # noqa: E402

RNG = np.random.default_rng(7)


def _data(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _bool(*shape, p=0.7):
    return RNG.random(shape) < p


def gqa_pair(init, query, value, key=None, call=None, keras_query_mask=None):
    """Keras's and our layer on the same data with Keras's weights copied; both outputs."""
    call = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in (call or {}).items()}
    theirs = keras.layers.GroupQueryAttention(**init)
    args = [torch.tensor(query), torch.tensor(value)] + ([torch.tensor(key)] if key is not None else [])
    if keras_query_mask is not None:
        set_keras_mask(args[0], torch.tensor(keras_query_mask))
    k_out = theirs(*args, **call)
    ours = keraslike.layers.GroupQueryAttention(**init)
    o_args = [torch.tensor(query), torch.tensor(value)] + ([torch.tensor(key)] if key is not None else [])
    o_call = dict(call)
    if keras_query_mask is not None:
        o_call["query_mask"] = torch.tensor(keras_query_mask)
    ours(*o_args, **o_call)
    ours.set_weights(theirs.get_weights())
    return ours, theirs, ours(*o_args, **o_call), k_out


def assert_close(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_close(a, b)
        return
    a, b = ours.detach().numpy(), theirs.detach().cpu().numpy()
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


CASES = [
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}, {}),
    ({"head_dim": 2, "num_query_heads": 3, "num_key_value_heads": 1}, {}),
    ({"head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 2, "use_bias": False}, {}),
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2, "use_gate": True}, {}),
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2, "dropout": 0.3}, {}),
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2},
     {"return_attention_scores": True}),
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}, {"use_causal_mask": True}),
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2},
     {"use_causal_mask": True, "return_attention_scores": True}),
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2, "sliding_window": 2}, {}),
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2, "sliding_window": 3},
     {"use_causal_mask": True, "return_attention_scores": True}),
]


@pytest.mark.parametrize("init,call", CASES, ids=[str(i) for i in range(len(CASES))])
def test_gqa_parity_weights_and_config(init, call):
    q, v, k = _data(2, 5, 6), _data(2, 7, 6), _data(2, 7, 3)
    ours, theirs, out, k_out = gqa_pair(init, q, v, k, call)
    assert_close(out, k_out)
    # Keras's paths, under the layer's own name (the two libraries' name counters differ).
    assert ([w.path.replace(ours.name, "gqa", 1) for w in ours.weights]
            == [w.path.replace(theirs.name, "gqa", 1) for w in theirs.weights])
    assert len(ours.get_weights()) == len(theirs.get_weights())
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert_configs_equal(ours.get_config(), theirs.get_config())


@pytest.mark.parametrize("dropout", [0.0, 0.25])
@pytest.mark.parametrize("scores", [False, True])
def test_gqa_masks_with_fully_masked_rows(dropout, scores):
    q, v = _data(2, 4, 6), _data(2, 5, 6)
    attention_mask = _bool(2, 4, 5)
    attention_mask[0, 1] = False  # a query row that may attend to nothing
    call = {"attention_mask": attention_mask, "value_mask": _bool(2, 5),
            "key_mask": _bool(2, 5, p=0.9), "return_attention_scores": scores}
    init = {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2, "dropout": dropout}
    _, _, out, k_out = gqa_pair(init, q, v, None, call)
    assert_close(out, k_out)


def test_gqa_query_mask_causal_and_2d_attention_mask():
    q, v = _data(2, 5, 6), _data(2, 5, 6)
    query_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    init = {"head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1}
    for call in ({}, {"use_causal_mask": True}, {"return_attention_scores": True}):
        _, _, out, k_out = gqa_pair(init, q, v, None, call, keras_query_mask=query_mask)
        assert_close(out, k_out)
    mask = _bool(5, 5, p=0.8)
    mask[:, 0] = True
    _, _, out, k_out = gqa_pair(init, q, v, None, {"attention_mask": mask})
    assert_close(out, k_out)


def _masked_model(lib):
    tokens = lib.Input((6,), dtype="int32")
    x = lib.layers.Embedding(10, 8, mask_zero=True)(tokens)
    layer = lib.layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
    y, scores = layer(x, x, return_attention_scores=True)
    return lib.Model(tokens, [y, scores]), layer, y, scores


def test_gqa_in_a_functional_model_with_masks_and_saving(tmp_path):
    model, layer, y, scores = _masked_model(keraslike)
    assert layer.name.startswith("grouped_query_attention")
    assert tuple(y.shape) == (None, 6, 8) and tuple(scores.shape) == (None, 4, 6, 6)
    k_model, *_ = _masked_model(keras)
    model.set_weights(k_model.get_weights())
    data = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 9]], dtype="int32")
    out, probs = model(data)
    k_outs = k_model(torch.tensor(data))
    assert_close([out, probs], k_outs)
    # The Embedding's mask reached the layer: padded keys and queries get no attention.
    np.testing.assert_allclose(probs[0, :, :, 3:].detach().numpy(), 0.0)
    np.testing.assert_allclose(probs[1].sum(-1).detach().numpy(), 1.0, rtol=1e-5)
    model.save(tmp_path / "gqa.safetensors")
    again = keraslike.saving.load_model(tmp_path / "gqa.safetensors")
    np.testing.assert_allclose(again(data)[0].detach().numpy(), out.detach().numpy(), atol=1e-6)


def test_gqa_storage_and_errors():
    layer = keraslike.layers.GroupQueryAttention(head_dim=3, num_query_heads=4,
                                                 num_key_value_heads=2, use_gate=True)
    layer(torch.zeros(1, 2, 5), torch.zeros(1, 3, 5))
    shapes = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
    assert shapes["query_dense.weight"] == (12, 5) and shapes["key_dense.weight"] == (6, 5)
    assert shapes["output_dense.weight"] == (5, 12) and shapes["gate_dense.weight"] == (12, 5)
    assert tuple(layer.key_dense.kernel.shape) == (5, 2, 3)
    with pytest.raises(ValueError, match="divisible.*num_query_heads=3"):
        keraslike.layers.GroupQueryAttention(head_dim=2, num_query_heads=3, num_key_value_heads=2)
    with pytest.raises(ValueError, match="sliding_window=0"):
        keraslike.layers.GroupQueryAttention(2, 2, 1, sliding_window=0)
    with pytest.raises(ValueError, match="last dimension"):
        layer.compute_output_shape((None, 2, 5), (None, 3, 4))


@pytest.mark.slow
@pytest.mark.parametrize("call", [{}, {"use_causal_mask": True}])
def test_gqa_compiles_fullgraph(call):
    layer = keraslike.layers.GroupQueryAttention(head_dim=3, num_query_heads=4,
                                                 num_key_value_heads=2, use_gate=True)
    x = torch.randn(2, 3, 5)
    layer(x, x)
    compiled = torch.compile(layer, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(x, x, **call), layer(x, x, **call))


@pytest.mark.cuda
@pytest.mark.parametrize("call", [{}, {"use_causal_mask": True}, {"return_attention_scores": True}])
def test_gqa_on_cuda_equals_cpu(call):
    init = {"head_dim": 8, "num_query_heads": 4, "num_key_value_heads": 2}
    q, v = _data(2, 5, 16), _data(2, 7, 16)
    if call.get("use_causal_mask"):
        v = _data(2, 5, 16)
    mask = _bool(2, v.shape[1])
    mask[:, 0] = True
    cpu = keraslike.layers.GroupQueryAttention(**init)
    expected = cpu(torch.tensor(q), torch.tensor(v), value_mask=torch.tensor(mask), **call)
    gpu = keraslike.layers.GroupQueryAttention(**init)
    gpu(torch.tensor(q), torch.tensor(v))
    gpu.set_weights(cpu.get_weights())
    gpu.to("cuda")
    out = gpu(torch.tensor(q).cuda(), torch.tensor(v).cuda(), value_mask=torch.tensor(mask).cuda(),
              **call)
    for a, b in zip(out if isinstance(out, tuple) else [out],
                    expected if isinstance(expected, tuple) else [expected]):
        assert a.device.type == "cuda"
        torch.testing.assert_close(a.cpu(), b, rtol=1e-3, atol=1e-3)


def test_gqa_dropout_only_in_training():
    torch.manual_seed(0)
    layer = keraslike.layers.GroupQueryAttention(head_dim=4, num_query_heads=4,
                                                 num_key_value_heads=2, dropout=0.5)
    q, v = torch.randn(64, 6, 8), torch.randn(64, 6, 8)
    plain = layer(q, v)
    torch.testing.assert_close(layer(q, v, training=False), plain)
    _, scores = layer(q, v, return_attention_scores=True, training=True)
    np.testing.assert_allclose(scores.sum(-1).detach().numpy(), 1.0, rtol=1e-5)  # before dropout
    dropped = torch.stack([layer(q, v, training=True) for _ in range(40)]).mean(0).detach()
    assert not torch.allclose(layer(q, v, training=True), plain)
    # Inverted dropout keeps the expectation: the mean of many draws approaches the plain output.
    assert float((dropped - plain).abs().mean()) < 0.25 * float(plain.detach().abs().mean())
