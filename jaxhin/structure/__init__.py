"""jaxhin.structure: learning the structure of a deep network without labels, by efficient coding.

Yuan et al., "Learning Structures for Deep Neural Networks": a good structure maximises the
entropy of a layer's outputs; sparse coding does so; *global group sparse coding*, learned
layer by layer on whole images, finds which inputs each unit connects to (local receptive
fields, like a CNN's) and how deep to go. The pieces:

- entropy estimators (`unit_entropy`, `sum_unit_entropy`, `pattern_entropy`,
  `gaussian_entropy`, `knn_entropy`);
- group-sparse dictionary learning (`SparseCodingConfig`, `encode`, `learn_dictionary`,
  `group_shrink`, `connectivity`);
- structure growth with a stopping rule (`GrowthConfig`, `grow`);
- evaluation (`MaskedNet`, `LeNet`, `MLP`, `train_classifier`, `locality_ratio`) and the whole
  study (`StudyConfig`, `run_study`).

Example:
  >>> import jax
  >>> from jaxhin.data import load_images
  >>> from jaxhin.structure import digits_config, run_study
  >>> result = run_study(jax.random.key(0), load_images("digits"), digits_config())
  >>> result.metrics["test_acc"], result.metrics["cnn_test_acc"]
"""

from jaxhin.structure._entropy import (
    gaussian_entropy,
    knn_entropy,
    pattern_entropy,
    sum_unit_entropy,
    unit_entropy,
)
from jaxhin.structure._grow import (
    GrowthConfig,
    GrowthResult,
    Layer,
    grow,
    learn_layer,
    probe_accuracy,
)
from jaxhin.structure._locality import locality_ratio, random_masks, spreads
from jaxhin.structure._networks import (
    MLP,
    LeNet,
    MaskedDense,
    MaskedNet,
    TrainConfig,
    accuracy,
    count_params,
    equal_mlp_width,
    train_classifier,
)
from jaxhin.structure._pipeline import (
    StudyConfig,
    StudyResult,
    cnn_channels,
    digits_config,
    mnist_config,
    run_study,
    survey,
)
from jaxhin.structure._report import (
    plot_entropy_accuracy,
    plot_gains,
    plot_receptive_fields,
    plot_study,
    save_masks,
)
from jaxhin.structure._sparse import (
    DictionaryState,
    SparseCodingConfig,
    connectivity,
    dictionary_step,
    encode,
    encode_all,
    group_norms,
    group_shrink,
    init_dictionary,
    learn_dictionary,
    objective,
)

__all__ = [
    "MLP",
    "DictionaryState",
    "GrowthConfig",
    "GrowthResult",
    "Layer",
    "LeNet",
    "MaskedDense",
    "MaskedNet",
    "SparseCodingConfig",
    "StudyConfig",
    "StudyResult",
    "TrainConfig",
    "accuracy",
    "cnn_channels",
    "connectivity",
    "count_params",
    "dictionary_step",
    "digits_config",
    "encode",
    "encode_all",
    "equal_mlp_width",
    "gaussian_entropy",
    "group_norms",
    "group_shrink",
    "grow",
    "init_dictionary",
    "knn_entropy",
    "learn_dictionary",
    "learn_layer",
    "locality_ratio",
    "mnist_config",
    "objective",
    "pattern_entropy",
    "plot_entropy_accuracy",
    "plot_gains",
    "plot_receptive_fields",
    "plot_study",
    "probe_accuracy",
    "random_masks",
    "run_study",
    "save_masks",
    "spreads",
    "sum_unit_entropy",
    "survey",
    "train_classifier",
    "unit_entropy",
]
