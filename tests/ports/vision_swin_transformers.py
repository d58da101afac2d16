"""Port of keras-io `examples/vision/swin_transformers.py` (Image classification with Swin
Transformers, Rishit Dagli, Keras 3 edition).

Changed: data (`keras.datasets.cifar100` -> synthetic uint8 images (n, 8, 8, 3) scaled to
[0, 1], labels 0-9, seeded, n=80 (split 90/10 as the example) / 16; num_classes 100 -> 10,
input 32x32 -> 8x8), num_heads 8 -> 2, embed_dim 64 -> 8, num_mlp 256 -> 16, batch_size
128 -> 16, num_epochs 40 -> 2, dropout_rate 0.03 -> 0.0 (training then draws no random numbers
and the parity test compares it with Keras), `verbose=0`, the plots dropped, the library
passed in as `keras`. The `tf.data` pipeline (random crop to the full size, random horizontal
flip, batching, `tf.image.extract_patches`) -> the same steps in numpy, once (flips drawn from
the seeded generator). `window_partition`, `window_reverse`, `WindowAttention` (relative
position bias table and a `keras.Variable(dtype="int", trainable=False)` index created in
`__init__`), `SwinTransformer` (a float `keras.Variable` attention mask created in `build`,
`ops.roll`), `PatchEmbedding`, `PatchMerging`, the model on (256, 12)-shaped patches (here
(16, 12)), compile (label-smoothed CategoricalCrossentropy, AdamW, accuracy and top-5
accuracy), fit and evaluate are the example's. The evaluation is kept in `History.results`.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    num_classes = 10
    input_shape = (8, 8, 3)

    patch_size = (2, 2)  # 2-by-2 sized patches
    dropout_rate = 0.0  # Dropout rate
    num_heads = 2  # Attention heads
    embed_dim = 8  # Embedding dimension
    num_mlp = 16  # MLP layer size
    # Convert embedded patches to query, key, and values with a learnable additive
    # value
    qkv_bias = True
    window_size = 2  # Size of attention window
    shift_size = 1  # Size of shifting window
    image_dimension = 8  # Initial image size

    num_patch_x = input_shape[0] // patch_size[0]
    num_patch_y = input_shape[1] // patch_size[1]

    learning_rate = 1e-3
    batch_size = 16
    num_epochs = 2
    validation_split = 0.1
    weight_decay = 0.0001
    label_smoothing = 0.1

    x_train = rng.integers(0, 256, size=(80,) + input_shape).astype("uint8")
    y_train = rng.integers(0, num_classes, size=(80, 1))
    x_test = rng.integers(0, 256, size=(16,) + input_shape).astype("uint8")
    y_test = rng.integers(0, num_classes, size=(16, 1))
    x_train, x_test = x_train / 255.0, x_test / 255.0
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)
    num_train_samples = int(len(x_train) * (1 - validation_split))
    x_train, x_val = np.split(x_train, [num_train_samples])
    y_train, y_val = np.split(y_train, [num_train_samples])

    def window_partition(x, window_size):
        _, H, W, C = x.shape
        patch_num_H = H // window_size
        patch_num_W = W // window_size
        x = ops.reshape(x, (-1, patch_num_H, window_size, patch_num_W, window_size, C))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        windows = ops.reshape(x, (-1, window_size, window_size, C))
        return windows

    def window_reverse(windows, window_size, H, W, C):
        patch_num_H = H // window_size
        patch_num_W = W // window_size
        x = ops.reshape(windows, (-1, patch_num_H, patch_num_W, window_size, window_size, C))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        x = ops.reshape(x, (-1, H, W, C))
        return x

    class WindowAttention(layers.Layer):
        def __init__(self, dim, window_size, num_heads, qkv_bias=True, dropout_rate=0.0, **kwargs):
            super().__init__(**kwargs)
            self.dim = dim
            self.window_size = window_size
            self.num_heads = num_heads
            self.scale = (dim // num_heads) ** -0.5
            self.qkv = layers.Dense(dim * 3, use_bias=qkv_bias)
            self.dropout = layers.Dropout(dropout_rate)
            self.proj = layers.Dense(dim)

            num_window_elements = (2 * self.window_size[0] - 1) * (2 * self.window_size[1] - 1)
            self.relative_position_bias_table = self.add_weight(
                shape=(num_window_elements, self.num_heads),
                initializer=keras.initializers.Zeros(),
                trainable=True,
            )
            coords_h = np.arange(self.window_size[0])
            coords_w = np.arange(self.window_size[1])
            coords_matrix = np.meshgrid(coords_h, coords_w, indexing="ij")
            coords = np.stack(coords_matrix)
            coords_flatten = coords.reshape(2, -1)
            relative_coords = coords_flatten[:, :, None] - coords_flatten[:, None, :]
            relative_coords = relative_coords.transpose([1, 2, 0])
            relative_coords[:, :, 0] += self.window_size[0] - 1
            relative_coords[:, :, 1] += self.window_size[1] - 1
            relative_coords[:, :, 0] *= 2 * self.window_size[1] - 1
            relative_position_index = relative_coords.sum(-1)

            self.relative_position_index = keras.Variable(
                initializer=relative_position_index,
                shape=relative_position_index.shape,
                dtype="int",
                trainable=False,
            )

        def call(self, x, mask=None):
            _, size, channels = x.shape
            head_dim = channels // self.num_heads
            x_qkv = self.qkv(x)
            x_qkv = ops.reshape(x_qkv, (-1, size, 3, self.num_heads, head_dim))
            x_qkv = ops.transpose(x_qkv, (2, 0, 3, 1, 4))
            q, k, v = x_qkv[0], x_qkv[1], x_qkv[2]
            q = q * self.scale
            k = ops.transpose(k, (0, 1, 3, 2))
            attn = q @ k

            num_window_elements = self.window_size[0] * self.window_size[1]
            relative_position_index_flat = ops.reshape(self.relative_position_index, (-1,))
            relative_position_bias = ops.take(self.relative_position_bias_table, relative_position_index_flat,
                                              axis=0)
            relative_position_bias = ops.reshape(relative_position_bias,
                                                 (num_window_elements, num_window_elements, -1))
            relative_position_bias = ops.transpose(relative_position_bias, (2, 0, 1))
            attn = attn + ops.expand_dims(relative_position_bias, axis=0)

            if mask is not None:
                nW = mask.shape[0]
                mask_float = ops.cast(ops.expand_dims(ops.expand_dims(mask, axis=1), axis=0), "float32")
                attn = ops.reshape(attn, (-1, nW, self.num_heads, size, size)) + mask_float
                attn = ops.reshape(attn, (-1, self.num_heads, size, size))
                attn = keras.activations.softmax(attn, axis=-1)
            else:
                attn = keras.activations.softmax(attn, axis=-1)
            attn = self.dropout(attn)

            x_qkv = attn @ v
            x_qkv = ops.transpose(x_qkv, (0, 2, 1, 3))
            x_qkv = ops.reshape(x_qkv, (-1, size, channels))
            x_qkv = self.proj(x_qkv)
            x_qkv = self.dropout(x_qkv)
            return x_qkv

    class SwinTransformer(layers.Layer):
        def __init__(self, dim, num_patch, num_heads, window_size=7, shift_size=0, num_mlp=1024,
                     qkv_bias=True, dropout_rate=0.0, **kwargs):
            super().__init__(**kwargs)

            self.dim = dim  # number of input dimensions
            self.num_patch = num_patch  # number of embedded patches
            self.num_heads = num_heads  # number of attention heads
            self.window_size = window_size  # size of window
            self.shift_size = shift_size  # size of window shift
            self.num_mlp = num_mlp  # number of MLP nodes

            self.norm1 = layers.LayerNormalization(epsilon=1e-5)
            self.attn = WindowAttention(
                dim,
                window_size=(self.window_size, self.window_size),
                num_heads=num_heads,
                qkv_bias=qkv_bias,
                dropout_rate=dropout_rate,
            )
            self.drop_path = layers.Dropout(dropout_rate)
            self.norm2 = layers.LayerNormalization(epsilon=1e-5)

            self.mlp = keras.Sequential(
                [
                    layers.Dense(num_mlp),
                    layers.Activation(keras.activations.gelu),
                    layers.Dropout(dropout_rate),
                    layers.Dense(dim),
                    layers.Dropout(dropout_rate),
                ]
            )

            if min(self.num_patch) < self.window_size:
                self.shift_size = 0
                self.window_size = min(self.num_patch)

        def build(self, input_shape):
            if self.shift_size == 0:
                self.attn_mask = None
            else:
                height, width = self.num_patch
                h_slices = (
                    slice(0, -self.window_size),
                    slice(-self.window_size, -self.shift_size),
                    slice(-self.shift_size, None),
                )
                w_slices = (
                    slice(0, -self.window_size),
                    slice(-self.window_size, -self.shift_size),
                    slice(-self.shift_size, None),
                )
                mask_array = np.zeros((1, height, width, 1))
                count = 0
                for h in h_slices:
                    for w in w_slices:
                        mask_array[:, h, w, :] = count
                        count += 1
                mask_array = ops.convert_to_tensor(mask_array)

                # mask array to windows
                mask_windows = window_partition(mask_array, self.window_size)
                mask_windows = ops.reshape(mask_windows, [-1, self.window_size * self.window_size])
                attn_mask = ops.expand_dims(mask_windows, axis=1) - ops.expand_dims(mask_windows, axis=2)
                attn_mask = ops.where(attn_mask != 0, -100.0, attn_mask)
                attn_mask = ops.where(attn_mask == 0, 0.0, attn_mask)
                self.attn_mask = keras.Variable(
                    initializer=attn_mask,
                    shape=attn_mask.shape,
                    dtype=attn_mask.dtype,
                    trainable=False,
                )

        def call(self, x, training=False):
            height, width = self.num_patch
            _, num_patches_before, channels = x.shape
            x_skip = x
            x = self.norm1(x)
            x = ops.reshape(x, (-1, height, width, channels))
            if self.shift_size > 0:
                shifted_x = ops.roll(x, shift=[-self.shift_size, -self.shift_size], axis=[1, 2])
            else:
                shifted_x = x

            x_windows = window_partition(shifted_x, self.window_size)
            x_windows = ops.reshape(x_windows, (-1, self.window_size * self.window_size, channels))
            attn_windows = self.attn(x_windows, mask=self.attn_mask)

            attn_windows = ops.reshape(attn_windows, (-1, self.window_size, self.window_size, channels))
            shifted_x = window_reverse(attn_windows, self.window_size, height, width, channels)
            if self.shift_size > 0:
                x = ops.roll(shifted_x, shift=[self.shift_size, self.shift_size], axis=[1, 2])
            else:
                x = shifted_x

            x = ops.reshape(x, (-1, height * width, channels))
            x = self.drop_path(x, training=training)
            x = x_skip + x
            x_skip = x
            x = self.norm2(x)
            x = self.mlp(x)
            x = self.drop_path(x)
            x = x_skip + x
            return x

    def patch_extract(images):
        # numpy for the example's tf.image.extract_patches (non-overlapping, "VALID").
        batch, height, width, channels = images.shape
        patches = images.reshape(batch, height // patch_size[0], patch_size[0], width // patch_size[1],
                                 patch_size[1], channels).transpose(0, 1, 3, 2, 4, 5)
        return patches.reshape(batch, -1, patch_size[0] * patch_size[1] * channels).astype("float32")

    class PatchEmbedding(layers.Layer):
        def __init__(self, num_patch, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.num_patch = num_patch
            self.proj = layers.Dense(embed_dim)
            self.pos_embed = layers.Embedding(input_dim=num_patch, output_dim=embed_dim)

        def call(self, patch):
            pos = ops.arange(start=0, stop=self.num_patch)
            return self.proj(patch) + self.pos_embed(pos)

    class PatchMerging(keras.layers.Layer):
        def __init__(self, num_patch, embed_dim):
            super().__init__()
            self.num_patch = num_patch
            self.embed_dim = embed_dim
            self.linear_trans = layers.Dense(2 * embed_dim, use_bias=False)

        def call(self, x):
            height, width = self.num_patch
            _, _, C = x.shape
            x = ops.reshape(x, (-1, height, width, C))
            x0 = x[:, 0::2, 0::2, :]
            x1 = x[:, 1::2, 0::2, :]
            x2 = x[:, 0::2, 1::2, :]
            x3 = x[:, 1::2, 1::2, :]
            x = ops.concatenate((x0, x1, x2, x3), axis=-1)
            x = ops.reshape(x, (-1, (height // 2) * (width // 2), 4 * C))
            return self.linear_trans(x)

    def augment(x):
        # Random crop to the full size (the identity) and random horizontal flip.
        flip = rng.random(len(x)) < 0.5
        x = x.copy()
        x[flip] = x[flip][:, :, ::-1]
        return x

    dataset = (patch_extract(augment(x_train)), y_train)
    dataset_val = (patch_extract(x_val), y_val)
    dataset_test = (patch_extract(x_test), y_test)

    input = layers.Input(shape=(num_patch_x * num_patch_y, patch_size[0] * patch_size[1] * 3))
    x = PatchEmbedding(num_patch_x * num_patch_y, embed_dim)(input)
    x = SwinTransformer(
        dim=embed_dim,
        num_patch=(num_patch_x, num_patch_y),
        num_heads=num_heads,
        window_size=window_size,
        shift_size=0,
        num_mlp=num_mlp,
        qkv_bias=qkv_bias,
        dropout_rate=dropout_rate,
    )(x)
    x = SwinTransformer(
        dim=embed_dim,
        num_patch=(num_patch_x, num_patch_y),
        num_heads=num_heads,
        window_size=window_size,
        shift_size=shift_size,
        num_mlp=num_mlp,
        qkv_bias=qkv_bias,
        dropout_rate=dropout_rate,
    )(x)
    x = PatchMerging((num_patch_x, num_patch_y), embed_dim=embed_dim)(x)
    x = layers.GlobalAveragePooling1D()(x)
    output = layers.Dense(num_classes, activation="softmax")(x)

    model = keras.Model(input, output)
    model.compile(
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        optimizer=keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay),
        metrics=[
            keras.metrics.CategoricalAccuracy(name="accuracy"),
            keras.metrics.TopKCategoricalAccuracy(5, name="top-5-accuracy"),
        ],
    )
    on_model(model)
    history = model.fit(*dataset, batch_size=batch_size, epochs=num_epochs, validation_data=dataset_val,
                        verbose=0, shuffle=shuffle)

    loss, accuracy, top_5_accuracy = model.evaluate(*dataset_test, verbose=0)
    history.results = {"test": {"loss": [loss], "accuracy": [accuracy], "top-5-accuracy": [top_5_accuracy]}}
    return history
