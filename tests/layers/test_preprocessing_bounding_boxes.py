"""Bounding boxes through the image preprocessing layers, against Keras 3 (torch backend).

With the same seed keraslike's layers draw Keras's random numbers, and the box arithmetic is
Keras's, so the boxes (and labels, -1 for boxes pushed out of the image) must equal Keras's
exactly, for every box format, batched and unbatched. Where Keras 3.15 moves boxes wrongly
(RandomRotation for formats other than `xyxy`, RandomCrop) the boxes are checked against the
geometry of the transformed images instead.
"""

import copy

import numpy as np
import pytest
import torch

from keraslike import layers
from keraslike.utils import bounding_boxes as lb
from keraslike.utils.bounding_boxes.formats import SUPPORTED_FORMATS

keras = pytest.importorskip("keras")

H, W = 24, 32
RNG = np.random.default_rng(1)
IMAGES = RNG.uniform(0, 255, (3, H, W, 3)).astype("float32")


def _boxes(fmt, seed=0, batch=3, count=5):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-4, 28, (batch, count, 2))
    wh = rng.uniform(1, 14, (batch, count, 2))
    xyxy = np.concatenate([xy, xy + wh], -1).astype("float32")
    xyxy[:, -1] = -1  # padding boxes, as MaxNumBoundingBoxes writes them
    boxes = lb.convert_format(xyxy, "xyxy", fmt, height=H, width=W).numpy()
    return {"boxes": boxes, "labels": rng.integers(0, 5, (batch, count))}


def _both(name, kwargs, fmt, unbatched=False, training=True, seed=0):
    data = _boxes(fmt, seed)
    images = IMAGES
    if unbatched:
        data, images = {k: v[0] for k, v in data.items()}, IMAGES[0]
    outputs = []
    for module in (keras.layers, layers):
        layer = getattr(module, name)(**kwargs, bounding_box_format=fmt)
        outputs.append(layer({"images": images, "bounding_boxes": copy.deepcopy(data)},
                             training=training))
    return outputs


def _assert_same_boxes(expected, ours):
    for key in ("boxes", "labels"):
        want, got = expected["bounding_boxes"][key], ours["bounding_boxes"][key]
        assert isinstance(got, torch.Tensor) and got.dtype == want.dtype, key
        assert got.shape == want.shape, key
        assert torch.equal(got, want), (key, (got - want).abs().max())


CASES = [
    ("Resizing", {"height": 16, "width": 20}),
    ("Resizing", {"height": 16, "width": 20, "pad_to_aspect_ratio": True}),
    ("Resizing", {"height": 16, "width": 20, "crop_to_aspect_ratio": True}),
    ("Resizing", {"height": 40, "width": 20, "crop_to_aspect_ratio": True}),
    ("CenterCrop", {"height": 16, "width": 20}),
    ("CenterCrop", {"height": 30, "width": 20}),  # smaller image: crop to ratio, resize
    ("RandomFlip", {"seed": 3}),
    ("RandomFlip", {"mode": "horizontal", "seed": 3}),
    ("RandomFlip", {"mode": "vertical", "seed": 4}),
    ("RandomTranslation", {"height_factor": 0.3, "width_factor": 0.4, "seed": 5}),
    ("RandomZoom", {"height_factor": 0.4, "seed": 6}),
    ("RandomZoom", {"height_factor": (-0.5, 0.3), "width_factor": (-0.2, 0.6), "seed": 6}),
    ("RandomRotation", {"factor": 0.2, "seed": 7}),
    ("RandomShear", {"x_factor": 0.3, "y_factor": 0.2, "seed": 8}),
    ("RandomPerspective", {"factor": 0.8, "scale": 0.5, "seed": 9}),
]
# Keras 3.15 gets other formats wrong for these (see `test_xyxy_only_layers_convert_formats`).
XYXY_ONLY = ("RandomRotation", "RandomPerspective")


@pytest.mark.parametrize("name,kwargs", CASES)
def test_boxes_equal_keras_for_every_format(name, kwargs):
    formats = ["xyxy"] if name in XYXY_ONLY else SUPPORTED_FORMATS
    for fmt in formats:
        for unbatched in (False, True):
            expected, ours = _both(name, kwargs, fmt, unbatched)
            _assert_same_boxes(expected, ours)
            # The same draw moved the images.
            np.testing.assert_allclose(ours["images"].numpy(),
                                       np.asarray(expected["images"]), atol=2e-3)


