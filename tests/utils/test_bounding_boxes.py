"""`keras.utils.bounding_boxes` against Keras 3 (torch backend): the same float32 arithmetic, so
every function must give Keras's numbers exactly (`torch.equal`), for every format pair and on
overlapping, disjoint, identical and degenerate boxes."""

import itertools

import numpy as np
import pytest
import torch

from keraslike.utils import bounding_boxes as lb
from keraslike.utils.bounding_boxes.formats import SUPPORTED_FORMATS

keras = pytest.importorskip("keras")
kb = keras.utils.bounding_boxes

H, W = 97, 131


def _boxes(seed, shape=(3, 5)):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-10, 120, shape + (2,))
    wh = rng.uniform(0.5, 60, shape + (2,))
    return np.concatenate([xy, xy + wh], -1).astype("float32")


def _same(keras_value, ours):
    expected = torch.as_tensor(np.asarray(keras_value))
    assert isinstance(ours, torch.Tensor)
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    assert torch.equal(ours, expected), (ours - expected).abs().max()


@pytest.mark.parametrize("source", SUPPORTED_FORMATS)
def test_convert_format_every_pair_equals_keras(source):
    xyxy = _boxes(0)
    boxes = kb.convert_format(xyxy, "xyxy", source, height=H, width=W).numpy()
    for target in SUPPORTED_FORMATS:
        _same(kb.convert_format(boxes, source, target, height=H, width=W),
              lb.convert_format(boxes, source, target, height=H, width=W))
        upper = target.upper()  # formats are case-insensitive
        _same(kb.convert_format(boxes, source.upper(), upper, height=H, width=W),
              lb.convert_format(boxes, source.upper(), upper, height=H, width=W))


def test_convert_format_values_dtypes_and_dicts():
    boxes = np.array([[10, 20, 30, 40], [50, 60, 70, 80]])
    out = lb.convert_format(boxes, "xyxy", "xywh")
    np.testing.assert_array_equal(out.numpy(), [[10, 20, 20, 20], [50, 60, 20, 20]])
    assert out.dtype == torch.float32
    assert lb.convert_format(boxes, "xyxy", "xyxy", dtype="float64").dtype == torch.float64
    rel = lb.convert_format(boxes, "xyxy", "rel_xyxy", height=200, width=300)
    np.testing.assert_allclose(rel.numpy()[0], [10 / 300, 0.1, 0.1, 0.2], rtol=1e-6)
    data = {"boxes": boxes, "labels": np.array([1, 2])}
    result = lb.convert_format(data, "xyxy", "center_yxhw")
    assert result is data  # updated in place and returned, as Keras
    _same(kb.convert_format(boxes, "xyxy", "center_yxhw"), result["boxes"])
    # Between two relative formats the image size is never used.
    np.testing.assert_allclose(
        lb.convert_format(np.array([[0.1, 0.2, 0.5, 0.6]]), "rel_xyxy", "rel_xywh",
                          height=1, width=1).numpy(), [[0.1, 0.2, 0.4, 0.4]], rtol=1e-6)


def test_convert_format_errors_as_keras():
    with pytest.raises(ValueError, match="last dimension of 4"):
        lb.convert_format(np.zeros((2, 3)), "xyxy", "xywh")
    with pytest.raises(ValueError, match="Invalid source or target format"):
        lb.convert_format(np.zeros((2, 4)), "xyxy", "corners")
    with pytest.raises(ValueError, match="must receive `height` and `width`"):
        lb.convert_format(np.zeros((2, 4)), "xyxy", "rel_xyxy")
    for call in (lambda: kb.convert_format(np.zeros((2, 3)), "xyxy", "xywh"),
                 lambda: kb.convert_format(np.zeros((2, 4)), "xyxy", "rel_xyxy")):
        with pytest.raises(ValueError):
            call()


# Overlapping, identical, disjoint, touching, zero-width and nested boxes.
PAIRS = np.array([
    [[10, 10, 50, 50], [30, 30, 70, 70]],
    [[10, 10, 50, 50], [10, 10, 50, 50]],
    [[0, 0, 10, 10], [20, 20, 30, 30]],
    [[0, 0, 10, 10], [10, 0, 20, 10]],
    [[5, 5, 5, 25], [0, 0, 10, 10]],
    [[0, 0, 100, 100], [40, 45, 60, 50]],
], dtype="float32")


