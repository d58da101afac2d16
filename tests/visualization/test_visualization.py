"""keras.visualization: box outlines pixel-equal to OpenCV's (as Keras draws them) without OpenCV,
segmentation overlays equal to Keras's, and galleries with Keras's axes, titles and image data."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import keraslike as kl
from keraslike.visualization._box_format import SUPPORTED_FORMATS, to_xyxy

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# cv2.rectangle(np.zeros((13, 14), uint8), (x1, y1), (x2, y2), 255, thickness) with OpenCV 4.14
# and 5.1 (identical), the pixels Keras's draw_bounding_boxes sets: `#` drawn, `.` untouched.
OPENCV_RECTANGLES = {
    (3, 4, 10, 9, 1): (
        "..............",
        "..............",
        "..............",
        "..............",
        "...########...",
        "...#......#...",
        "...#......#...",
        "...#......#...",
        "...#......#...",
        "...########...",
        "..............",
        "..............",
        "..............",
    ),
    (3, 4, 10, 9, 2): (
        "..............",
        "..............",
        "..............",
        "...########...",
        "..##########..",
        "..##########..",
        "..###....###..",
        "..###....###..",
        "..##########..",
        "..##########..",
        "...########...",
        "..............",
        "..............",
    ),
    (3, 4, 10, 9, 3): (
        "..............",
        "..............",
        "...########...",
        "..##########..",
        ".############.",
        ".############.",
        ".############.",
        ".############.",
        ".############.",
        ".############.",
        "..##########..",
        "...########...",
        "..............",
    ),
    (3, 4, 10, 9, 5): (
        "..............",
        "...########...",
        ".############.",
        ".############.",
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
        ".############.",
        ".############.",
        "...########...",
    ),
    (-3, -2, 6, 20, 4): (
        "#########.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
    ),
    (9, 2, 4, 7, -1): (
        "..............",
        "..............",
        "....######....",
        "....######....",
        "....######....",
        "....######....",
        "....######....",
        "....######....",
        "..............",
        "..............",
        "..............",
        "..............",
        "..............",
    ),
    (6, 3, 6, 9, 3): (
        "..............",
        "......#.......",
        ".....###......",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        "....#####.....",
        ".....###......",
        "......#.......",
        "..............",
    ),
    (2, 2, 11, 10, 8): (
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
        "##############",
    ),
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _boxes(boxes, labels, **extra):
    return {"boxes": np.asarray(boxes, "float32"), "labels": np.asarray(labels), **extra}


def _drawn(image, background):
    """`#`/`.` rows of where `image` (H, W, C) differs from `background`."""
    changed = (image != background).any(-1)
    return tuple("".join("#" if v else "." for v in row) for row in changed)


# ---------------------------------------------------------------------------------------------
# Namespace and optional dependencies.


def test_namespace_has_keras_functions():
    keras = pytest.importorskip("keras")
    names = [n for n in dir(keras.visualization) if not n.startswith("_")]
    for name in names:
        assert callable(getattr(kl.visualization, name)), name
        assert not isinstance(getattr(kl.visualization, name), type(os)), name


@pytest.mark.slow
def test_import_does_not_import_matplotlib_or_pillow():
    code = (
        "import sys, keraslike, keraslike.visualization as v; v.draw_segmentation_masks; "
        "print(sorted(m for m in ('matplotlib', 'PIL', 'cv2', 'keras') if m in sys.modules))"
    )
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=_ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name", ["plot_image_gallery", "plot_bounding_box_gallery",
                                  "plot_segmentation_mask_gallery"])
def test_plots_without_matplotlib_say_how_to_install(monkeypatch, name):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    images = np.zeros((1, 4, 4, 3), "uint8")
    args = {"plot_image_gallery": (), "plot_bounding_box_gallery": ("xyxy",),
            "plot_segmentation_mask_gallery": (2,)}[name]
    with pytest.raises(ImportError, match=r"pip install matplotlib.*keraslike\[visualization\]"):
        getattr(kl.visualization, name)(images, *args, show=False)


def test_labels_without_pillow_say_how_to_install_and_boxes_need_none(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    images = np.zeros((1, 12, 12, 3), "uint8")
    boxes = _boxes([[[2, 2, 8, 8]]], [[0]])
    drawn = kl.visualization.draw_bounding_boxes(images, dict(boxes), "xyxy")
    assert drawn[0, 2, 2:9].tolist() == [[128, 128, 128]] * 7
    with pytest.raises(ImportError, match="pip install Pillow"):
        kl.visualization.draw_bounding_boxes(images, dict(boxes), "xyxy", class_mapping={0: "a"})


# ---------------------------------------------------------------------------------------------
# draw_bounding_boxes: outlines.


@pytest.mark.parametrize("case", sorted(OPENCV_RECTANGLES))
def test_box_outline_pixels_equal_opencv(case):
    x1, y1, x2, y2, thickness = case
    images = np.zeros((1, 13, 14, 3), "uint8")
    boxes = _boxes([[[x1, y1, x2, y2]]], [[0]])
    drawn = kl.visualization.draw_bounding_boxes(
        images, boxes, "xyxy", color=(255, 0, 7), line_thickness=thickness
    )
    assert drawn.dtype == np.uint8 and drawn.shape == images.shape
    assert _drawn(drawn[0], images[0]) == OPENCV_RECTANGLES[case]
    changed = (drawn[0] != 0).any(-1)
    assert (drawn[0][changed] == [255, 0, 7]).all()


def test_box_outline_matches_opencv_when_installed():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(0)
    for _ in range(200):
        height, width = (int(v) for v in rng.integers(1, 50, size=2))
        x1, x2 = (int(v) for v in rng.integers(-10, width + 10, size=2))
        y1, y2 = (int(v) for v in rng.integers(-10, height + 10, size=2))
        thickness = int(rng.choice([-1, 0, 1, 2, 3, 4, 5, 8, 13, 20]))
        expected = np.zeros((height, width, 3), "uint8")
        cv2.rectangle(expected, (x1, y1), (x2, y2), (9, 99, 199), thickness)
        drawn = kl.visualization.draw_bounding_boxes(
            np.zeros((1, height, width, 3), "uint8"), _boxes([[[x1, y1, x2, y2]]], [[1]]),
            "xyxy", color=(9, 99, 199), line_thickness=thickness,
        )
        np.testing.assert_array_equal(drawn[0], expected)


def test_box_corners_are_truncated_toward_zero_and_padding_labels_skipped():
    images = np.zeros((1, 13, 14, 3), "uint8")
    boxes = _boxes([[[3.9, 4.7, 10.99, 9.5], [1, 1, 12, 12]]], [[0, -1]])
    drawn = kl.visualization.draw_bounding_boxes(images, boxes, "xyxy", line_thickness=2)
    assert _drawn(drawn[0], images[0]) == OPENCV_RECTANGLES[(3, 4, 10, 9, 2)]


@pytest.mark.parametrize("fmt", SUPPORTED_FORMATS)
def test_every_box_format_draws_the_same_box(fmt):
    height, width = 13, 14
    x1, y1, x2, y2 = 3.0, 4.0, 10.0, 9.0
    w, h, cx, cy = x2 - x1, y2 - y1, (x1 + x2) / 2, (y1 + y2) / 2
    box = {
        "xyxy": [x1, y1, x2, y2], "yxyx": [y1, x1, y2, x2], "xywh": [x1, y1, w, h],
        "center_xywh": [cx, cy, w, h], "center_yxhw": [cy, cx, h, w],
    }[fmt.replace("rel_", "")]
    if fmt.startswith("rel_"):
        scale = {"xyxy": [width, height] * 2, "yxyx": [height, width] * 2,
                 "xywh": [width, height] * 2, "center_xywh": [width, height] * 2}
        box = list(np.asarray(box) / np.asarray(scale[fmt[4:]], "float64"))
    images = np.zeros((1, height, width, 3), "uint8")
    drawn = kl.visualization.draw_bounding_boxes(
        images, _boxes([[box]], [[0]]), fmt.upper(), line_thickness=3
    )
    # Relative boxes come back within float32 rounding of the corners, then truncate.
    expected = to_xyxy(np.asarray([box]), fmt, height, width)[0].astype("int32")
    assert abs(expected - [3, 4, 10, 9]).max() <= 1
    reference = kl.visualization.draw_bounding_boxes(
        images, _boxes([[expected]], [[0]]), "xyxy", line_thickness=3
    )
    np.testing.assert_array_equal(drawn, reference)


def test_box_format_conversion_equals_keras():
    pytest.importorskip("keras")
    from keras.src.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
        convert_format,
    )

    rng = np.random.default_rng(1)
    for fmt in SUPPORTED_FORMATS:
        boxes = rng.uniform(-5, 120, (3, 7, 4)).astype("float32")
        if fmt.startswith("rel_"):
            boxes = boxes / 100
        expected = np.asarray(convert_format(boxes, fmt, "xyxy", 37, 53))
        np.testing.assert_array_equal(to_xyxy(boxes, fmt, 37, 53), expected)


def test_image_values_are_converted_as_keras_does():
    boxes = _boxes([[[0, 0, 1, 1]]], [[-1]])  # nothing drawn: only the conversion shows
    unit = np.array([[[[0.5, 1.0, -0.2]]]], "float32")
    assert kl.visualization.draw_bounding_boxes(unit, boxes, "xyxy")[0, 0, 0].tolist() == [127, 255, 0]
    wide = np.array([[[[2.7, 300.0, -5.0]]]], "float32")
    assert kl.visualization.draw_bounding_boxes(wide, boxes, "xyxy")[0, 0, 0].tolist() == [2, 255, 0]
    tensor = torch.tensor([[[[10.0, 20.0, 30.0]]]])
    assert kl.visualization.draw_bounding_boxes(tensor, boxes, "xyxy")[0, 0, 0].tolist() == [10, 20, 30]


def test_input_is_not_drawn_on_and_colors_follow_channels():
    images = np.zeros((2, 13, 14, 4), "uint8")
    boxes = _boxes([[[3, 4, 10, 9]], [[3, 4, 10, 9]]], [[0], [0]])
    drawn = kl.visualization.draw_bounding_boxes(images, boxes, "xyxy", color=(300, 20.6, -4))
    assert not images.any()
    # OpenCV saturates and rounds the colour; a 4th channel gets 0, a grey image the first value.
    assert drawn[1, 4, 5].tolist() == [255, 21, 0, 0]
    gray = kl.visualization.draw_bounding_boxes(images[..., :1], boxes, "xyxy", color=(70, 1, 2))
    assert gray[0, 4, 5].tolist() == [70]
    assert _drawn(gray[0], images[0, ..., :1]) == OPENCV_RECTANGLES[(3, 4, 10, 9, 2)]


def test_channels_first_images_keep_their_layout():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 13, 14, 3)).astype("uint8")
    boxes = _boxes([[[0.2, 0.3, 0.7, 0.6]], [[0.1, 0.1, 0.5, 0.9]]], [[0], [1]])
    last = kl.visualization.draw_bounding_boxes(images, dict(boxes), "rel_xyxy")
    first = kl.visualization.draw_bounding_boxes(
        images.transpose(0, 3, 1, 2), dict(boxes), "rel_xyxy", data_format="channels_first"
    )
    assert first.shape == (2, 3, 13, 14)
    np.testing.assert_array_equal(first.transpose(0, 2, 3, 1), last)


def test_draw_bounding_boxes_errors_as_keras():
    images = np.zeros((1, 8, 8, 3), "uint8")
    with pytest.raises(ValueError, match="batched 4D"):
        kl.visualization.draw_bounding_boxes(images[0], _boxes([[[0, 0, 1, 1]]], [[0]]), "xyxy")
    with pytest.raises(TypeError, match="should be a dict"):
        kl.visualization.draw_bounding_boxes(images, [[0, 0, 1, 1]], "xyxy")
    with pytest.raises(ValueError, match="'boxes' and 'labels'"):
        kl.visualization.draw_bounding_boxes(images, {"boxes": np.zeros((1, 1, 4))}, "xyxy")
    with pytest.raises(ValueError, match="Invalid bounding box format"):
        kl.visualization.draw_bounding_boxes(images, _boxes([[[0, 0, 1, 1]]], [[0]]), "xxyy")
    with pytest.raises(ValueError, match="batch size"):
        kl.visualization.draw_bounding_boxes(images, _boxes([[[0, 0, 1, 1]]] * 2, [[0]] * 2), "xyxy")


# ---------------------------------------------------------------------------------------------
# draw_bounding_boxes: labels.


def test_labels_are_written_in_the_box_colour_where_keras_puts_them():
    images = np.zeros((1, 100, 160, 3), "uint8")
    color = (0, 200, 100)
    # Room above the first box (y1=60): Keras writes at (x1, y1 - 8), i.e. above the box.
    # The second box touches the top (y1=5): the text goes inside, baseline at y1 + 2*12 + 1 + 3.
    boxes = _boxes([[[20, 60, 150, 95], [90, 5, 150, 50]]], [[0, 1]])
    plain = kl.visualization.draw_bounding_boxes(images, dict(boxes), "xyxy", color=color)
    drawn = kl.visualization.draw_bounding_boxes(
        images, dict(boxes), "xyxy", color=color, class_mapping={0: "cat", 1: "dog"}
    )
    text = (drawn[0] != plain[0]).any(-1)
    assert (drawn[0][text] == color).all()
    rows, cols = np.nonzero(text[:, :85])  # the "cat" label
    assert 20 <= cols.min() <= 24 and rows.max() <= 60 - 8 + 1 and rows.min() >= 60 - 8 - 26
    rows, cols = np.nonzero(text[:, 92:])  # the "dog" label, inside its box
    baseline = 5 + 2 * 12 + 1 + 3
    assert cols.min() + 92 >= 93 and baseline - 26 <= rows.min() and rows.max() <= baseline + 8


def test_confidences_extend_the_label_and_unmapped_classes_get_none():
    images = np.zeros((1, 80, 200, 3), "uint8")
    boxes = _boxes([[[10, 50, 60, 70], [100, 50, 150, 70]]], [[0, 3]])
    plain = kl.visualization.draw_bounding_boxes(images, dict(boxes), "xyxy")
    named = kl.visualization.draw_bounding_boxes(images, dict(boxes), "xyxy", class_mapping={0: "a"})
    scored = kl.visualization.draw_bounding_boxes(
        images, dict(boxes, confidences=np.array([[0.5, 0.9]])), "xyxy", class_mapping={0: "a"}
    )
    assert not (named[0, :, 95:] != plain[0, :, 95:]).any()  # class 3 has no name: no label
    named_cols = np.nonzero((named[0] != plain[0]).any(-1).any(0))[0]
    scored_cols = np.nonzero((scored[0] != plain[0]).any(-1).any(0))[0]
    assert scored_cols.max() > named_cols.max() + 20  # "a | 0.50" is longer than "a"


# ---------------------------------------------------------------------------------------------
# draw_segmentation_masks: equal to Keras.


def _segmentation_inputs(seed=0, batch=2, height=5, width=6, classes=4):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (batch, height, width, 3)).astype("float32")
    masks = rng.integers(-1, classes, (batch, height, width, 1)).astype("int32")
    return images, masks


@pytest.mark.parametrize("kwargs", [
    {"num_classes": 4},
    {"num_classes": 5, "alpha": 0.35},
    {"num_classes": 4, "blend": False},
    {"num_classes": 4, "ignore_index": 2},
    {"num_classes": 4, "color_mapping": {0: (1, 2, 3), 1: (255, 0, 0), 2: (0, 255, 0),
                                         3: (10, 20, 250)}},
])
def test_segmentation_masks_equal_keras(kwargs):
    keras = pytest.importorskip("keras")
    images, masks = _segmentation_inputs()
    expected = np.asarray(keras.visualization.draw_segmentation_masks(images, masks, **kwargs))
    result = kl.visualization.draw_segmentation_masks(images, masks, **kwargs)
    assert isinstance(result, np.ndarray)
    assert result.dtype == expected.dtype == (np.uint8 if kwargs.get("blend", True) else np.float32)
    np.testing.assert_array_equal(result, expected)


def test_segmentation_masks_equal_keras_for_uint8_and_channels_first():
    keras = pytest.importorskip("keras")
    images, masks = _segmentation_inputs(seed=3)
    images = images.astype("uint8")
    expected = keras.visualization.draw_segmentation_masks(images, masks, num_classes=4)
    first = kl.visualization.draw_segmentation_masks(
        images.transpose(0, 3, 1, 2), masks.transpose(0, 3, 1, 2), num_classes=4,
        data_format="channels_first",
    )
    # Channels-last result whatever the input layout, as Keras.
    np.testing.assert_array_equal(first, expected)
    keras_first = keras.visualization.draw_segmentation_masks(
        images.transpose(0, 3, 1, 2), masks.transpose(0, 3, 1, 2), num_classes=4,
        data_format="channels_first",
    )
    np.testing.assert_array_equal(first, keras_first)


def test_segmentation_default_palette_and_blend_values():
    images = np.full((1, 2, 2, 3), 100, "float32")
    masks = np.array([[[0, 1], [2, -1]]], "int32")
    drawn = kl.visualization.draw_segmentation_masks(images, masks)  # 3D masks, 3 classes
    # Palette: class i -> (i * (2**25-1, 2**15-1, 2**21-1)) % 255; out = 0.2 * image + 0.8 * color.
    assert drawn[0].tolist() == [[[20, 20, 20], [20, 121, 44]], [[21, 223, 69], [100, 100, 100]]]
    np.testing.assert_array_equal(drawn, kl.visualization.draw_segmentation_masks(
        images, masks[..., None], num_classes=3))
    painted = kl.visualization.draw_segmentation_masks(images, masks, blend=False)
    assert painted[0].tolist() == [[[0, 0, 0], [1, 127, 31]], [[2, 254, 62], [100, 100, 100]]]


def test_segmentation_errors():
    images, masks = _segmentation_inputs()
    with pytest.raises(TypeError, match="integer dtype"):
        kl.visualization.draw_segmentation_masks(images, masks.astype("float32"), num_classes=4)
    with pytest.raises(ValueError, match="class 3.*num_classes=3"):
        kl.visualization.draw_segmentation_masks(images, masks, num_classes=3)
    with pytest.raises(KeyError, match=r"missing: \[0\]"):
        kl.visualization.draw_segmentation_masks(
            images, np.minimum(masks, 1), num_classes=2, color_mapping={1: (1, 1, 1)}
        )
    with pytest.raises(ValueError, match="batched 4D"):
        kl.visualization.draw_segmentation_masks(images[0], masks[0], num_classes=4)
    with pytest.raises(ValueError, match="batch size, height and width"):
        kl.visualization.draw_segmentation_masks(images, masks[:, :4], num_classes=4)


# ---------------------------------------------------------------------------------------------
# Galleries: the figure Keras makes.


def _figure_state(fig):
    axes = fig.axes
    return {
        "size": tuple(np.round(fig.get_size_inches(), 6)),
        "axes": len(axes),
        "titles": [ax.get_title() for ax in axes],
        "images": [np.asarray(ax.images[0].get_array()) if ax.images else None for ax in axes],
        "axis_on": [ax.axison for ax in axes],
        "legends": [[t.get_text() for t in legend.get_texts()] for legend in fig.legends],
    }


def _assert_same_figure(result, expected):
    for key in ("size", "axes", "titles", "axis_on", "legends"):
        assert result[key] == expected[key], key
    for got, want in zip(result["images"], expected["images"]):
        assert got.dtype == want.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


def _keras_figure(function, *args, **kwargs):
    function(*args, show=False, **kwargs)
    state = _figure_state(plt.gcf())
    plt.close("all")
    return state


def _our_figure(function, *args, **kwargs):
    assert function(*args, show=False, **kwargs) is None
    return _figure_state(plt.gcf())


@pytest.mark.parametrize("kwargs", [
    {},
    {"value_range": (0, 1), "scale": 1.5},
    {"y_true": np.array([0, 1, 2, 1]), "y_pred": np.array([1, 1, 5, 0]),
     "label_map": {0: "cat", 1: "dog", 2: "bird"}},
    {"rows": 1, "cols": 3},
])
def test_image_gallery_equals_keras(kwargs):
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    unit = kwargs.get("value_range") == (0, 1)
    images = rng.uniform(0, 1 if unit else 255, (4, 6, 5, 3)).astype("float32")
    expected = _keras_figure(keras.visualization.plot_image_gallery, images, **kwargs)
    result = _our_figure(kl.visualization.plot_image_gallery, images, **kwargs)
    _assert_same_figure(result, expected)
    assert result["axes"] == kwargs.get("rows", 2) * kwargs.get("cols", 2)
    if "label_map" in kwargs:
        assert result["titles"][2] == "Label: bird  Pred: Unknown"


def test_image_gallery_shows_every_image_and_fixes_channels_first():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 6, 5, 3)).astype("uint8")
    # Keras's default grid for 3 images is 2 x 1 (one image dropped); here 2 x 2, one cell empty.
    state = _our_figure(kl.visualization.plot_image_gallery, images)
    assert state["axes"] == 4 and state["images"][3] is None and not any(state["axis_on"])
    for shown, image in zip(state["images"][:3], images):
        np.testing.assert_array_equal(shown, image)
    plt.close("all")
    first = _our_figure(kl.visualization.plot_image_gallery, images.transpose(0, 3, 1, 2),
                        data_format="channels_first")
    for shown, image in zip(first["images"][:3], images):
        np.testing.assert_array_equal(shown, image)
    plt.close("all")
    gray = _our_figure(kl.visualization.plot_image_gallery, images[..., :1])
    np.testing.assert_array_equal(gray["images"][0], images[0, ..., 0])


def test_image_gallery_saves_to_path_and_checks_arguments(tmp_path):
    images = np.zeros((2, 4, 4, 3), "uint8")
    path = tmp_path / "gallery.png"
    kl.visualization.plot_image_gallery(images, path=str(path))
    assert path.stat().st_size > 0 and plt.get_fignums() == []
    with pytest.raises(ValueError, match="either `path`"):
        kl.visualization.plot_image_gallery(images, path=str(path), show=True)
    with pytest.raises(ValueError, match="label_map"):
        kl.visualization.plot_image_gallery(images, y_true=np.array([0, 1]))
    with pytest.raises(ValueError, match="batch"):
        kl.visualization.plot_image_gallery(images[0])


def test_bounding_box_gallery_without_boxes_equals_keras():
    keras = pytest.importorskip("keras")
    images = np.random.default_rng(0).uniform(0, 1, (4, 6, 5, 3)).astype("float32")
    kwargs = {"value_range": (0, 1), "legend": True}
    expected = _keras_figure(keras.visualization.plot_bounding_box_gallery, images, "xyxy", **kwargs)
    result = _our_figure(kl.visualization.plot_bounding_box_gallery, images, "xyxy", **kwargs)
    _assert_same_figure(result, expected)
    assert result["legends"] == [["Ground Truth", "Prediction"]]
    handles = plt.gcf().legends[0].legend_handles
    np.testing.assert_allclose(handles[0].get_facecolor()[:3], np.array([0, 188, 212]) / 255)


def test_bounding_box_gallery_shows_the_drawn_images():
    images = np.random.default_rng(0).uniform(0, 1, (2, 20, 24, 3)).astype("float32")
    y_true = _boxes([[[2, 2, 12, 12]], [[1, 3, 20, 15]]], [[0], [1]])
    y_pred = _boxes([[[5, 6, 20, 18]], [[0, 0, 9, 9]]], [[1], [-1]])
    state = _our_figure(kl.visualization.plot_bounding_box_gallery, images, "xyxy",
                        y_true=y_true, y_pred=y_pred, value_range=(0, 1), line_thickness=1)
    # Images are brought to [0, 255] once, then ground truth and predictions are drawn.
    scaled = np.clip(images * np.float32(255), 0, 255).astype("uint8")
    expected = kl.visualization.draw_bounding_boxes(
        scaled, y_true, "xyxy", color=(0, 188, 212), line_thickness=1)
    expected = kl.visualization.draw_bounding_boxes(
        expected, y_pred, "xyxy", color=(255, 235, 59), line_thickness=1)
    assert state["axes"] == 2
    for shown, image in zip(state["images"], expected):
        np.testing.assert_array_equal(shown, image)
    assert state["images"][0][2, 2].tolist() == [0, 188, 212]
    assert state["images"][0][18, 20].tolist() == [255, 235, 59]
    with pytest.raises(ValueError, match="Only pass `legend` OR `legend_handles`"):
        kl.visualization.plot_bounding_box_gallery(images, "xyxy", legend=True,
                                                   legend_handles=["x"], show=False)


@pytest.mark.parametrize("kwargs", [
    {"y_true": True, "y_pred": True},
    {"y_true": True, "blend": False},
    {"y_pred": True, "alpha": 0.5, "data_format": "channels_first"},
])
def test_segmentation_gallery_equals_keras(kwargs):
    keras = pytest.importorskip("keras")
    images, y_true = _segmentation_inputs(seed=1, batch=3)
    _, y_pred = _segmentation_inputs(seed=2, batch=3)
    kwargs = dict(kwargs)
    if kwargs.pop("y_true", False):
        kwargs["y_true"] = y_true
    if kwargs.pop("y_pred", False):
        kwargs["y_pred"] = y_pred
    if kwargs.get("data_format") == "channels_first":
        images = images.transpose(0, 3, 1, 2)
        kwargs = {k: (v.transpose(0, 3, 1, 2) if k.startswith("y_") else v)
                  for k, v in kwargs.items()}
    expected = _keras_figure(keras.visualization.plot_segmentation_mask_gallery, images, 4, **kwargs)
    result = _our_figure(kl.visualization.plot_segmentation_mask_gallery, images, 4, **kwargs)
    _assert_same_figure(result, expected)
    assert result["axes"] == 3 * (1 + ("y_true" in kwargs) + ("y_pred" in kwargs))


def test_segmentation_gallery_rescales_images_once():
    images, masks = _segmentation_inputs(seed=4, batch=1)
    unit = images / np.float32(255)
    state = _our_figure(kl.visualization.plot_segmentation_mask_gallery, unit, 4,
                        y_true=masks[..., 0], value_range=(0, 1))
    scaled = unit / np.float32(1) * np.float32(255) + np.float32(0)
    np.testing.assert_array_equal(state["images"][0], scaled[0].astype("uint8"))
    drawn = kl.visualization.draw_segmentation_masks(scaled, masks, num_classes=4)
    np.testing.assert_array_equal(state["images"][1], drawn[0])
