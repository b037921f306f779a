"""Training configs: the settings of one run, holding one model's own frozen config.

Each model's config is defined beside its Flax module, which holds it as its `config` field
(`GCN(specs, num_classes, config=GCNConfig(hidden=16))`), so a setting a model does not have
cannot be passed to it: `override(config, agm_gamma=0.3)` on a GCN config
raises a `ValueError` naming the setting and the model (the CLI turns that into exit status 2).
Settings have flat names (`hidden`, `agm_gamma`, `top_k`), the CLI's flags without dashes;
`flat_settings(config)` lists them with their values, `override` changes them.

Example:
  >>> from jaxhin.hin import recipe, override
  >>> config = override(recipe("aghint", "ACM"), agm_gamma=0.3, epochs=50)
  >>> config.model.agm.gamma, config.epochs
  (0.3, 50)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn

from jaxhin.hin._aghint import AGHINT, AGHINTConfig
from jaxhin.hin._graph import HeteroGraph
from jaxhin.hin._hinormer import HINormer, HINormerConfig
from jaxhin.hin._models import (
    GAT,
    GCN,
    HGT,
    RGCN,
    GATConfig,
    GCNConfig,
    HGTConfig,
    RGCNConfig,
    SimpleHGNConfig,
)

ModelConfig = (GCNConfig | GATConfig | SimpleHGNConfig | RGCNConfig | HGTConfig | HINormerConfig
               | AGHINTConfig)
MODELS: dict[str, type] = {c.name: c for c in (GCNConfig, GATConfig, RGCNConfig, SimpleHGNConfig,
                                                HGTConfig, HINormerConfig, AGHINTConfig)}
"""Model name -> its config class."""
_MODULES: dict[type, type[nn.Module]] = {GCNConfig: GCN, GATConfig: GAT, SimpleHGNConfig: GAT,
                                         RGCNConfig: RGCN, HGTConfig: HGT,
                                         HINormerConfig: HINormer, AGHINTConfig: AGHINT}


def module_class(config: ModelConfig) -> type[nn.Module]:
    """The Flax module class a model config configures."""
    return _MODULES[type(config)]


def make_module(config: ModelConfig, specs, num_classes: int, graph: HeteroGraph,
                target_type: int, *, cls: type[nn.Module] | None = None) -> nn.Module:
    """The Flax module of `config` (an instance of `cls`, e.g. a subclass, if given) for a
    graph: the config, plus the graph facts the module declares a field for (the number of
    edge types; the labelled type, whose logits are all RGCN and HGT compute)."""
    cls = cls or module_class(config)
    fields = {f.name for f in dataclasses.fields(cls)}
    facts = {"num_edge_types": len(graph.edge_types), "target_type": int(target_type)}
    return cls(specs, num_classes, config=config, **{k: v for k, v in facts.items()
                                                      if k in fields})


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One HIN training run under the HGB protocol: a model config and how to train it.

    Attributes:
      model: the model's own config (`GCNConfig`, ..., `AGHINTConfig`).
      learning_rate, weight_decay: Adam with L2 weight decay, as HGB's PyTorch code.
      epochs: at most this many; patience: stop after this many epochs without a better
        validation loss (the best epoch's parameters are kept).
      lr_plateau: if > 0, divide the learning rate by 10 after this many epochs without a
        better validation loss (PyTorch's ReduceLROnPlateau, as HINormer trains).
      one_cycle: the learning rate follows PyTorch's OneCycleLR over `epochs` (5% warm-up to
        `learning_rate`, cosine down), as HGB trains HGT.
      decoupled_wd: AdamW (decoupled weight decay) instead of Adam with an L2 term.
      feats_type: HGB's input feature option (0-5, `jaxhin.data.FEATS_TYPES`).
    """

    model: ModelConfig
    learning_rate: float = 5e-4
    weight_decay: float = 1e-4
    epochs: int = 300
    patience: int = 30
    lr_plateau: int = 0
    one_cycle: bool = False
    decoupled_wd: bool = False
    feats_type: int = 0

    def __post_init__(self):
        if type(self.model) not in MODELS.values():
            raise ValueError(f"TrainConfig.model must be a model config "
                             f"({', '.join(c.__name__ for c in MODELS.values())}), got "
                             f"{type(self.model).__name__}")
        checks = (("epochs", self.epochs >= 1, ">= 1"), ("patience", self.patience >= 1, ">= 1"),
                  ("lr_plateau", self.lr_plateau >= 0, ">= 0"),
                  ("learning_rate", self.learning_rate > 0, "> 0"),
                  ("weight_decay", self.weight_decay >= 0, ">= 0"),
                  ("feats_type", self.feats_type in range(6), "one of 0-5"))
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"{name} must be {expected}, got {getattr(self, name)}")

    @property
    def model_name(self) -> str:
        return self.model.name


