"""The small model GPTQ/AWQ tests calibrate: Embedding + two blocks of Dense/EinsumDense."""

import random
import numpy as np

VOCAB, SEQ, DIM = 40, 8, 16


def _residual_block_class(lib):
    layers = lib.layers

    class ResidualBlock(layers.Layer):
        """Attention-like projections, a norm and a feed-forward, with residuals."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.qkv = layers.EinsumDense("btd,dhk->bthk", (None, 2, 8))
            self.mix = layers.EinsumDense("bthk,hkd->btd", (None, DIM), bias_axes="d")
            self.norm = layers.LayerNormalization()
            self.up = layers.Dense(2 * DIM, activation="relu")
            self.down = layers.Dense(DIM)

        def call(self, x):
            x = self.norm(x + self.mix(self.qkv(x)))
            return x + self.down(self.up(x))

    return ResidualBlock


def block_layers(block):
    """A block's Dense/EinsumDense layers in call order."""
    if hasattr(block, "qkv"):
        return [block.qkv, block.mix, block.up, block.down]
    return list(block.layers)


def build_model(lib, residual=False):
    """`(model, structure)` built with `lib` (`keras` or `keraslike`).

    Blocks are Sequential stacks of Dense/EinsumDense, or (`residual`) a custom layer with
    residual connections and a LayerNormalization.
    """
    layers = lib.layers
    inputs = lib.Input((SEQ,), dtype="int32")
    embedding = layers.Embedding(VOCAB, DIM)
    blocks = []
    for _ in range(2):
        if residual:
            blocks.append(_residual_block_class(lib)())
            continue
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


def quantized_pair(keras, keraslike, mode, from_model=False, residual=False, **options):
    """The same float model in Keras and keraslike, both quantized in `mode` on the same data.

    `from_model`: the structure comes from `model.get_quantization_layer_structure` (a config
    holding layers cannot be serialized, in Keras either), else from the config.
    """
    # Fixed float weights (Keras's initializers take their seeds from Python's `random`): the
    # comparisons' tolerances were checked on these, not on whatever state earlier tests left.
    random.seed(0)
    k_model, k_structure = build_model(keras, residual)
    ours, structure = build_model(keraslike, residual)
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
    return [layer for block in model.layers[2:] for layer in block_layers(block)
            if layer.quantization_mode == mode]
