"""`keras.preprocessing`: Keras 3's aliases of the data utilities (`keras.preprocessing.image`,
`keras.preprocessing.sequence`, the `*_dataset_from_*` functions)."""

from keraslike.preprocessing import image, sequence
from keraslike.utils.image_dataset_utils import image_dataset_from_directory
from keraslike.utils.text_dataset_utils import text_dataset_from_directory
from keraslike.utils.timeseries_dataset_utils import timeseries_dataset_from_array

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
