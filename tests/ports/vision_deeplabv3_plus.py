"""Port of keras-io `examples/vision/deeplabv3_plus.py` (Multiclass semantic segmentation using
DeepLabV3+, Soumik Rakshit).

Changed: data (the CIHP human-parsing images and masks, decoded and resized by `tf.image` ->
seeded synthetic float32 images in [-1, 1] (`image / 127.5 - 1`, as `read_image`) and
integer-valued float masks (n, 64, 64, 1) whose classes are rectangles drawn on the image
too), `IMAGE_SIZE` 512 -> 64, 1000 train / 50 validation images -> 4 / 4, epochs 25 -> 2,
`verbose=0`, the ResNet50 backbone's `weights="imagenet"` -> `weights=None` (no download;
its architecture and the layers read from it are the same), the summary, plots, the
colormap file (-> a seeded random colormap) and the `cv2` overlay dropped, the library
passed in as `keras`. The `tf.data` pipeline (`batch(4, drop_remainder=True)`) -> arrays given
to `fit` with `batch_size=4` (4 and 4 images: no remainder); `tf.nn.relu` on symbolic
tensors -> `ops.relu`. Kept: `convolution_block` (HeNormal, BatchNormalization),
`DilatedSpatialPyramidPooling` (average pooling to 1x1, bilinear UpSampling2D, dilation
rates 1/6/12/18), `DeeplabV3Plus` (ResNet50 with `input_tensor`, the low- and high-level
features read with `get_layer(...).output`, bilinear upsampling, concatenation), Adam(1e-3),
`SparseCategoricalCrossentropy(from_logits=True)`, "accuracy", fit with validation, and
`infer` + `decode_segmentation_masks` on two images. Added: an evaluation from the initial
weights (in `History.results`; the decoded masks' mean colours are in `History.fits`).

Training is chaotic here: BatchNormalization over batches of 4 (1x1 maps after the pyramid's
pooling) and Adam turn float noise of 1e-6 in the first step into ~3e-3 in the second step's
loss (Keras against itself with oneDNN convolutions turned off diverges alike).
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)

    IMAGE_SIZE = 64
    BATCH_SIZE = 4
    NUM_CLASSES = 20

    def make(n):
        images = rng.uniform(0, 255, (n, IMAGE_SIZE, IMAGE_SIZE, 3))
        masks = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 1))
        for i in range(n):
            for _ in range(3):
                top, left = rng.integers(0, IMAGE_SIZE - 16, size=2)
                label = rng.integers(1, NUM_CLASSES)
                masks[i, top : top + 16, left : left + 16] = label
                images[i, top : top + 16, left : left + 16] = 12 * label
        return (images / 127.5 - 1).astype("float32"), masks.astype("float32")

    train_dataset = make(4)
    val_dataset = make(4)

    def convolution_block(
        block_input,
        num_filters=256,
        kernel_size=3,
        dilation_rate=1,
        padding="same",
        use_bias=False,
    ):
        x = layers.Conv2D(
            num_filters,
            kernel_size=kernel_size,
            dilation_rate=dilation_rate,
            padding="same",
            use_bias=use_bias,
            kernel_initializer=keras.initializers.HeNormal(),
        )(block_input)
        x = layers.BatchNormalization()(x)
        return ops.relu(x)

    def DilatedSpatialPyramidPooling(dspp_input):
        dims = dspp_input.shape
        x = layers.AveragePooling2D(pool_size=(dims[-3], dims[-2]))(dspp_input)
        x = convolution_block(x, kernel_size=1, use_bias=True)
        out_pool = layers.UpSampling2D(
            size=(dims[-3] // x.shape[1], dims[-2] // x.shape[2]),
            interpolation="bilinear",
        )(x)

        out_1 = convolution_block(dspp_input, kernel_size=1, dilation_rate=1)
        out_6 = convolution_block(dspp_input, kernel_size=3, dilation_rate=6)
        out_12 = convolution_block(dspp_input, kernel_size=3, dilation_rate=12)
        out_18 = convolution_block(dspp_input, kernel_size=3, dilation_rate=18)

        x = layers.Concatenate(axis=-1)([out_pool, out_1, out_6, out_12, out_18])
        output = convolution_block(x, kernel_size=1)
        return output

    def DeeplabV3Plus(image_size, num_classes):
        model_input = keras.Input(shape=(image_size, image_size, 3))
        resnet50 = keras.applications.ResNet50(weights=None, include_top=False, input_tensor=model_input)
        x = resnet50.get_layer("conv4_block6_2_relu").output
        x = DilatedSpatialPyramidPooling(x)

        input_a = layers.UpSampling2D(
            size=(image_size // 4 // x.shape[1], image_size // 4 // x.shape[2]),
            interpolation="bilinear",
        )(x)
        input_b = resnet50.get_layer("conv2_block3_2_relu").output
        input_b = convolution_block(input_b, num_filters=48, kernel_size=1)

        x = layers.Concatenate(axis=-1)([input_a, input_b])
        x = convolution_block(x)
        x = convolution_block(x)
        x = layers.UpSampling2D(
            size=(image_size // x.shape[1], image_size // x.shape[2]),
            interpolation="bilinear",
        )(x)
        model_output = layers.Conv2D(num_classes, kernel_size=(1, 1), padding="same")(x)
        return keras.Model(inputs=model_input, outputs=model_output)

    model = DeeplabV3Plus(image_size=IMAGE_SIZE, num_classes=NUM_CLASSES)

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        loss=loss,
        metrics=["accuracy"],
    )
    on_model(model)
    results = {"initial": model.evaluate(*val_dataset, batch_size=BATCH_SIZE, verbose=0, return_dict=True)}

    history = model.fit(
        *train_dataset,
        batch_size=BATCH_SIZE,
        validation_data=val_dataset,
        epochs=2,
        verbose=0,
        shuffle=shuffle,
    )

    colormap = (rng.uniform(0, 1, (NUM_CLASSES, 3)) * 100).astype(np.uint8)

    def infer(model, image_tensor):
        predictions = model.predict(np.expand_dims((image_tensor), axis=0), verbose=0)
        predictions = np.squeeze(predictions)
        predictions = np.argmax(predictions, axis=2)
        return predictions

    def decode_segmentation_masks(mask, colormap, n_classes):
        r = np.zeros_like(mask).astype(np.uint8)
        g = np.zeros_like(mask).astype(np.uint8)
        b = np.zeros_like(mask).astype(np.uint8)
        for l in range(0, n_classes):  # noqa: E741 (the original's name)
            idx = mask == l
            r[idx] = colormap[l, 0]
            g[idx] = colormap[l, 1]
            b[idx] = colormap[l, 2]
        rgb = np.stack([r, g, b], axis=2)
        return rgb

    decoded = [decode_segmentation_masks(infer(model, image), colormap, 20) for image in val_dataset[0][:2]]
    history.results = results
    history.fits = {"inference": {"mean_colour": [float(np.mean(d)) for d in decoded]}}
    return history
