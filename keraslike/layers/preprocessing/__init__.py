"""Preprocessing layers: image resizing, rescaling, normalization, and the text and
categorical layers (lookups, hashing, encoding, discretization, text vectorization)."""

from keraslike.layers.preprocessing.category_encoding import CategoryEncoding
from keraslike.layers.preprocessing.clahe import ContrastLimitedAdaptiveHistogramEqualization
from keraslike.layers.preprocessing.mel_spectrogram import MelSpectrogram
from keraslike.layers.preprocessing.stft_spectrogram import STFTSpectrogram
from keraslike.layers.preprocessing.discretization import Discretization
from keraslike.layers.preprocessing.hashing import HashedCrossing, Hashing
from keraslike.layers.preprocessing.image import CenterCrop, Resizing
from keraslike.layers.preprocessing.lookups import IntegerLookup, StringLookup
from keraslike.layers.preprocessing.max_num_bounding_boxes import MaxNumBoundingBoxes
from keraslike.layers.preprocessing.normalization import Normalization
from keraslike.layers.preprocessing.rescaling import Rescaling
from keraslike.layers.preprocessing.text_vectorization import TextVectorization
from keraslike.layers.preprocessing.color import (
    AutoContrast,
    RandomBrightness,
    RandomColorDegeneration,
    RandomContrast,
    RandomGrayscale,
    RandomInvert,
    Solarization,
)
from keraslike.layers.preprocessing.geometric import (
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from keraslike.layers.preprocessing.pipeline import Pipeline
from keraslike.layers.preprocessing.color_adjust import (
    RandomColorJitter,
    RandomHue,
    RandomSaturation,
)
from keraslike.layers.preprocessing.color_filters import (
    Equalization,
    RandomGaussianBlur,
    RandomPosterization,
    RandomSharpness,
)
from keraslike.layers.preprocessing.geometric_warp import (
    RandomElasticTransform,
    RandomPerspective,
    RandomShear,
)
from keraslike.layers.preprocessing.mixing import CutMix, MixUp, RandomErasing
from keraslike.layers.preprocessing.policies import AugMix, RandAugment
