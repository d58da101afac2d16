"""MaxNumBoundingBoxes: pads or truncates the boxes of a dict input to a fixed number."""

import torch
import torch.nn.functional as F

from keraslike.backend import config as backend_config
from keraslike.layers.layer import Layer
from keraslike.layers.preprocessing._boxes import DeterministicDictInput
from keraslike.utils.bounding_boxes._tensors import as_tensor


class MaxNumBoundingBoxes(DeterministicDictInput, Layer):
    """Ensures the maximum number of bounding boxes.

    Boxes beyond `max_number` are dropped; missing ones are added as padding (boxes and
    labels equal to `fill_value`), so every batch has boxes `(B, max_number, 4)` and labels
    `(B, max_number)`. Images and other entries are returned unchanged.

    Args:
        max_number: Desired output number of bounding boxes.
        fill_value: The padding value of the `boxes` and `labels`. Defaults to `-1`.
        bounding_box_format: Format of the boxes (required for dict inputs with
            `"bounding_boxes"`, as Keras), e.g. `"xyxy"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:

    >>> layer = keras.layers.MaxNumBoundingBoxes(max_number=10, bounding_box_format="xyxy")
    >>> images = np.random.randint(0, 255, (1, 224, 224, 3), dtype="uint8")
    >>> bounding_boxes = {
    ...     "boxes": np.array([[[10, 20, 100, 150], [50, 60, 200, 250], [0, 0, 50, 50]]]),
    ...     "labels": np.array([[1, 2, 3]]),
    ... }
    >>> result = layer({"images": images, "bounding_boxes": bounding_boxes})
    >>> result["bounding_boxes"]["boxes"].shape
    torch.Size([1, 10, 4])
    """

    _allow_non_tensor_positional_args = True

    def __init__(self, max_number, fill_value=-1, bounding_box_format=None, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)
        self.bounding_box_format = bounding_box_format
        self.data_format = backend_config.standardize_data_format(data_format)

    def call(self, inputs):
        return as_tensor(inputs)  # images pass through (dtype kept)

    def transform_bounding_boxes(self, bounding_boxes, image_size=None):
        """Pads (with `fill_value`) or truncates batched `"boxes"` `(B, N, 4)` and `"labels"`
        `(B, N)` to `max_number` boxes."""
        boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
        keep = min(boxes.shape[1], self.max_number)
        missing = self.max_number - keep
        boxes = F.pad(boxes[:, :keep], (0, 0, 0, missing), value=self.fill_value)
        labels = labels[:, :keep]
        if missing:
            padding = torch.full((labels.shape[0], missing) + tuple(labels.shape[2:]),
                                 self.fill_value, dtype=labels.dtype, device=labels.device)
            labels = torch.cat([labels, padding], dim=1)
        out = dict(bounding_boxes)
        out["boxes"], out["labels"] = boxes, labels
        return out

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            extra = set(input_shape["bounding_boxes"]) - {"boxes", "labels"}
            if extra:
                raise KeyError(
                    f"There are unsupported keys in `bounding_boxes`: {list(extra)}. "
                    "Only `boxes` and `labels` are supported."
                )
            shapes = dict(input_shape["bounding_boxes"])
            for key in ("boxes", "labels"):
                shape = list(shapes[key])
                shape[1] = self.max_number
                shapes[key] = tuple(shape)
            return {**input_shape, "bounding_boxes": shapes}
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        config["max_number"] = self.max_number
        # Keras leaves `fill_value` out of its config (and so loses it on reload); it is
        # written only when not the default, so default configs stay Keras's.
        if self.fill_value != -1:
            config["fill_value"] = self.fill_value
        return config
