"""Drawing helpers (`keras.visualization`): boxes and masks on images, and image galleries.

NumPy and torch only at import; the `plot_*` functions import matplotlib when called, and box
labels use Pillow when drawn.
"""

from keraslike.visualization.draw_bounding_boxes import draw_bounding_boxes
from keraslike.visualization.draw_segmentation_masks import draw_segmentation_masks
from keraslike.visualization.plot_bounding_box_gallery import plot_bounding_box_gallery
from keraslike.visualization.plot_image_gallery import plot_image_gallery
from keraslike.visualization.plot_segmentation_mask_gallery import plot_segmentation_mask_gallery

__all__ = [
    "draw_bounding_boxes",
    "draw_segmentation_masks",
    "plot_bounding_box_gallery",
    "plot_image_gallery",
    "plot_segmentation_mask_gallery",
]
