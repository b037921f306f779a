"""HINormer in PyTorch on jaxhin's exact inputs: is a gap to the published row ours or inherent?

jaxhin's HINormer (`jaxhin/hin/_hinormer.py`) is a Flax port of the reference PyTorch code
(Ffffffffire/HINormer). This script trains an independent PyTorch transcription of the same
architecture (written here from the paper's equations and the reference's layer shapes and
initialisations, not copied) on exactly what jaxhin's run of a seed sees: the typed graph,
node features, the seed's 80/20 split of `label.dat` and the seed's context sequences, with the
same protocol (full batch Adam, early stopping on validation loss, test scored once). If both
frameworks land on the same validation and test scores, a shortfall against the published row
comes from the settings or the protocol, not from the port.

    python scripts/hinormer_torch_parity.py --dataset ACM --seeds 0 1 2 3 4 \
        --compare results/hin/hgb/hinormer_ACM.json --out results/hin/parity/hinormer_ACM.json

`--compare` reads a `jaxhin hin train --out` file of the same recipe and prints its per-seed
figures beside PyTorch's. Needs the `bench` extra (CPU torch).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _torch_model(torch, train_cfg, specs, num_classes, num_types):
    cfg = train_cfg.model  # HINormerConfig
    """The PyTorch HINormer: per-type input projections, GCN + relation encoder, Transformer
    layers over the context sequences, L2-normalised logits of each sequence's first token."""
    nn, F = torch.nn, torch.nn.functional

    class Graph(nn.Module):  # GCN layer h' = ELU(A_hat (h W) + b), optionally type-weighted
        def __init__(self, width_in, width_out, type_weighted=False):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(width_in, width_out))
            nn.init.xavier_uniform_(self.weight)
            self.bias = nn.Parameter(torch.zeros(width_out))
            self.type_weight = nn.Parameter(torch.ones(num_types)) if type_weighted else None

        def forward(self, a_hat, h, node_type):
            h = h @ self.weight
            if self.type_weight is not None:
                h = h * self.type_weight[node_type][:, None]
            return F.elu(a_hat @ h + self.bias)

    class Layer(nn.Module):  # heterogeneity-aware attention over a (B, S, d) sequence batch
        def __init__(self):
            super().__init__()
            d, self.heads = cfg.hidden, cfg.heads
            self.head_dim = d // cfg.heads
            self.w_l, self.w_r = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
            self.a_l = nn.Linear(self.head_dim, 1, bias=False)
            self.a_r = nn.Linear(self.head_dim, 1, bias=False)
            self.w_s = nn.Linear(num_types, num_types * cfg.heads, bias=False)
            self.w_t = nn.Linear(num_types, num_types * cfg.heads, bias=False)
            self.w_o = nn.Linear(d, d, bias=False)
            self.drop_att, self.drop_out = nn.Dropout(cfg.dropout), nn.Dropout(cfg.dropout)
            self.norm = nn.LayerNorm(d)

        def forward(self, h, r):
            b, s, _ = h.shape

            def heads(x, k):  # (b, s, heads * k) -> (b, heads, s, k)
                return x.reshape(b, s, self.heads, k).transpose(1, 2)

            left, right = heads(self.w_l(h), self.head_dim), heads(self.w_r(h), self.head_dim)
            score = (self.a_l(F.leaky_relu(left, 0.2))
                     + self.a_r(F.leaky_relu(right, 0.2)).transpose(2, 3))
            rel = heads(self.w_s(r), num_types) @ heads(self.w_t(r), num_types).transpose(2, 3)
            alpha = F.softmax((score + cfg.relation_beta * rel) / cfg.temperature, dim=-1)
            context = (self.drop_att(alpha) @ right).transpose(1, 2).reshape(b, s, -1)
            return self.norm(h + self.drop_out(self.w_o(context)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.ModuleList(nn.Linear(s.dim, cfg.hidden) for s in specs)
            for p in self.proj:
                nn.init.xavier_normal_(p.weight, gain=1.414)
            self.gcn = nn.ModuleList(Graph(cfg.hidden, cfg.hidden)
                                     for _ in range(cfg.gnn_layers))
            self.rel = nn.ModuleList(Graph(num_types, num_types, True)
                                     for _ in range(cfg.gnn_layers))
            self.drop = nn.Dropout(cfg.dropout)
            self.layers = nn.ModuleList(Layer() for _ in range(cfg.layers))
            self.out = nn.Linear(cfg.hidden, num_classes)
            nn.init.xavier_normal_(self.out.weight, gain=1.414)

        def forward(self, inputs, a_hat, node_type, seq):
            # an identity-featured type's projection is its weight's transpose plus the bias
            h = torch.cat([p(x) if x is not None else p.weight.t() + p.bias
                           for p, x in zip(self.proj, inputs, strict=True)])
            r = F.one_hot(node_type, num_types).float()
            for gcn, rel in zip(self.gcn, self.rel, strict=True):
                h = self.drop(gcn(a_hat, h, node_type))
                r = rel(a_hat, r, node_type)
            h, r = h[seq], r[seq]
            for layer in self.layers:
                h = layer(h, r)
            logits = self.out(h[:, 0])
            return logits / (logits.norm(dim=1, keepdim=True) + 1e-12)

    return Net()


class _Inputs:
    """What jaxhin's run of `seed` sees, as torch tensors: graph, features, split, sequences."""

    def __init__(self, torch, data, cfg, seed: int):
        import jax
        import numpy as np

        from jaxhin.hin import build_context, build_model, split_train_val

        self.model, self.graph, self.features = build_model(data, cfg)
        if any(spec.kind == "zeros" for spec in self.model.specs):
            raise SystemExit(f"hinormer_torch_parity: feats_type {cfg.feats_type} (zero "
                             "vectors) is not transcribed; use 0, 2, 3 or 4")
        self.train_idx, self.val_idx = split_train_val(data, seed)
        # jaxhin's train_and_evaluate key derivation: the same context sequences
        self.init_key, self.dropout_key, context_key = jax.random.split(jax.random.key(seed), 3)
        self.context = build_context(context_key, data, self.graph, cfg.model)
        self.sequences = torch.from_numpy(np.asarray(self.context.sequences).astype(np.int64))
        self.first = int(self.context.first)
        g = self.graph
        n, src, dst = g.num_nodes, np.asarray(g.graph.senders), np.asarray(g.graph.receivers)
        # D^-1/2 A D^-1/2 computed here rather than with jaxhin's `sym_norm`, so that the
        # comparison covers jaxhin's normalisation too
        norm = 1 / np.sqrt(np.maximum(np.bincount(dst, minlength=n), 1))
        self.a_hat = torch.sparse_coo_tensor(
            np.stack([dst, src]), torch.tensor(norm[src] * norm[dst], dtype=torch.float32),
            (n, n), check_invariants=True).coalesce()
        self.node_type = torch.from_numpy(np.asarray(g.node_type).astype(np.int64))
        self.inputs = [torch.tensor(np.asarray(data.dense(t)), dtype=torch.float32)
                       if spec.kind == "given" else None
                       for t, spec in enumerate(self.model.specs)]
        ids = np.asarray(data.labelled_ids)
        labelled = torch.from_numpy(np.asarray(data.labelled))
        self.train, self.val = ids[self.train_idx], ids[self.val_idx]
        self.y_train, self.y_val = labelled[self.train_idx], labelled[self.val_idx]
        self.torch, self.multi = torch, data.multi_label

    def forward(self, net, nodes):
        seq = self.sequences[self.torch.as_tensor(nodes) - self.first]
        return net(self.inputs, self.a_hat, self.node_type, seq)

    def loss(self, logits, labels):
        F = self.torch.nn.functional
        if self.multi:
            return F.binary_cross_entropy_with_logits(logits, labels.float())
        return F.cross_entropy(logits, labels.long())


def _load_flax_params(torch, net, params) -> None:
    """Copy jaxhin's HINormer parameters into the PyTorch transcription (kernels transposed
    to nn.Linear's (out, in))."""
    import numpy as np

    p = params["params"]

    def put(dst, value, transpose=False):
        value = np.asarray(value)
        with torch.no_grad():
            dst.copy_(torch.from_numpy(np.array(value.T if transpose else value)
                                       ).reshape(dst.shape))

    proj = p["InputProjection_0"]
    for t, linear in enumerate(net.proj):
        put(linear.weight, proj.get(f"embed_{t}", proj.get(f"kernel_{t}")), True)
        put(linear.bias, proj[f"bias_{t}"])
    for i, (gcn, rel) in enumerate(zip(net.gcn, net.rel, strict=True)):
        put(gcn.weight, p[f"gcn_{i}"]["kernel"])
        put(gcn.bias, p[f"gcn_bias_{i}"])
        put(rel.weight, p[f"RelationConv_{i}"]["Dense_0"]["kernel"])
        put(rel.bias, p[f"RelationConv_{i}"]["bias"])
        put(rel.type_weight, p[f"RelationConv_{i}"]["w_type"])
    for i, layer in enumerate(net.layers):
        q = p[f"HeteroTransformerLayer_{i}"]
        for j, linear in enumerate([layer.w_l, layer.w_r, layer.a_l, layer.a_r, layer.w_s,
                                    layer.w_t, layer.w_o]):
            put(linear.weight, q[f"Dense_{j}"]["kernel"], True)
        put(layer.norm.weight, q["LayerNorm_0"]["scale"])
        put(layer.norm.bias, q["LayerNorm_0"]["bias"])
    put(net.out.weight, p["Dense_0"]["kernel"], True)
    put(net.out.bias, p["Dense_0"]["bias"])


def lockstep(torch, data, cfg, seed: int, steps: int) -> dict:
    """Both frameworks from jaxhin's initial parameters, dropout off: the training losses of
    `steps` full-batch Adam steps side by side (equal up to float rounding if the ports agree)."""
    import jax.numpy as jnp
    import numpy as np

    from jaxhin.hin import make_train_step, override

    cfg = override(cfg, dropout=0.0)
    x = _Inputs(torch, data, cfg, seed)
    train_ids = jnp.asarray(x.train, jnp.int32)
    train_labels = jnp.asarray(x.y_train.numpy())
    params = x.model.init(x.init_key, x.graph, x.features, x.context, train_ids, train=False)
    net = _torch_model(torch, cfg, x.model.specs, data.num_classes, len(x.graph.node_types))
    _load_flax_params(torch, net, params)
    net.train()
    optimizer, step = make_train_step(x.model, cfg, train_ids, train_labels, data.multi_label,
                                      x.dropout_key)
    opt_state = optimizer.init(params)
    adam = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate,
                            weight_decay=cfg.weight_decay)
    logits = x.model.apply(params, x.graph, x.features, x.context, train_ids, train=False)
    with torch.no_grad():
        first_gap = float(np.abs(np.asarray(logits) - x.forward(net, x.train).numpy()).max())
    rows = []
    for i in range(steps):
        params, opt_state, jax_loss = step(params, opt_state, x.graph, x.features, x.context,
                                           i, cfg.learning_rate)
        torch_loss = x.loss(x.forward(net, x.train), x.y_train)
        adam.zero_grad()
        torch_loss.backward()
        adam.step()
        rows.append({"step": i, "jaxhin": float(jax_loss), "torch": torch_loss.item()})
        print(f"step {i}: loss jaxhin {rows[-1]['jaxhin']:.6f} torch {rows[-1]['torch']:.6f}",
              flush=True)
    gaps = [abs(r["jaxhin"] - r["torch"]) for r in rows]
    return {"seed": seed, "steps": rows, "initial_logit_max_abs_diff": first_gap,
            "loss_max_abs_diff": max(gaps)}


def run_seed(torch, data, cfg, seed: int, *, show_progress: bool) -> dict:
    """Train the PyTorch transcription on jaxhin's inputs for `seed`; validation and test scores."""
    from jaxhin.hin import predictions, score_test_set
    from jaxhin.train import f1_scores, progress

    x = _Inputs(torch, data, cfg, seed)
    torch.manual_seed(seed)
    net = _torch_model(torch, cfg, x.model.specs, data.num_classes, len(x.graph.node_types))
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate,
                                 weight_decay=cfg.weight_decay)
    plateau = (torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min",
                                                          patience=cfg.lr_plateau)
               if cfg.lr_plateau else None)
    best_loss, best_state, best_epoch, start = float("inf"), None, -1, time.perf_counter()
    epoch = 0
    for epoch in progress(range(cfg.epochs), desc=f"torch seed {seed}", enabled=show_progress):
        net.train()
        loss = x.loss(x.forward(net, x.train), x.y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        net.eval()
        with torch.no_grad():
            val_loss = x.loss(x.forward(net, x.val), x.y_val).item()
        if plateau is not None:
            plateau.step(val_loss)
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        if epoch - best_epoch >= cfg.patience:
            break
    net.load_state_dict(best_state)
    net.eval()
    with torch.no_grad():
        val_logits = x.forward(net, x.val).numpy()
        test_logits = x.forward(net, data.test_ids).numpy()
    val_scores = f1_scores(x.y_val.numpy(), predictions(val_logits, x.multi))
    test_scores = score_test_set(data, test_logits)
    return {"seed": seed, "best_epoch": best_epoch, "epochs_run": epoch + 1,
            "best_val_loss": best_loss, "val_micro_f1": 100 * val_scores["micro_f1"],
            "micro_f1": 100 * test_scores["micro_f1"], "macro_f1": 100 * test_scores["macro_f1"],
            "s_per_epoch": (time.perf_counter() - start) / (epoch + 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="DBLP, ACM, IMDB or an HGB folder")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="changes to the recorded recipe")
    parser.add_argument("--compare", default=None,
                        help="a `jaxhin hin train --out` JSON of the same settings to print beside")
    parser.add_argument("--lockstep", type=int, default=0, metavar="STEPS",
                        help="instead of training: both frameworks from jaxhin's initial "
                             "parameters, dropout off, STEPS Adam steps, losses side by side")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--quiet", action="store_true")
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError as err:
        raise SystemExit("hinormer_torch_parity: needs PyTorch: pip install -e '.[bench]'") from err
    from jaxhin.data import load_graph
    from jaxhin.hin import flat_settings, override, recipe
    from jaxhin.train import make_results, mean_std, write_results

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tune_hin import _parse_variant

    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_graph(args.dataset, data_dir=args.data_dir)
    base = recipe("hinormer", data.name)
    defaults = {k: v for k, v in flat_settings(base).items() if k != "model"}
    cfg = override(base, **_parse_variant(args.set, defaults))
    start = time.perf_counter()

    def write(metrics: dict) -> None:
        if args.out:
            write_results(args.out, make_results(
                system="hin", command="hinormer_torch_parity",
                config={**vars(args), "train": flat_settings(cfg),
                        "torch": torch.__version__},
                metrics=metrics, wall_s=time.perf_counter() - start))

    if args.lockstep:
        rows = [lockstep(torch, data, cfg, seed, args.lockstep) for seed in args.seeds]
        for row in rows:
            print(f"seed {row['seed']}: initial logits differ by at most "
                  f"{row['initial_logit_max_abs_diff']:.2e}; losses over {args.lockstep} steps "
                  f"by at most {row['loss_max_abs_diff']:.2e}", flush=True)
        write({"lockstep": rows})
        return 0
    ours = None
    if args.compare:
        try:
            with open(args.compare) as f:
                compared = json.load(f)
            theirs, per_seed = compared["config"]["train"], compared["metrics"]["per_seed"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise SystemExit(f"hinormer_torch_parity: --compare {args.compare}: expected a "
                             f"`jaxhin hin train --out` JSON file ({err!r})") from err
        differ = {k: (theirs.get(k), v) for k, v in flat_settings(cfg).items()
                  if theirs.get(k) != v}
        if differ:
            raise SystemExit(f"hinormer_torch_parity: --compare {args.compare}: its settings "
                             f"differ from this run's (theirs, ours): {differ}")
        ours = {r["seed"]: r for r in per_seed}
    rows = []
    for seed in args.seeds:
        row = run_seed(torch, data, cfg, seed, show_progress=not args.quiet)
        line = (f"seed {seed}: torch val Micro-F1 {row['val_micro_f1']:.2f} test "
                f"{row['micro_f1']:.2f} (best epoch {row['best_epoch']})")
        if ours and seed in ours:
            mine = ours[seed]
            row["jaxhin"] = {"val_micro_f1": 100 * mine["val_micro_f1"],
                             "micro_f1": 100 * mine["micro_f1"],
                             "best_epoch": mine["best_epoch"]}
            line += (f" | jaxhin val {row['jaxhin']['val_micro_f1']:.2f} test "
                     f"{row['jaxhin']['micro_f1']:.2f} (best epoch {mine['best_epoch']})")
        print(line, flush=True)
        rows.append(row)
    metrics = {"per_seed": rows}
    for name, pick in [("torch", lambda r: r), ("jaxhin", lambda r: r.get("jaxhin"))]:
        picked = [pick(r) for r in rows]
        if all(picked):
            metrics[name] = {key: dict(zip(("mean", "std"), mean_std([p[key] for p in picked]),
                                            strict=True))
                             for key in ("val_micro_f1", "micro_f1")}
            print(f"{name}: val Micro-F1 {metrics[name]['val_micro_f1']['mean']:.2f}, test "
                  f"{metrics[name]['micro_f1']['mean']:.2f} +- "
                  f"{metrics[name]['micro_f1']['std']:.2f}", flush=True)
    write(metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
