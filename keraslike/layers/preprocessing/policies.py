"""Augmentation policies built from the other layers: RandAugment and AugMix (Keras 3's
operation lists, draws and mixing).

Which operation runs is drawn on the host (a CPU generator seeded from the layer's
`SeedGenerator`), so choosing costs no device read and only the chosen operations run; Keras's
RandAugment computes every operation and selects with `where`, which gives the same images.
Keras's AugMix picks its operations with Python's unseeded `random`, so `seed=` does not repeat
its images; keraslike's picks follow the seed (see `AugMix`).
"""

import torch

from keraslike.layers.preprocessing.augmentation_base import BaseAugmentation
from keraslike.layers.preprocessing.color import (
    AutoContrast,
    RandomBrightness,
    RandomColorDegeneration,
    RandomContrast,
    Solarization,
    _value_range,
)
from keraslike.layers.preprocessing.color_filters import (
    Equalization,
    RandomPosterization,
    RandomSharpness,
)
from keraslike.layers.preprocessing.geometric import RandomRotation, RandomTranslation
from keraslike.layers.preprocessing.geometric_warp import RandomShear
from keraslike.random.seed_generator import SeedGenerator

# Sets AugMix's choice stream apart from the 32-bit seeds of the generator's own draws.
_CHOICE_STREAM = 1 << 40

_GEOMETRIC = ("random_shear", "random_translation", "random_rotation")
_TONE = ("random_posterization", "solarization", "auto_contrast", "equalization")
_COLOR = ("random_brightness", "random_color_degeneration", "random_contrast",
          "random_sharpness")


def _operations(factor, value_range, interpolation, seed, data_format):
    """The operations RandAugment and AugMix choose from, by Keras's attribute names."""
    common = {"seed": seed, "data_format": data_format}
    colour = {"value_range": value_range, **common}
    return {
        "random_shear": RandomShear(x_factor=factor, y_factor=factor,
                                    interpolation=interpolation, **common),
        "random_translation": RandomTranslation(height_factor=factor, width_factor=factor,
                                                interpolation=interpolation, **common),
        "random_rotation": RandomRotation(factor=factor, interpolation=interpolation, **common),
        "random_brightness": RandomBrightness(factor=factor, **colour),
        "random_color_degeneration": RandomColorDegeneration(factor=factor, **colour),
        "random_contrast": RandomContrast(factor=factor, **colour),
        "random_sharpness": RandomSharpness(factor=factor, **colour),
        "solarization": Solarization(addition_factor=factor, threshold_factor=factor, **colour),
        "random_posterization": RandomPosterization(
            factor=max(1, int(8 * factor[1])), **colour
        ),
        "auto_contrast": AutoContrast(value_range=value_range, data_format=data_format),
        "equalization": Equalization(value_range=value_range, data_format=data_format),
    }


class _Policy(BaseAugmentation):
    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def _build_operations(self, names, value_range, interpolation, seed, data_format):
        _value_range(type(self).__name__, value_range)
        ops = _operations(self.factor, value_range, interpolation, seed, data_format)
        self._operation_names = tuple(names)
        self._operations = torch.nn.ModuleDict({name: ops[name] for name in names})

    def _op(self, name):
        return self._operations[name]


class RandAugment(_Policy):
    """RandAugment: applies `num_ops` operations, each chosen at random for the whole batch.

    The operations are shear, translation, rotation, brightness, colour degeneration,
    contrast, sharpness, posterization, solarization, auto-contrast and equalization, with
    magnitude ranges from `factor`.

    Args:
        value_range: The range of the pixel values (default `(0, 255)`).
        num_ops: Number of operations applied (default 2).
        factor: Magnitude, a float in `[0, 1]` (default 0.5) or a pair.
        interpolation: `"bilinear"` (default) or `"nearest"`, for the geometric operations.
        seed: Integer seed.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:

    ```python
    augment = keras.layers.RandAugment(value_range=(0, 255), num_ops=2, factor=0.5)
    augmented = augment(images)
    ```
    """

    _NAMES = (
        "random_shear", "random_translation", "random_rotation", "random_brightness",
        "random_color_degeneration", "random_contrast", "random_sharpness",
        "random_posterization", "solarization", "auto_contrast", "equalization",
    )

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear",
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = value_range
        self.num_ops = num_ops
        self._set_factor(factor)
        self.interpolation = interpolation
        self._build_operations(self._NAMES, value_range, interpolation, seed, data_format)

    def get_random_transformation(self, images, seed=None):
        generator = self.generator if seed is None else seed
        chosen = torch.randint(0, len(self._NAMES), (self.num_ops,),
                               generator=self.host_generator(generator), dtype=torch.int32)
        # Every operation draws, in Keras's order, so the generator advances as Keras's does.
        drawn = [self._op(name).get_random_transformation(images, seed=generator)
                 for name in self._NAMES]
        return chosen.tolist(), drawn  # a CPU tensor: reading it waits for no device

    def apply_transformation(self, images, transformation):
        chosen, drawn = transformation
        for index in chosen:
            images = self._op(self._NAMES[index]).apply_transformation(images, drawn[index])
        return images

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "num_ops": self.num_ops,
                "factor": self.factor,
                "interpolation": self.interpolation,
            }
        )
        return config


