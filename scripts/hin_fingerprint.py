"""Fingerprint the start of every recorded HIN row's training at one seed, to compare checkouts.

For each (model, dataset[, ablation]) row: a hash of the initial parameters, the first three
training steps' losses as exact float hex, and a hash of the validation logits after them.
Equal fingerprints from two checkouts mean the same computation. It runs on this checkout's API
and on the one before issue #30's typed configs, so a change can be checked against the commit
before it:

    python scripts/hin_fingerprint.py after.json
    PYTHONPATH=/path/to/old/checkout python scripts/hin_fingerprint.py before.json
    python -c "import json; a, b = (json.load(open(f)) for f in ('after.json', 'before.json')); print(a == b)"
"""

from __future__ import annotations

import hashlib
import json
import sys

ROWS = [(m, d, None) for m in ("gcn", "gat", "rgcn", "simplehgn", "hgt", "hinormer")
        for d in ("DBLP", "ACM", "IMDB")]
ROWS += [("aghint", d, a) for d in ("DBLP", "ACM", "IMDB") for a in (None, "agm", "agt")]


def _config(model: str, dataset: str, ablate: str | None):
    from jaxhin.hin import TrainConfig, recipe

    base = recipe(model, dataset)
    if isinstance(base, dict):  # before typed configs: a dict of TrainConfig fields
        return TrainConfig(model=model, **{**base, **({ablate: False} if ablate else {})})
    if ablate:
        from jaxhin.hin import ablate as switch_off

        return switch_off(base, ablate)
    return base


def _hash(x) -> str:
    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(np.asarray(x)).tobytes()).hexdigest()[:16]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        raise SystemExit("hin_fingerprint: usage: hin_fingerprint.py OUT.json [ROW ...]")
    import jax
    import numpy as np

    from jaxhin import data as jdata
    from jaxhin.hin import _train

    load = getattr(jdata, "load_graph", None) or jdata.load_hgb
    logits = getattr(_train, "logits", None) or _train._logits
    out, graphs = {}, {}
    for model, dataset, ablate in ROWS:
        name = f"{model}{'-' + ablate if ablate else ''}_{dataset}"
        if argv[1:] and name not in argv[1:]:
            continue
        config = _config(model, dataset, ablate)
        run = _train.setup_seed(graphs.setdefault(dataset, load(dataset)), config, 0)
        params, opt_state, losses = run.params, run.opt_state, []
        initial = _hash(np.concatenate([np.asarray(p).ravel() for p in jax.tree.leaves(params)]))
        for epoch in range(3):
            params, opt_state, loss = run.step(params, opt_state, run.graph, run.features,
                                               run.context, epoch, config.learning_rate)
            losses.append(float(loss).hex())
        out[name] = {"params": initial, "losses": losses, "val_logits": _hash(logits(
            run.model, params, run.graph, run.features, run.context, run.val_ids))}
        print(name, out[name], flush=True)
    with open(argv[0], "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