def _model_paths(cls: type) -> dict[str, tuple[tuple[str, ...], str | None]]:
    """Flat setting name -> (attribute path, the switch of the optional module it is in)."""
    out = {}
    for f in dataclasses.fields(cls):
        if "prefix" not in f.metadata:
            out[f.name] = ((f.name,), None)
            continue
        switch = f.metadata.get("switch")
        if switch:
            out[switch] = ((f.name,), switch)
        nested = type(f.default)
        for name, (path, _) in _model_paths(nested).items():
            out[f.metadata["prefix"] + name] = ((f.name, *path), switch)
    return out


_TRAIN_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name != "model")


def setting_names(model: str) -> tuple[str, ...]:
    """The flat setting names that apply to `model` (its own, then the training ones)."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {sorted(MODELS)}")
    return (*_model_paths(MODELS[model]), *_TRAIN_FIELDS)


def flat_settings(config: TrainConfig) -> dict[str, Any]:
    """`{"model": name, setting: value, ...}`: every setting of `config` by its flat name
    (a switched-off module gives its switch, False, and none of its settings)."""
    out: dict[str, Any] = {"model": config.model.name}
    for name, (path, switch) in _model_paths(type(config.model)).items():
        value = config.model
        for attr in path:
            value = None if value is None else getattr(value, attr)
        if name == switch:
            out[name] = value is not None
        elif switch is None or getattr(config.model, path[0]) is not None:
            out[name] = value
    out.update({name: getattr(config, name) for name in _TRAIN_FIELDS})
    return out


def override(config: TrainConfig, **settings) -> TrainConfig:
    """`config` with settings changed by flat name (`hidden=16`, `agm_gamma=0.3`, `agm=False`).

    All changes are applied together, so their order does not matter (`agm_learn_scale=True`
    with `local="simplehgn"` is valid whichever comes first).

    Raises:
      ValueError: naming a setting that `config.model` does not have, one inside a module that
        is switched off (`agm_gamma` with `agm=False`), or a value a config rejects.
    """
    model_cls = type(config.model)
    paths = _model_paths(model_cls)
    unknown = [k for k in settings if k not in paths and k not in _TRAIN_FIELDS]
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a setting of model {model_cls.name!r} "
                         f"(its settings: {', '.join(setting_names(model_cls.name))})")
    model = config.model
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for name, value in settings.items():
        if name in _TRAIN_FIELDS:
            continue
        path, switch = paths[name]
        if name == switch:  # a module switched on (its current or default settings) or off
            default = next(f.default for f in dataclasses.fields(model_cls) if f.name == path[0])
            top[path[0]] = (getattr(model, path[0]) or default) if value else None
        elif len(path) == 1:
            top[path[0]] = value
        else:
            nested.setdefault(path[0], {})[path[1]] = value
    for field, changes in nested.items():
        current = top.get(field, getattr(model, field))
        if current is None:
            names = [k for k in settings if k in paths and len(paths[k][0]) > 1
                     and paths[k][0][0] == field]
            raise ValueError(f"{', '.join(names)}: a setting of {model_cls.name}'s "
                             f"{field.upper()} module, which is switched off")
        top[field] = dataclasses.replace(current, **changes)
    train = {k: v for k, v in settings.items() if k in _TRAIN_FIELDS}
    return dataclasses.replace(config, model=dataclasses.replace(model, **top), **train)


def from_settings(settings: dict[str, Any], *, strict: bool = True) -> TrainConfig:
    """The `TrainConfig` that `flat_settings` wrote (`{"model": name, setting: value, ...}`, as
    every `jaxhin hin train --out` record holds under `config.train`).

    Args:
      settings: flat settings with the model's name under "model".
      strict: refuse a setting the model lacks. With False, such settings are dropped, as are
        those of a switched-off module: records written before each model had its own config
        hold every model's settings.
    """
    model = settings["model"]
    names = set(setting_names(model))
    given = {k: v for k, v in settings.items() if k != "model"}
    if not strict:
        paths = _model_paths(MODELS[model])
        off = {paths[k][0][0] for k, v in given.items() if k in paths and paths[k][1] == k
               and not v}
        given = {k: v for k, v in given.items() if k in names
                 and not (len(paths.get(k, ((),))[0]) > 1 and paths[k][0][0] in off)}
    return override(TrainConfig(MODELS[model]()), **given)