@pytest.mark.parametrize("fmt", ["xyxy", "yxyx", "xywh", "center_xywh", "rel_xyxy"])
def test_compute_iou_equals_keras(fmt):
    image_shape = (H, W, 3) if fmt.startswith("rel") else None
    size = dict(height=H, width=W)
    first = kb.convert_format(PAIRS[:, 0], "xyxy", fmt, **size).numpy()
    second = kb.convert_format(PAIRS[:, 1], "xyxy", fmt, **size).numpy()
    iou = lb.compute_iou(first, second, fmt, image_shape=image_shape)
    _same(kb.compute_iou(first, second, fmt, image_shape=image_shape), iou)
    if fmt == "xyxy":  # the numbers themselves
        diagonal = torch.diagonal(iou).numpy()
        np.testing.assert_allclose(diagonal, [400 / 2800, 1, 0, 0, 0, 100 / 10000], atol=1e-6)
    batched = _boxes(3)
    batched = kb.convert_format(batched, "xyxy", fmt, **size).numpy()
    for a, b in ((batched, first), (first, batched), (batched, batched[::-1].copy())):
        _same(kb.compute_iou(a, b, fmt, image_shape=image_shape),
              lb.compute_iou(a, b, fmt, image_shape=image_shape))


def test_compute_iou_masking_and_errors():
    first = PAIRS[:, 0].copy()
    first[2] = -1  # a padding box
    for mask_val in (-1, 0):
        _same(kb.compute_iou(first, PAIRS[:, 1], "xyxy", use_masking=True, mask_val=mask_val),
              lb.compute_iou(first, PAIRS[:, 1], "xyxy", use_masking=True, mask_val=mask_val))
    masked = lb.compute_iou(first, PAIRS[:, 1], "xyxy", use_masking=True, mask_val=-1)
    assert torch.all(masked[2] == -1)
    with pytest.raises(ValueError, match="expects boxes1"):
        lb.compute_iou(np.zeros((1, 1, 1, 4)), PAIRS[:, 1], "xyxy")
    with pytest.raises(ValueError, match="image_shape"):
        lb.compute_iou(PAIRS[:, 0], PAIRS[:, 1], "rel_xyxy")


@pytest.mark.parametrize("fmt", ["xyxy", "yxyx", "center_xywh"])
def test_compute_ciou_equals_keras(fmt):
    first = kb.convert_format(PAIRS[:, 0], "xyxy", fmt).numpy()
    second = kb.convert_format(PAIRS[:, 1], "xyxy", fmt).numpy()
    ciou = lb.compute_ciou(first, second, fmt)
    _same(kb.compute_ciou(first, second, fmt), ciou)
    assert ciou[1].item() == pytest.approx(1.0, abs=1e-5)  # identical boxes
    assert ciou[2].item() < 0  # disjoint: IoU 0 minus the centre-distance term
    batched = _boxes(4)
    _same(kb.compute_ciou(batched, batched[:, ::-1].copy(), "xyxy"),
          lb.compute_ciou(batched, batched[:, ::-1].copy(), "xyxy"))


def test_clip_to_image_size_equals_keras():
    data = {"boxes": _boxes(5) - 20, "labels": np.arange(15).reshape(3, 5)}
    data["boxes"][0, 0] = [-30, -30, -5, -5]  # entirely outside: label -1
    expected = kb.clip_to_image_size(dict(data), height=60, width=70)
    ours = lb.clip_to_image_size(dict(data), height=60, width=70)
    _same(expected["boxes"], ours["boxes"])
    _same(expected["labels"], ours["labels"])
    assert ours["labels"][0, 0] == -1
    rel = {"boxes": _boxes(6) / 80 - 0.2, "labels": np.arange(15, dtype="int32").reshape(3, 5)}
    expected = kb.clip_to_image_size(dict(rel), bounding_box_format="rel_xyxy")
    ours = lb.clip_to_image_size(dict(rel), bounding_box_format="rel_xyxy")
    _same(expected["boxes"], ours["boxes"])
    _same(expected["labels"], ours["labels"])
    with pytest.raises(NotImplementedError):
        lb.clip_to_image_size(dict(data), 60, 70, bounding_box_format="xywh")
    with pytest.raises(ValueError, match="`height` and `width` must be set"):
        lb.clip_to_image_size(dict(data))


def test_crop_and_pad_equal_keras():
    boxes = np.array([[10, 20, 50, 60], [70, 80, 100, 120]])
    _same(kb.crop(boxes, top=10, left=20, height=40, width=30),
          lb.crop(boxes, top=10, left=20, height=40, width=30))
    np.testing.assert_array_equal(lb.crop(boxes, 10, 20, 40, 30).numpy(),
                                  [[0, 10, 30, 40], [30, 40, 30, 40]])
    floats = _boxes(7)
    _same(kb.crop(floats, 5, 7, 50, 60), lb.crop(floats, 5, 7, 50, 60))
    _same(kb.pad(floats, 3, 4), lb.pad(floats, 3, 4))
    np.testing.assert_array_equal(lb.pad(boxes, 3, 4).numpy(),
                                  [[14, 23, 54, 63], [74, 83, 104, 123]])
    for function in (lb.crop, lb.pad):
        with pytest.raises(NotImplementedError):
            function(boxes, 1, 2, 3, 4, bounding_box_format="xywh")


