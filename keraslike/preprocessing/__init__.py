"""`keras.preprocessing`: Keras 3's aliases of the data utilities (`keras.preprocessing.sequence`,
`keras.preprocessing.timeseries_dataset_from_array`)."""

from keraslike.preprocessing import sequence
from keraslike.utils.timeseries_dataset_utils import timeseries_dataset_from_array

__all__ = ["sequence", "timeseries_dataset_from_array"]
