"""jaxhin.hin: heterogeneous graph node classification, and AGHINT.

Data: `jaxhin.data.load_graph("ACM")` (HGB's DBLP, ACM, IMDB, any folder in HGB format, or the
built-in synthetic graph) returns an `HgbData`; `from_hgb` makes its typed graph
(`HeteroGraph`, a frozen pytree around a jraph `GraphsTuple`) and `node_features` its inputs
under HGB's `feats_type` options.

Models, each a Flax module with its own frozen config (`MODELS`: name -> config class):
`GCNConfig`, `GATConfig`, `RGCNConfig`, `SimpleHGNConfig`, `HGTConfig`, `HINormerConfig` and
`AGHINTConfig` (a HINormer Transformer plus AGM, `AgmConfig`, and AGT, `AgtConfig`). A
`TrainConfig` holds one of them with the training settings; `recipe(model, dataset)` is the
recorded configuration of a (model, dataset) row, `override(config, **settings)` changes it by
flat setting name (`hidden`, `agm_gamma`, ...) and refuses a setting the model lacks,
`ablate(config, "agm")` switches an AGHINT module off.

Training under the HGB protocol: `train_and_evaluate(data, config, seed)` (80/20 split of
`label.dat` by seed, early stopping on validation loss, test F1 once at the end), `run_seeds`
over seeds, `write_submission` for HGB's leaderboard files. What a model reads besides the
graph is built once per run on the host by `build_context` (a `HinContext` pytree).

Analysis: `disparity` (a target's attribute distance to its neighbours), `f1_by_quintile`,
`label_agreement_by_disparity`, `agm_edge_weights`, `similar_nodes`.

Example:
  >>> from jaxhin import data, hin
  >>> graph = data.load_graph("synthetic")
  >>> config = hin.override(hin.recipe("aghint", "synthetic"), epochs=50)
  >>> metrics, _ = hin.run_seeds(graph, config, seeds=[0, 1])
  >>> metrics["micro_f1_mean"]
"""

from jaxhin.hin._aghint import (
    AGHINT,
    AGM_MODES,
    LOCAL_ENCODERS,
    AGHINTConfig,
    AgmConfig,
    AgtConfig,
    agm_edge_weights,
    similar_nodes,
)
from jaxhin.hin._config import (
    MODELS,
    TrainConfig,
    flat_settings,
    from_settings,
    make_module,
    module_class,
    override,
    setting_names,
)
from jaxhin.hin._context import HinContext, build_context
from jaxhin.hin._disparity import (
    disparity,
    f1_by_quintile,
    label_agreement_by_disparity,
    quintile_edges,
)
from jaxhin.hin._graph import (
    HeteroGraph,
    add_reverse_edges,
    add_self_loops,
    from_hgb,
    node_features,
)
from jaxhin.hin._hinormer import (
    HeteroTransformerLayer,
    HINormer,
    HINormerConfig,
    context_sequences,
)
from jaxhin.hin._models import (
    GAT,
    GCN,
    HGT,
    RGCN,
    AttentionConv,
    GATConfig,
    GCNConfig,
    HGTConfig,
    HGTLayer,
    InputProjection,
    LayerEdges,
    RGCNConfig,
    SimpleHGNConfig,
    layer_edges,
)
from jaxhin.hin._protocol import predictions, score_test_set, split_train_val, write_submission
from jaxhin.hin._recipes import (
    DEFAULT_TOLERANCE,
    DEFAULTS,
    PUBLISHED,
    RECIPES,
    TOLERANCE,
    ablate,
    recipe,
)
from jaxhin.hin._train import (
    SeedResult,
    SeedSetup,
    build_model,
    logits,
    make_train_step,
    run_seeds,
    setup_seed,
    side_by_side,
    summarize_seeds,
    train_and_evaluate,
    train_seed,
)

__all__ = [
    "AGHINT",
    "AGM_MODES",
    "DEFAULTS",
    "DEFAULT_TOLERANCE",
    "GAT",
    "GCN",
    "HGT",
    "LOCAL_ENCODERS",
    "MODELS",
    "PUBLISHED",
    "RECIPES",
    "RGCN",
    "TOLERANCE",
    "AGHINTConfig",
    "AgmConfig",
    "AgtConfig",
    "AttentionConv",
    "GATConfig",
    "GCNConfig",
    "HGTConfig",
    "HGTLayer",
    "HINormer",
    "HINormerConfig",
    "HeteroGraph",
    "HeteroTransformerLayer",
    "HinContext",
    "InputProjection",
    "LayerEdges",
    "RGCNConfig",
    "SeedResult",
    "SeedSetup",
    "SimpleHGNConfig",
    "TrainConfig",
    "ablate",
    "add_reverse_edges",
    "add_self_loops",
    "agm_edge_weights",
    "build_context",
    "build_model",
    "context_sequences",
    "disparity",
    "f1_by_quintile",
    "flat_settings",
    "from_hgb",
    "from_settings",
    "label_agreement_by_disparity",
    "layer_edges",
    "logits",
    "make_module",
    "make_train_step",
    "module_class",
    "node_features",
    "override",
    "predictions",
    "quintile_edges",
    "recipe",
    "run_seeds",
    "score_test_set",
    "setting_names",
    "setup_seed",
    "side_by_side",
    "similar_nodes",
    "split_train_val",
    "summarize_seeds",
    "train_and_evaluate",
    "train_seed",
    "write_submission",
]