@pytest.mark.parametrize("name,kwargs", [case for case in CASES if case[0] in XYXY_ONLY])
def test_xyxy_only_layers_convert_formats(name, kwargs):
    """Keras 3.15's RandomRotation moves non-`xyxy` boxes as if they were corners and its
    RandomPerspective returns `xyxy` whatever the format; keraslike's boxes are the `xyxy`
    result (which equals Keras's) in the layer's format."""
    expected, _ = _both(name, kwargs, "xyxy")
    for fmt in [f for f in SUPPORTED_FORMATS if f != "xyxy"]:
        moved = getattr(layers, name)(**kwargs, bounding_box_format=fmt)(
            {"images": IMAGES, "bounding_boxes": _boxes(fmt)})["bounding_boxes"]
        want = lb.convert_format(expected["bounding_boxes"]["boxes"], "xyxy", fmt, height=H,
                                 width=W)
        torch.testing.assert_close(moved["boxes"], want, atol=1e-4, rtol=1e-5)
        assert torch.equal(moved["labels"], expected["bounding_boxes"]["labels"])


@pytest.mark.parametrize("name,kwargs", [case for case in CASES if case[0].startswith("Random")])
def test_inference_keeps_boxes_as_keras(name, kwargs):
    expected, ours = _both(name, kwargs, "center_xywh", training=False)
    _assert_same_boxes(expected, ours)
    np.testing.assert_array_equal(ours["bounding_boxes"]["boxes"].numpy(),
                                  _boxes("center_xywh")["boxes"])


def _bright_box_image(box, size=(H, W)):
    """One image, zero but for the pixels of `box` (xyxy, integer corners)."""
    image = np.zeros(size + (3,), "float32")
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = 255.0
    return image


@pytest.mark.parametrize("layer", [
    lambda: layers.RandomFlip(seed=1, bounding_box_format="xyxy"),
    lambda: layers.RandomTranslation(0.2, 0.2, seed=2, fill_mode="constant",
                                     bounding_box_format="xyxy"),
    lambda: layers.RandomZoom(-0.3, seed=3, fill_mode="constant", bounding_box_format="xyxy"),
    lambda: layers.RandomRotation(0.1, seed=4, fill_mode="constant", bounding_box_format="xyxy"),
    lambda: layers.RandomPerspective(scale=0.3, seed=5, bounding_box_format="xyxy"),
    lambda: layers.Resizing(12, 40, bounding_box_format="xyxy"),
    lambda: layers.CenterCrop(20, 20, bounding_box_format="xyxy"),
])
def test_boxes_follow_the_object(layer):
    """The transformed box still encloses the object the images show."""
    box = (10, 6, 20, 14)
    images = np.stack([_bright_box_image(box)] * 4)
    data = {"images": images, "bounding_boxes": {"boxes": np.array([[box]] * 4, "float32"),
                                                 "labels": np.ones((4, 1), "int64")}}
    out = layer()(data)
    for image, (x1, y1, x2, y2) in zip(out["images"].numpy(), out["bounding_boxes"]["boxes"][:, 0]):
        ys, xs = np.nonzero(image[..., 0] > 127)
        assert len(ys) > 0
        # Pixel centres of the object lie inside the box (a pixel of slack for resampling).
        assert xs.min() + 0.5 >= x1 - 1 and xs.max() + 0.5 <= x2 + 1
        assert ys.min() + 0.5 >= y1 - 1 and ys.max() + 0.5 <= y2 + 1


def _position_images(height, width):
    """Images whose channels hold each pixel's row and column, to read a crop's window."""
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    image = np.stack([rows, cols, np.zeros_like(rows)], -1).astype("float32")
    return np.stack([image] * 2)


def test_random_crop_boxes_follow_the_window():
    images = _position_images(H, W)
    data = _boxes("xyxy", seed=2, batch=2)
    layer = layers.RandomCrop(10, 12, seed=9, bounding_box_format="xyxy")
    for _ in range(3):  # three draws
        out = layer({"images": images, "bounding_boxes": copy.deepcopy(data)})
        top, left = (int(v) for v in out["images"][0, 0, 0, :2])
        expected = lb.clip_to_image_size(
            {"boxes": lb.crop(data["boxes"], top, left, 10, 12), "labels": data["labels"]},
            height=10, width=12)
        assert torch.equal(out["bounding_boxes"]["boxes"], expected["boxes"])
        assert torch.equal(out["bounding_boxes"]["labels"], expected["labels"])
    # Not training: the centred window keraslike's images show (rows 0..9 of a 24-row image
    # are not centred: as keraslike's images, the window of the target ratio starts at 0, 10).
    out = layer({"images": images, "bounding_boxes": copy.deepcopy(data)}, training=False)
    top, left = (int(v) for v in out["images"][0, 0, 0, :2])
    assert torch.equal(out["bounding_boxes"]["boxes"],
                       lb.clip_to_image_size({"boxes": lb.crop(data["boxes"], top, left, 10, 12)},
                                             height=10, width=12)["boxes"])