def test_affine_transform_equals_keras():
    rng = np.random.default_rng(8)
    boxes = _boxes(8)

    def draw(low, high):
        return torch.as_tensor(rng.uniform(low, high, 3).astype("float32"))

    args = (draw(-90, 90), draw(-0.2, 0.2), draw(-0.2, 0.2), draw(0.5, 1.5), draw(-20, 20),
            draw(-20, 20), H, W)
    _same(kb.affine_transform(boxes, *args), lb.affine_transform(boxes, *args))
    _same(kb.affine_transform(boxes, *args, center_x=0.3, center_y=0.6),
          lb.affine_transform(boxes, *args, center_x=0.3, center_y=0.6))
    # A 180 degree turn about the centre maps [x1, y1, x2, y2] to the mirrored box.
    zeros, ones = torch.zeros(1), torch.ones(1)
    half_turn = lb.affine_transform(np.array([[[10.0, 20.0, 30.0, 50.0]]]), torch.tensor([180.0]),
                                    zeros, zeros, ones, zeros, zeros, 101, 81)
    np.testing.assert_allclose(half_turn.numpy(), [[[50, 50, 70, 80]]], atol=1e-4)
    with pytest.raises(NotImplementedError):
        lb.affine_transform(boxes, *args, bounding_box_format="yxyx")


@pytest.mark.parametrize("encoding", ["center_yxhw", "center_xywh"])
@pytest.mark.parametrize("variance", [None, [0.1, 0.1, 0.2, 0.2]])
def test_encode_decode_deltas_equal_keras(encoding, variance):
    anchors, boxes = _boxes(9)[0], _boxes(10)
    anchors[0, 2] = anchors[0, 0]  # a zero-width anchor: sizes floor at epsilon, as Keras
    deltas = lb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding, variance)
    _same(kb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding, variance), deltas)
    decoded = lb.decode_deltas_to_boxes(anchors, deltas, "xyxy", "yxyx", encoding, variance)
    _same(kb.decode_deltas_to_boxes(anchors, deltas, "xyxy", "yxyx", encoding, variance),
          decoded)
    levels = lb.decode_deltas_to_boxes({"p3": anchors}, {"p3": deltas}, "xyxy", "xyxy",
                                       encoding, variance)
    np.testing.assert_allclose(levels["p3"][:, 1:].numpy(), boxes[:, 1:], rtol=1e-4, atol=1e-3)


def test_deltas_relative_formats_and_errors():
    anchors, boxes = _boxes(11)[0] / 200, _boxes(12) / 200
    shape = (H, W, 3)
    _same(kb.encode_box_to_deltas(anchors, boxes, "rel_xyxy", "rel_xyxy", image_shape=shape),
          lb.encode_box_to_deltas(anchors, boxes, "rel_xyxy", "rel_xyxy", image_shape=shape))
    with pytest.raises(ValueError, match="`variance` must be length 4"):
        lb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", variance=[1, 1])
    with pytest.raises(ValueError, match="`encoding_format` should be one of"):
        lb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding_format="xyxy")
    with pytest.raises(ValueError, match="`encoded_format` should be"):
        lb.decode_deltas_to_boxes(anchors, boxes, "xyxy", "xyxy", encoded_format="xyxy")


def test_public_surface_and_visualization_share_one_implementation():
    import keraslike as kl
    from keraslike.visualization import _box_format

    names = ["affine_transform", "clip_to_image_size", "compute_ciou", "compute_iou",
             "convert_format", "crop", "decode_deltas_to_boxes", "encode_box_to_deltas", "pad"]
    assert sorted(lb.__all__) == names
    assert all(hasattr(kb, name) for name in names)
    assert kl.utils.bounding_boxes is lb
    assert _box_format.convert_format is lb.convert_format
    boxes = kb.convert_format(_boxes(13), "xyxy", "rel_center_xywh", height=H, width=W).numpy()
    drawn = _box_format.to_xyxy(boxes, "rel_center_xywh", H, W)
    assert isinstance(drawn, np.ndarray)
    np.testing.assert_array_equal(
        drawn, kb.convert_format(boxes, "rel_center_xywh", "xyxy", height=H, width=W).numpy())
