"""jaxhin.hin: AGHINT, attribute-guided heterogeneous graph transformer (issues #3, #4).

Status: in progress. Landed: HGB datasets (`jaxhin.data.load_hgb`), the typed graph container
on jraph with reverse edges and self-loops, HGB's `feats_type` options (featureless types as
learned embedding tables, DBLP's bag-of-words as a sparse BCOO), the seeded HGB protocol pieces
(train/val split, test F1, submission files). Not yet: the synthetic HIN generator, the
attribute-disparity analysis, the baselines (GCN, GAT, RGCN, Simple-HGN, HGT, HINormer),
AGHINT, the CLI and the PyG benchmark.
"""

from jaxhin.hin._graph import (
    HeteroGraph,
    add_reverse_edges,
    add_self_loops,
    from_hgb,
    node_features,
)
from jaxhin.hin._protocol import predictions, score_test_set, split_train_val, write_submission

__all__ = [
    "HeteroGraph",
    "add_reverse_edges",
    "add_self_loops",
    "from_hgb",
    "node_features",
    "predictions",
    "score_test_set",
    "split_train_val",
    "write_submission",
]
