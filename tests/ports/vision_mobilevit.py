"""Port of keras-io `examples/vision/mobilevit.py` (MobileViT: a mobile-friendly
Transformer-based model for image classification, Sayak Paul).

Changed: data (`tf_flowers` from `tensorflow_datasets` -> seeded synthetic uint8 images,
16 train at 72x72 and 8 validation at 64x64, 5 classes with class-coloured offsets),
`image_size` 256 -> 64 and `resize_bigger` 280 -> 72 (the transformer patches still fold: the
three MobileViT blocks see 8x8, 4x4 and 2x2 maps), batches 64 -> 8, epochs 30 -> 2,
`verbose=0`, the summary of the unused first model (and that model), the TFLite conversion and
the SavedModel export dropped, the library passed in as `keras`. The `tf.data` pipeline ->
a `PyDataset` (training: a random 64x64 crop of each 72x72 image and a random left-right flip,
drawn from a seeded numpy generator as each batch is read; labels one-hot) and arrays (the
validation set, already 64x64, so not resized). TensorFlow calls -> `keras.ops`: `tf.nn.swish`
on symbolic tensors -> `ops.swish`, `tf.math.equal` of two ints -> `==`;
`keras.applications.imagenet_utils.correct_pad` (not public in Keras 3) -> the same padding
computed in the port; the checkpoint path "/tmp/checkpoint" -> a temporary
"checkpoint.weights.h5" (Keras 3 names weights files so). Kept: `conv_block`,
`inverted_residual_block` (ZeroPadding2D + "valid" DepthwiseConv2D when strided),
`transformer_block` (MultiHeadAttention with dropout, swish MLP), `mobilevit_block` (unfold
with Reshape, transformer, fold, concatenate, fuse), `create_mobilevit`, Adam(0.002),
`CategoricalCrossentropy(label_smoothing=0.1)`, the `ModelCheckpoint` (best `val_accuracy`,
weights only), `load_weights` of the best epoch and the final `evaluate`. Added: an evaluation
from the initial weights (in `History.results`; the final evaluation is in `History.fits`).
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)

    # Values are from table 4.
    patch_size = 4  # 2x2, for the Transformer blocks.
    image_size = 64
    expansion_factor = 2  # expansion factor for the MobileNetV2 blocks.

    def correct_pad(inputs, kernel_size):
        # (keras.applications.imagenet_utils.correct_pad, for channels_last inputs)
        input_size = inputs.shape[1:3]
        adjust = (1 - input_size[0] % 2, 1 - input_size[1] % 2)
        correct = (kernel_size // 2, kernel_size // 2)
        return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))

    def conv_block(x, filters=16, kernel_size=3, strides=2):
        conv_layer = layers.Conv2D(filters, kernel_size, strides=strides, activation=ops.swish, padding="same")
        return conv_layer(x)

    # Reference: https://git.io/JKgtC

    def inverted_residual_block(x, expanded_channels, output_channels, strides=1):
        m = layers.Conv2D(expanded_channels, 1, padding="same", use_bias=False)(x)
        m = layers.BatchNormalization()(m)
        m = ops.swish(m)

        if strides == 2:
            m = layers.ZeroPadding2D(padding=correct_pad(m, 3))(m)
        m = layers.DepthwiseConv2D(3, strides=strides, padding="same" if strides == 1 else "valid", use_bias=False)(m)
        m = layers.BatchNormalization()(m)
        m = ops.swish(m)

        m = layers.Conv2D(output_channels, 1, padding="same", use_bias=False)(m)
        m = layers.BatchNormalization()(m)

        if x.shape[-1] == output_channels and strides == 1:
            return layers.Add()([m, x])
        return m

    # Reference:
    # https://keras.io/examples/vision/image_classification_with_vision_transformer/

    def mlp(x, hidden_units, dropout_rate):
        for units in hidden_units:
            x = layers.Dense(units, activation=ops.swish)(x)
            x = layers.Dropout(dropout_rate)(x)
        return x

    def transformer_block(x, transformer_layers, projection_dim, num_heads=2):
        for _ in range(transformer_layers):
            # Layer normalization 1.
            x1 = layers.LayerNormalization(epsilon=1e-6)(x)
            # Create a multi-head attention layer.
            attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=projection_dim, dropout=0.1)(
                x1, x1
            )
            # Skip connection 1.
            x2 = layers.Add()([attention_output, x])
            # Layer normalization 2.
            x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
            # MLP.
            x3 = mlp(
                x3,
                hidden_units=[x.shape[-1] * 2, x.shape[-1]],
                dropout_rate=0.1,
            )
            # Skip connection 2.
            x = layers.Add()([x3, x2])

        return x

    def mobilevit_block(x, num_blocks, projection_dim, strides=1):
        # Local projection with convolutions.
        local_features = conv_block(x, filters=projection_dim, strides=strides)
        local_features = conv_block(local_features, filters=projection_dim, kernel_size=1, strides=strides)

        # Unfold into patches and then pass through Transformers.
        num_patches = int((local_features.shape[1] * local_features.shape[2]) / patch_size)
        non_overlapping_patches = layers.Reshape((patch_size, num_patches, projection_dim))(local_features)
        global_features = transformer_block(non_overlapping_patches, num_blocks, projection_dim)

        # Fold into conv-like feature-maps.
        folded_feature_map = layers.Reshape((*local_features.shape[1:-1], projection_dim))(global_features)

        # Apply point-wise conv -> concatenate with the input features.
        folded_feature_map = conv_block(folded_feature_map, filters=x.shape[-1], kernel_size=1, strides=strides)
        local_global_features = layers.Concatenate(axis=-1)([x, folded_feature_map])

        # Fuse the local and global features using a convoluion layer.
        local_global_features = conv_block(local_global_features, filters=projection_dim, strides=strides)

        return local_global_features

    def create_mobilevit(num_classes=5):
        inputs = keras.Input((image_size, image_size, 3))
        x = layers.Rescaling(scale=1.0 / 255)(inputs)

        # Initial conv-stem -> MV2 block.
        x = conv_block(x, filters=16)
        x = inverted_residual_block(x, expanded_channels=16 * expansion_factor, output_channels=16)

        # Downsampling with MV2 block.
        x = inverted_residual_block(x, expanded_channels=16 * expansion_factor, output_channels=24, strides=2)
        x = inverted_residual_block(x, expanded_channels=24 * expansion_factor, output_channels=24)
        x = inverted_residual_block(x, expanded_channels=24 * expansion_factor, output_channels=24)

        # First MV2 -> MobileViT block.
        x = inverted_residual_block(x, expanded_channels=24 * expansion_factor, output_channels=48, strides=2)
        x = mobilevit_block(x, num_blocks=2, projection_dim=64)

        # Second MV2 -> MobileViT block.
        x = inverted_residual_block(x, expanded_channels=64 * expansion_factor, output_channels=64, strides=2)
        x = mobilevit_block(x, num_blocks=4, projection_dim=80)

        # Third MV2 -> MobileViT block.
        x = inverted_residual_block(x, expanded_channels=80 * expansion_factor, output_channels=80, strides=2)
        x = mobilevit_block(x, num_blocks=3, projection_dim=96)
        x = conv_block(x, filters=320, kernel_size=1, strides=1)

        # Classification head.
        x = layers.GlobalAvgPool2D()(x)
        outputs = layers.Dense(num_classes, activation="softmax")(x)

        return keras.Model(inputs, outputs)

    batch_size = 8
    resize_bigger = 72
    num_classes = 5

    offsets = rng.uniform(0, 128, (num_classes, 1, 1, 3))

    def make(n, size):
        labels = np.arange(n) % num_classes
        images = rng.uniform(0, 127, (n, size, size, 3)) + offsets[labels]
        return images.astype("uint8"), labels

    train_images, train_labels = make(16, resize_bigger)
    val_images, val_labels = make(8, image_size)
    val_dataset = (val_images.astype("float32"), keras.utils.to_categorical(val_labels, num_classes))

    class TrainDataset(keras.utils.PyDataset):
        """Random crops and left-right flips of the training images, batched, labels one-hot."""

        def __init__(self):
            super().__init__()

        def __len__(self):
            return len(train_images) // batch_size

        def __getitem__(self, index):
            images, labels = [], []
            for i in range(index * batch_size, (index + 1) * batch_size):
                top, left = rng.integers(0, resize_bigger - image_size + 1, size=2)
                image = train_images[i, top : top + image_size, left : left + image_size]
                if rng.uniform() < 0.5:
                    image = image[:, ::-1]
                images.append(image)
                labels.append(train_labels[i])
            return np.stack(images).astype("float32"), keras.utils.to_categorical(labels, num_classes)

    train_dataset = TrainDataset()

    learning_rate = 0.002
    label_smoothing_factor = 0.1
    epochs = 2

    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing_factor)
    results, fits = {}, {}
    checkpoint_dir = tempfile.mkdtemp()

    def run_experiment(epochs=epochs):
        mobilevit_xxs = create_mobilevit(num_classes=num_classes)
        mobilevit_xxs.compile(optimizer=optimizer, loss=loss_fn, metrics=["accuracy"])
        on_model(mobilevit_xxs)
        results["initial"] = mobilevit_xxs.evaluate(*val_dataset, verbose=0, return_dict=True)

        checkpoint_filepath = os.path.join(checkpoint_dir, "checkpoint.weights.h5")
        checkpoint_callback = keras.callbacks.ModelCheckpoint(
            checkpoint_filepath,
            monitor="val_accuracy",
            save_best_only=True,
            save_weights_only=True,
        )

        history = mobilevit_xxs.fit(
            train_dataset,
            validation_data=val_dataset,
            epochs=epochs,
            callbacks=[checkpoint_callback],
            verbose=0,
            shuffle=shuffle,
        )
        mobilevit_xxs.load_weights(checkpoint_filepath)
        loss, accuracy = mobilevit_xxs.evaluate(*val_dataset, verbose=0)
        fits["best"] = {"loss": [loss], "accuracy": [accuracy]}
        return history

    history = run_experiment()
    history.results = results
    history.fits = fits
    return history
