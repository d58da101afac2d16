"""Port of keras-io `examples/vision/grad_cam.py` (Grad-CAM class activation visualization,
fchollet, Keras 3 edition).

The example trains nothing: `run` returns the numbers it shows (no History), so it is checked
against Keras by its own test (`test_vision_grad_cam_port.py`), not by the ports tests.

Changed: data (the two downloaded photos read with `load_img(target_size=(299, 299))` -> two
seeded synthetic uint8 images (71, 71, 3) written to PNG files in a temporary folder and read
back with `keras.utils.load_img` / `img_to_array`), `img_size` (299, 299) -> (71, 71)
(Xception's smallest input; CPU test time), `Xception(weights="imagenet")` ->
`Xception(weights=None)` (no download; its random initial weights are passed to `on_model`),
`decode_predictions` (downloads the class index) -> the top class indices, the matplotlib
heatmap and superimposed image -> their numbers (kept in the returned dict), `display` dropped,
the library passed in as `keras`. `tf.GradientTape` -> torch autograd (`torch.autograd.grad` of
the class channel with regard to the last conv layer's output), `tf.argmax` / `tf.reduce_mean` /
`tf.squeeze` / `tf.maximum` / `tf.math.reduce_max` -> `keras.ops`; the jet colormap ->
`matplotlib`'s when installed, else a grey ramp (the same in both runs). Kept: the Xception
application and `preprocess_input`, `model.layers[-1].activation = None` after construction,
`predict`, the `grad_model` mapping the input to `[block14_sepconv2_act output, model output]`,
the heatmaps for the top class and for classes 260 and 285, `save_and_display_gradcam`
(`array_to_img`, PIL resize, `img_to_array`, superimposing, saving).
"""

import os
import tempfile

import numpy as np
import torch


def run(keras, on_model=None):
    """Runs the example with `keras` (Keras 3 or keraslike); returns its numbers (a dict).

    `on_model(model)` is called on the Xception model once it is built.
    """
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}
    folder = tempfile.mkdtemp()

    model_builder = keras.applications.xception.Xception
    img_size = (71, 71)
    preprocess_input = keras.applications.xception.preprocess_input

    last_conv_layer_name = "block14_sepconv2_act"

    def synthetic_photo(name):
        path = os.path.join(folder, name)
        keras.utils.array_to_img(rng.integers(0, 256, size=(71, 71, 3)).astype("float32")).save(path)
        return path

    img_path = synthetic_photo("african_elephant.png")

    def get_img_array(img_path, size):
        img = keras.utils.load_img(img_path, target_size=size)
        array = keras.utils.img_to_array(img)
        array = np.expand_dims(array, axis=0)
        return array

    def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
        # First, we create a model that maps the input image to the activations
        # of the last conv layer as well as the output predictions
        grad_model = keras.models.Model(model.inputs, [model.get_layer(last_conv_layer_name).output, model.output])

        # Then, we compute the gradient of the top predicted class for our input image
        # with respect to the activations of the last conv layer
        last_conv_layer_output, preds = grad_model(img_array)
        if pred_index is None:
            pred_index = ops.argmax(preds[0])
        class_channel = preds[:, pred_index]

        # This is the gradient of the output neuron (top predicted or chosen)
        # with regard to the output feature map of the last conv layer
        grads = torch.autograd.grad(class_channel.sum(), last_conv_layer_output)[0]

        # This is a vector where each entry is the mean intensity of the gradient
        # over a specific feature map channel
        pooled_grads = ops.mean(grads, axis=(0, 1, 2))

        # We multiply each channel in the feature map array
        # by "how important this channel is" with regard to the top predicted class
        # then sum all the channels to obtain the heatmap class activation
        last_conv_layer_output = last_conv_layer_output[0]
        heatmap = last_conv_layer_output @ pooled_grads[..., None]
        heatmap = ops.squeeze(heatmap)

        # For visualization purpose, we will also normalize the heatmap between 0 & 1
        heatmap = ops.maximum(heatmap, 0) / ops.max(heatmap)
        return ops.convert_to_numpy(heatmap)

    # Prepare image
    img_array = preprocess_input(get_img_array(img_path, size=img_size))

    # Make model
    model = model_builder(weights=None, input_shape=img_size + (3,))
    on_model(model)

    # Remove last layer's softmax
    model.layers[-1].activation = None

    preds = model.predict(img_array, verbose=0)
    results["predicted"] = {"top": [float(np.argmax(preds[0]))], "logits_sum": [float(preds.sum())]}

    # Generate class activation heatmap
    heatmap = make_gradcam_heatmap(img_array, model, last_conv_layer_name)
    results["heatmap_top"] = {"heatmap": heatmap.ravel().tolist()}

    def jet_colors():
        try:
            import matplotlib as mpl

            return mpl.colormaps["jet"](np.arange(256))[:, :3]
        except ImportError:
            return np.repeat(np.linspace(0, 1, 256)[:, None], 3, axis=1)

    def save_and_display_gradcam(img_path, heatmap, cam_path=os.path.join(folder, "cam.jpg"), alpha=0.4):
        # Load the original image
        img = keras.utils.load_img(img_path)
        img = keras.utils.img_to_array(img)

        # Rescale heatmap to a range 0-255
        heatmap = np.uint8(255 * heatmap)

        # Use RGB values of the colormap
        jet_heatmap = jet_colors()[heatmap]

        # Create an image with RGB colorized heatmap
        jet_heatmap = keras.utils.array_to_img(jet_heatmap)
        jet_heatmap = jet_heatmap.resize((img.shape[1], img.shape[0]))
        jet_heatmap = keras.utils.img_to_array(jet_heatmap)

        # Superimpose the heatmap on original image
        superimposed_img = jet_heatmap * alpha + img
        superimposed_img = keras.utils.array_to_img(superimposed_img)

        # Save the superimposed image
        superimposed_img.save(cam_path)
        return float(keras.utils.img_to_array(keras.utils.load_img(cam_path)).mean())

    results["superimposed"] = {"mean": [save_and_display_gradcam(img_path, heatmap)]}

    img_path = synthetic_photo("cat_and_dog.png")
    img_array = preprocess_input(get_img_array(img_path, size=img_size))
    preds = model.predict(img_array, verbose=0)
    results["predicted_2"] = {"top2": [float(i) for i in np.argsort(preds[0])[::-1][:2]]}

    for index in (260, 285):
        heatmap = make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=index)
        results[f"heatmap_{index}"] = {"heatmap": heatmap.ravel().tolist(),
                                       "superimposed": [save_and_display_gradcam(img_path, heatmap)]}

    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)
    return results
