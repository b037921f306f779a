"""jaxhin.hin: AGHINT, attribute-guided heterogeneous graph transformer (issues #3, #4).

Status: in progress. Landed: HGB datasets (`jaxhin.data.load_hgb`) and a synthetic typed graph
with known classes and attribute-disparate targets (`jaxhin.data.synthetic_hin`), the typed
graph container on jraph with reverse edges and self-loops, HGB's `feats_type` options
(featureless types as learned embedding tables, DBLP's bag-of-words as a sparse BCOO), the
seeded HGB protocol (train/val split, early stopping on validation loss, test F1 once at the
end, submission files), the HGB baselines GCN, GAT, RGCN, Simple-HGN, HGT and HINormer with a
recorded recipe per (model, dataset), AGHINT (a HINormer-style Transformer over a GCN or
Simple-HGN local encoder + attribute-guided message weighting `agm_edge_weights` +
attribute-similar context nodes `similar_nodes`, each switchable), the
attribute-disparity analysis (F1 per disparity quintile, label agreement by pair disparity),
`jaxhin hin train`, `scripts/bench_hin.py` (vs PyG) and `scripts/hgb_table.py`.
Not met (issue #4): AGHINT's validation-chosen HGB rows beat HINormer as jaxhin reproduces it,
and Simple-HGN on DBLP and IMDB but not ACM; not the published HINormer row; and AGM lowers test
F1 while raising validation F1 (`docs/aghint_results.md`, `results/aghint/README.md`).
"""

from jaxhin.hin._aghint import AGHINT, AgmConfig, agm_edge_weights, similar_nodes
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
from jaxhin.hin._hinormer import HeteroTransformerLayer, HINormer, context_sequences
from jaxhin.hin._models import GAT, GCN, HGT, RGCN, AttentionConv, HGTLayer, InputProjection
from jaxhin.hin._protocol import predictions, score_test_set, split_train_val, write_submission
from jaxhin.hin._recipes import recipe
from jaxhin.hin._train import (
    MODELS,
    SeedResult,
    TrainConfig,
    build_model,
    run_seeds,
    side_by_side,
    summarize_seeds,
    train_and_evaluate,
)

__all__ = [
    "AGHINT",
    "GAT",
    "GCN",
    "HGT",
    "MODELS",
    "RGCN",
    "AgmConfig",
    "AttentionConv",
    "HGTLayer",
    "HINormer",
    "HeteroGraph",
    "HeteroTransformerLayer",
    "InputProjection",
    "SeedResult",
    "TrainConfig",
    "add_reverse_edges",
    "add_self_loops",
    "agm_edge_weights",
    "build_model",
    "context_sequences",
    "disparity",
    "f1_by_quintile",
    "from_hgb",
    "label_agreement_by_disparity",
    "node_features",
    "predictions",
    "quintile_edges",
    "recipe",
    "run_seeds",
    "score_test_set",
    "side_by_side",
    "similar_nodes",
    "split_train_val",
    "summarize_seeds",
    "train_and_evaluate",
    "write_submission",
]