class AugMix(_Policy):
    """AugMix: mixes the image with several chains of random operations.

    `num_chains` chains of up to `chain_depth` random operations each are applied to copies of
    the batch, mixed with Dirichlet(`alpha`) weights, and the mix is blended with the original
    by a Beta(`alpha`, `alpha`) weight. Outputs are clipped to `value_range`.

    Each step of each chain runs one of the operations or none, uniformly, as in Keras. Keras
    picks them with Python's unseeded `random`; keraslike picks them from the layer's
    `SeedGenerator` (a host stream keyed by its state, which the picks do not advance), so two
    layers with the same `seed` give the same images and a restored state repeats them. The
    mixing weights and the operations' own parameters are drawn from the generator with
    Keras's calls in Keras's order: given the same picks, the images are Keras's.

    Args:
        value_range: The range of the pixel values (default `(0, 255)`).
        num_chains: Number of chains (default 3).
        chain_depth: Maximum operations per chain (default 3).
        factor: Magnitude, a float in `[0, 1]` (default 0.3) or a pair.
        alpha: Concentration of the Dirichlet and Beta distributions (default 1.0).
        all_ops: Whether the colour operations (brightness, colour degeneration, contrast,
            sharpness) are included (default `True`).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: Integer seed.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0,
                 all_ops=True, interpolation="bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = value_range
        self.num_chains = num_chains
        self.chain_depth = chain_depth
        self._set_factor(factor)
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        names = _GEOMETRIC + _TONE + (_COLOR if all_ops else ())
        self._build_operations(names, value_range, interpolation, seed, data_format)

    def get_random_transformation(self, images, seed=None):
        generator = self.generator if seed is None else seed
        device = images.device
        chain_weights = self.gamma((self.num_chains,), self.alpha, device, generator)
        chain_weights = chain_weights / chain_weights.sum(-1, keepdim=True)
        blend = self.beta((), self.alpha, device, generator)
        chains = []
        for picks in self._choose_operations(generator):
            steps = []
            for name in picks:
                if name is not None:
                    drawn = self._op(name).get_random_transformation(images, seed=generator)
                    steps.append((name, drawn))
            chains.append(steps)
        return chain_weights, blend, chains

    def _choose_operations(self, generator):
        """The operation (a name, or `None` for none) of each step of each chain.

        Drawn on the host from a stream keyed by the generator's state before this batch's
        draws (kept apart from the draws' own seeds by a high bit), without advancing it: the
        generator then advances exactly as Keras's does for the same picks.
        """
        if isinstance(generator, SeedGenerator):
            seed, counter = generator.state.tolist()  # a CPU buffer: no device sync
        else:
            seed, counter = int(generator), 0
        host = torch.Generator()
        host.manual_seed(((seed + counter) & 0xFFFFFFFF) | _CHOICE_STREAM)
        options = self._operation_names + (None,)
        picks = torch.randint(0, len(options), (self.num_chains, self.chain_depth),
                              generator=host)
        return [[options[i] for i in row] for row in picks.tolist()]

    def apply_transformation(self, images, transformation):
        chain_weights, blend, chains = transformation
        chain_weights, blend = chain_weights.to(images.dtype), blend.to(images.dtype)
        mixed = torch.zeros_like(images)
        for index, steps in enumerate(chains):
            chain = images
            for name, drawn in steps:
                chain = self._op(name).apply_transformation(chain, drawn)
            mixed = mixed + chain * chain_weights[index]
        out = blend * images + (1 - blend) * mixed
        return out.clamp(self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "num_chains": self.num_chains,
                "chain_depth": self.chain_depth,
                "factor": self.factor,
                "alpha": self.alpha,
                "all_ops": self.all_ops,
                "interpolation": self.interpolation,
            }
        )
        return config
