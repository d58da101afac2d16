"""`keras.preprocessing.image`: the image file and array helpers (the same functions as
`keras.utils`), and `smart_resize`."""

from keraslike.utils.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
