"""Port of keras-io `examples/vision/involution.py` (Involutional neural networks, Aritra Roy
Gosthipaty).

Changed: the example's TensorFlow calls -> their Keras 3 equivalents (`tf.identity` -> an
identity function, `tf.image.extract_patches` -> `keras.ops.image.extract_patches`,
`tf.multiply` / `tf.reduce_sum` -> `keras.ops.multiply` / `keras.ops.sum`, `tf.random.normal`
-> numpy), data (CIFAR-10 -> seeded random images (n, 16, 16, 3) in [0, 1) and labels 0-9,
n=64 / 32, numpy arrays given to `fit` in batches of 32 instead of tf.data), the layer test
tensor (32, 256, 256, 3) -> (2, 16, 16, 3), epochs 20 -> 2, `verbose=0`, plots -> the kernels'
shapes, the library passed in as `keras`. The `Involution` layer (its kernel-generating
Sequential, BatchNormalization and Reshape layers made in `build`, two outputs), the conv and
involution models, their compile and the visualization model over `get_layer(name).output` are
the example's. Returned: the involution model's History; the conv model's in `History.results`.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the involution History.

    `on_model(model)` is called on each model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled).
    """
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    class Involution(keras.layers.Layer):
        def __init__(self, channel, group_number, kernel_size, stride, reduction_ratio, name):
            super().__init__(name=name)

            # Initialize the parameters.
            self.channel = channel
            self.group_number = group_number
            self.kernel_size = kernel_size
            self.stride = stride
            self.reduction_ratio = reduction_ratio

        def build(self, input_shape):
            # Get the shape of the input.
            (_, height, width, num_channels) = input_shape

            # Scale the height and width with respect to the strides.
            height = height // self.stride
            width = width // self.stride

            # Define a layer that average pools the input tensor if stride is more than 1.
            self.stride_layer = (
                keras.layers.AveragePooling2D(pool_size=self.stride, strides=self.stride, padding="same")
                if self.stride > 1
                else lambda x: x
            )
            # Define the kernel generation layer.
            self.kernel_gen = keras.Sequential(
                [
                    keras.layers.Conv2D(filters=self.channel // self.reduction_ratio, kernel_size=1),
                    keras.layers.BatchNormalization(),
                    keras.layers.ReLU(),
                    keras.layers.Conv2D(
                        filters=self.kernel_size * self.kernel_size * self.group_number,
                        kernel_size=1,
                    ),
                ]
            )
            # Define reshape layers
            self.kernel_reshape = keras.layers.Reshape(
                target_shape=(height, width, self.kernel_size * self.kernel_size, 1, self.group_number)
            )
            self.input_patches_reshape = keras.layers.Reshape(
                target_shape=(
                    height,
                    width,
                    self.kernel_size * self.kernel_size,
                    num_channels // self.group_number,
                    self.group_number,
                )
            )
            self.output_reshape = keras.layers.Reshape(target_shape=(height, width, num_channels))

        def call(self, x):
            # Generate the kernel with respect to the input tensor.
            # B, H, W, K*K*G
            kernel_input = self.stride_layer(x)
            kernel = self.kernel_gen(kernel_input)

            # reshape the kerenl
            # B, H, W, K*K, 1, G
            kernel = self.kernel_reshape(kernel)

            # Extract input patches.
            # B, H, W, K*K*C
            input_patches = ops.image.extract_patches(
                x, size=self.kernel_size, strides=self.stride, dilation_rate=1, padding="same"
            )

            # Reshape the input patches to align with later operations.
            # B, H, W, K*K, C//G, G
            input_patches = self.input_patches_reshape(input_patches)

            # Compute the multiply-add operation of kernels and patches.
            # B, H, W, K*K, C//G, G
            output = ops.multiply(kernel, input_patches)
            # B, H, W, C//G, G
            output = ops.sum(output, axis=3)

            # Reshape the output kernel.
            # B, H, W, C
            output = self.output_reshape(output)

            # Return the output tensor and the kernel.
            return output, kernel

    # Testing the Involution layer
    input_tensor = rng.normal(size=(2, 16, 16, 3)).astype("float32")
    output_tensor, _ = Involution(
        channel=3, group_number=1, kernel_size=5, stride=1, reduction_ratio=1, name="inv_1"
    )(input_tensor)
    assert tuple(output_tensor.shape) == (2, 16, 16, 3), output_tensor.shape
    output_tensor, _ = Involution(
        channel=3, group_number=1, kernel_size=5, stride=2, reduction_ratio=1, name="inv_2"
    )(input_tensor)
    assert tuple(output_tensor.shape) == (2, 8, 8, 3), output_tensor.shape
    output_tensor, _ = Involution(
        channel=16, group_number=1, kernel_size=5, stride=1, reduction_ratio=2, name="inv_3"
    )(input_tensor)
    assert tuple(output_tensor.shape) == (2, 16, 16, 3), output_tensor.shape

    # The CIFAR10 stand-in, normalized to [0, 1].
    train_images = rng.integers(0, 256, size=(64, 16, 16, 3)) / 255.0
    train_labels = rng.integers(0, 10, size=(64, 1))
    test_images = rng.integers(0, 256, size=(32, 16, 16, 3)) / 255.0
    test_labels = rng.integers(0, 10, size=(32, 1))

    conv_model = keras.Sequential(
        [
            keras.layers.Conv2D(32, (3, 3), input_shape=(16, 16, 3), padding="same"),
            keras.layers.ReLU(name="relu1"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(64, (3, 3), padding="same"),
            keras.layers.ReLU(name="relu2"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(64, (3, 3), padding="same"),
            keras.layers.ReLU(name="relu3"),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    conv_model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    on_model(conv_model)
    conv_hist = conv_model.fit(train_images, train_labels, batch_size=32, epochs=2,
                               validation_data=(test_images, test_labels), verbose=0, shuffle=shuffle)

    inputs = keras.Input(shape=(16, 16, 3))
    x, _ = Involution(channel=3, group_number=1, kernel_size=3, stride=1, reduction_ratio=2, name="inv_1")(inputs)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x, _ = Involution(channel=3, group_number=1, kernel_size=3, stride=1, reduction_ratio=2, name="inv_2")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x, _ = Involution(channel=3, group_number=1, kernel_size=3, stride=1, reduction_ratio=2, name="inv_3")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(10)(x)

    inv_model = keras.Model(inputs=[inputs], outputs=[outputs], name="inv_model")
    inv_model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    on_model(inv_model)
    inv_hist = inv_model.fit(train_images, train_labels, batch_size=32, epochs=2,
                             validation_data=(test_images, test_labels), verbose=0, shuffle=shuffle)
    assert conv_model.count_params() > inv_model.count_params()

    # Visualizing the involution kernels.
    layer_names = ["inv_1", "inv_2", "inv_3"]
    outputs = [inv_model.get_layer(name).output for name in layer_names]
    vis_model = keras.Model(inv_model.input, outputs)
    (inv1_out, inv2_out, inv3_out) = vis_model.predict(test_images[:1], verbose=0)
    _, inv1_kernel = inv1_out
    _, inv3_kernel = inv3_out
    inv1_kernel = ops.sum(inv1_kernel, axis=[-1, -2, -3])
    inv3_kernel = ops.sum(inv3_kernel, axis=[-1, -2, -3])
    assert tuple(inv1_kernel.shape) == (1, 16, 16) and tuple(inv3_kernel.shape) == (1, 4, 4)

    inv_hist.results = {"conv_model": conv_hist.history}
    return inv_hist
