"""The small model GPTQ/AWQ tests calibrate: Embedding + two blocks of Dense/EinsumDense."""

import numpy as np

VOCAB, SEQ, DIM = 40, 8, 16


def build_model(lib):
    """`(model, structure)` built with `lib` (`keras` or `keraslike`)."""
    layers = lib.layers
    inputs = lib.Input((SEQ,), dtype="int32")
    embedding = layers.Embedding(VOCAB, DIM)
    blocks = []
    for _ in range(2):
        blocks.append(lib.Sequential([
            layers.Dense(DIM, activation="relu"),
            layers.EinsumDense("btd,dhk->bthk", (None, 2, 8)),  # (in, heads, head_dim)
            layers.EinsumDense("bthk,hkd->btd", (None, DIM), bias_axes="d"),  # (heads, dim, out)
            layers.Dense(DIM),
        ]))
    x = embedding(inputs)
    for block in blocks:
        x = block(x)
    model = lib.Model(inputs, x)
    return model, {"pre_block_layers": [embedding], "sequential_blocks": blocks}


def tokens():
    """Six calibration samples of `(1, SEQ)` token ids."""
    rng = np.random.default_rng(0)
    return [rng.integers(0, VOCAB, size=(1, SEQ)) for _ in range(6)]


def quantized_pair(keras, keraslike, mode, from_model=False, **options):
    """The same float model in Keras and keraslike, both quantized in `mode` on the same data.

    `from_model`: the structure comes from `model.get_quantization_layer_structure` (a config
    holding layers cannot be serialized, in Keras either), else from the config.
    """
    k_model, k_structure = build_model(keras)
    ours, structure = build_model(keraslike)
    ours.set_weights(k_model.get_weights())
    settings = dict(tokenizer=lambda s: s, num_samples=4, sequence_length=SEQ, group_size=8)
    settings.update(options)
    if from_model:
        k_model.get_quantization_layer_structure = lambda mode, s=k_structure: s
        ours.get_quantization_layer_structure = lambda mode, s=structure: s
        k_structure = structure = None
    name = f"{mode.upper()}Config"
    k_model.quantize(mode, config=getattr(keras.quantizers, name)(
        dataset=tokens(), quantization_layer_structure=k_structure, **settings))
    ours.quantize(mode, config=getattr(keraslike.quantizers, name)(
        dataset=tokens(), quantization_layer_structure=structure, **settings))
    return k_model, ours


def quantized_layers(model, mode):
    """The model's blocks' layers in `mode`, in order."""
    return [layer for block in model.layers[2:] for layer in block.layers
            if layer.quantization_mode == mode]
