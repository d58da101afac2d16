"""Small datasets (`keras.datasets`), read from local files without pickle.

Files are looked up in `$KERASLIKE_DATASETS_DIR`, else `$KERAS_HOME/datasets`, else
`~/.keras/datasets` (Keras's cache, so files Keras downloaded are reused), and
downloaded only when missing and allowed (`load_data(download=...)`).
"""

from keraslike.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
from keraslike.datasets._files import datasets_dir
from keraslike.datasets._sequences import save_sequences_npz

__all__ = [
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "datasets_dir",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
    "save_sequences_npz",
]