def test_random_crop_of_a_small_image_scales_boxes():
    # 6 x 20 images, target 8 x 8: the 6 x 8 window at (0, 7) is resized to 8 x 8.
    images = np.zeros((1, 6, 20, 3), "float32")
    boxes = np.array([[[7.0, 0.0, 11.0, 3.0], [0.0, 0.0, 5.0, 5.0]]], "float32")
    out = layers.RandomCrop(8, 8, bounding_box_format="xyxy")(
        {"images": images, "bounding_boxes": {"boxes": boxes, "labels": np.array([[1, 2]])}})
    # The second box ends left of the window: no width left (label -1), heights scaled 8/6.
    np.testing.assert_allclose(out["bounding_boxes"]["boxes"].numpy(),
                               [[[0, 0, 4, 4], [0, 0, 0, 5 * 8 / 6]]], atol=1e-5)
    np.testing.assert_array_equal(out["bounding_boxes"]["labels"].numpy(), [[1, -1]])


def test_color_layers_keep_boxes_as_keras():
    data = _boxes("xywh")
    for name, kwargs in [("RandomContrast", {"factor": 0.5}), ("RandomGrayscale", {}),
                         ("RandomBrightness", {"factor": 0.3}), ("Solarization", {}),
                         ("RandomErasing", {})]:
        out = getattr(layers, name)(**kwargs, bounding_box_format="xywh", seed=1)(
            {"images": IMAGES, "bounding_boxes": copy.deepcopy(data)})
        np.testing.assert_array_equal(out["bounding_boxes"]["boxes"].numpy(), data["boxes"])
        np.testing.assert_array_equal(out["bounding_boxes"]["labels"].numpy(), data["labels"])


@pytest.mark.parametrize("make", [
    lambda: layers.RandomElasticTransform(bounding_box_format="xyxy"),
    lambda: layers.MixUp(bounding_box_format="xyxy"),
    lambda: layers.CutMix(bounding_box_format="xyxy"),
    lambda: layers.RandAugment(bounding_box_format="xyxy"),
    lambda: layers.AugMix(bounding_box_format="xyxy"),
])
def test_layers_without_box_support_refuse_boxes(make):
    layer = make()
    with pytest.raises(NotImplementedError, match=rf'{type(layer).__name__}\) does not support '
                                                  r"`bounding_boxes` yet"):
        layer({"images": IMAGES, "bounding_boxes": _boxes("xyxy")})


def test_segmentation_masks_are_refused_by_geometric_layers():
    masks = np.zeros((3, H, W, 1), "float32")
    with pytest.raises(NotImplementedError, match=r"RandomFlip\) does not support "
                                                  r"`segmentation_masks`"):
        layers.RandomFlip()({"images": IMAGES, "segmentation_masks": masks})
    with pytest.raises(NotImplementedError, match="segmentation_masks"):
        layers.Resizing(8, 8)({"images": IMAGES, "segmentation_masks": masks})
    out = layers.RandomContrast(0.2)({"images": IMAGES, "segmentation_masks": masks})
    assert out["segmentation_masks"] is masks  # colour only: masks kept


@pytest.mark.parametrize("make", [lambda: layers.RandomFlip(), lambda: layers.Resizing(8, 8),
                                  lambda: layers.MaxNumBoundingBoxes(3)])
def test_boxes_without_format_raise_as_keras(make):
    with pytest.raises(ValueError, match="didn't specify a bounding box format"):
        make()({"images": IMAGES, "bounding_boxes": _boxes("xyxy")})


def test_bad_box_dicts_raise():
    layer = layers.RandomFlip(bounding_box_format="xyxy")
    with pytest.raises(ValueError, match="keys 'boxes' and 'labels'"):
        layer({"images": IMAGES, "bounding_boxes": {"boxes": _boxes("xyxy")["boxes"]}})
    with pytest.raises(ValueError, match="rank 2 or 3"):
        layer({"images": IMAGES, "bounding_boxes": {"boxes": np.zeros((1, 3, 5, 4)),
                                                    "labels": np.zeros((1, 3, 5))}})


def test_image_labels_and_int32_box_labels_as_keras():
    data = {"boxes": np.array([[[1.0, 2.0, 9.0, 9.0], [20.0, 20.0, 40.0, 40.0]]]),
            "labels": np.array([[1, 2]], "int32")}
    expected, ours = [module.Resizing(12, 16, bounding_box_format="xyxy")(
        {"images": IMAGES[:1], "bounding_boxes": copy.deepcopy(data), "labels": np.array([3])})
        for module in (keras.layers, layers)]
    _assert_same_boxes(expected, ours)
    assert torch.equal(torch.as_tensor(ours["labels"]), torch.as_tensor(expected["labels"]))


@pytest.mark.parametrize("max_number", [1, 2, 4])
def test_max_num_bounding_boxes_equals_keras(max_number):
    data = {"boxes": _boxes("xyxy", batch=2, count=2)["boxes"],
            "labels": np.array([[1, 2], [3, 4]])}
    images = IMAGES[:2].astype("uint8")
    for unbatched in (False, True):
        sample = {k: v[0] for k, v in data.items()} if unbatched else data
        inputs = images[0] if unbatched else images
        expected, ours = [module.MaxNumBoundingBoxes(max_number, bounding_box_format="xyxy")(
            {"images": inputs, "bounding_boxes": copy.deepcopy(sample)})
            for module in (keras.layers, layers)]
        _assert_same_boxes(expected, ours)
        assert ours["images"].dtype == torch.uint8
        assert torch.equal(ours["images"], torch.as_tensor(expected["images"]))
    padded = layers.MaxNumBoundingBoxes(4, fill_value=0, bounding_box_format="xyxy")(
        {"images": images, "bounding_boxes": copy.deepcopy(data)})["bounding_boxes"]
    assert torch.all(padded["boxes"][:, 2:] == 0) and torch.all(padded["labels"][:, 2:] == 0)


def test_max_num_bounding_boxes_config_and_shapes():
    ours = layers.MaxNumBoundingBoxes(10, bounding_box_format="xyxy")
    theirs = keras.layers.MaxNumBoundingBoxes(10, bounding_box_format="xyxy")
    assert ours.get_config() == theirs.get_config() | {"name": ours.name}
    restored = layers.MaxNumBoundingBoxes.from_config(
        layers.MaxNumBoundingBoxes(3, fill_value=0, bounding_box_format="xyxy").get_config())
    assert (restored.max_number, restored.fill_value) == (3, 0)
    shape = {"images": (2, 8, 8, 3), "bounding_boxes": {"boxes": (2, 5, 4), "labels": (2, 5)}}
    assert ours.compute_output_shape(shape)["bounding_boxes"] == {"boxes": (2, 10, 4),
                                                                 "labels": (2, 10)}
    with pytest.raises(KeyError, match="unsupported keys"):
        ours.compute_output_shape({"bounding_boxes": {"boxes": (2, 5, 4), "labels": (2, 5),
                                                      "scores": (2, 5)}})
    images = IMAGES[:1].astype("uint8")
    assert torch.equal(ours(images), torch.as_tensor(images))


@pytest.mark.parametrize("name,kwargs", CASES[::2])
def test_configs_carry_the_box_format(name, kwargs):
    ours = getattr(layers, name)(**kwargs, bounding_box_format="rel_yxyx")
    theirs = getattr(keras.layers, name)(**kwargs, bounding_box_format="rel_yxyx")
    config = ours.get_config()
    assert config["bounding_box_format"] == "rel_yxyx"
    assert config == theirs.get_config() | {"name": config["name"]}
    assert type(ours).from_config(config).bounding_box_format == "rel_yxyx"
    assert "bounding_box_format" not in getattr(layers, name)(**kwargs).get_config()


def test_pipeline_of_box_layers_equals_keras():
    def pipeline(module):
        return module.Pipeline([
            module.RandomFlip(mode="horizontal", seed=11, bounding_box_format="xyxy"),
            module.RandomTranslation(0.1, 0.1, seed=12, bounding_box_format="xyxy"),
            module.Resizing(16, 16, pad_to_aspect_ratio=True, bounding_box_format="xyxy"),
            module.MaxNumBoundingBoxes(6, bounding_box_format="xyxy"),
        ])

    data = _boxes("xyxy", seed=5)
    expected, ours = [pipeline(module)({"images": IMAGES, "bounding_boxes": copy.deepcopy(data)})
                      for module in (keras.layers, layers)]
    _assert_same_boxes(expected, ours)


@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[5], CASES[9], CASES[11], CASES[13]])
def test_channels_first_boxes_equal_keras(name, kwargs):
    images = np.ascontiguousarray(IMAGES.transpose(0, 3, 1, 2))
    data = _boxes("rel_xywh", seed=3)
    expected, ours = [
        getattr(module, name)(**kwargs, data_format="channels_first",
                              bounding_box_format="rel_xywh")(
            {"images": images, "bounding_boxes": copy.deepcopy(data)})
        for module in (keras.layers, layers)
    ]
    _assert_same_boxes(expected, ours)
