"""jaxhin vs PyTorch: training epoch time of GAT, Simple-HGN, RGCN, HGT and HINormer on HGB
DBLP, in one run.

Both sides train the same model on the same graph (DBLP's 26,128 nodes and 239,566 typed
edges, reverse types included as the dataset ships them) with the same sizes: a per-type input
projection of every node type's attributes (DBLP's 14,328 x 4,231 paper bag-of-words as a
sparse matrix on both sides; venues, featureless, as a learned table), `--hidden` wide, then
GAT: `--layers` GAT layers of `--heads` heads and a 1-head output layer on the graph with
self-loops (PyG: `GATConv`); Simple-HGN: the same with edge-type embeddings, residual
connections and residual attention (HGB's layer, which PyG does not ship, written here in
PyTorch from its equations); RGCN: `--layers` hidden R-GCN layers (mean per relation, root
weight) and an output R-GCN layer (PyG: `RGCNConv`); HGT: `--layers` HGT layers with `--heads`
heads and a linear classifier (PyG: `HGTConv`); HINormer: DBLP's recorded recipe on both
sides, PyTorch's being the independent transcription in `scripts/hinormer_torch_parity.py` on
jaxhin's inputs (context sequences included). An epoch is one full-batch forward, backward
and Adam step on the training authors (cross-entropy). jaxhin's RGCN and HGT compute only
what the authors' logits depend on (`target_type`: a layer's per-edge work covers only the
edges into the types the next layer needs, so HGT's last layer reads the 19,645 paper-author
edges); the logits and gradients are the same as the full computation's
(tests/hin/test_models.py), while PyG's full-batch layers compute every node type's output.
Repeats alternate between the libraries so machine drift hits both alike; each prints the
median over repeats of the median epoch time, and the ratio jaxhin / PyTorch (< 1: jaxhin is
faster).

    python scripts/bench_hin.py --repeats 3 --epochs 4 --out bench_hin.json
    python scripts/bench_hin.py --models rgcn --repeats 3 --epochs 5

PyG comes from the `bench` extra (CPU torch, `torch.set_num_threads` = the machine's cores, as
XLA uses them all). PyG's `HGBDataset` parses the same files offline: they are linked (and
`node.dat.gz` decompressed) into the cache folder, never written beside the data.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

# the PyTorch counterpart of each model
PEERS = {"gat": "PyG GATConv", "simplehgn": "HGB's Simple-HGN layer (PyTorch)",
         "rgcn": "PyG RGCNConv", "hgt": "PyG HGTConv",
         "hinormer": "PyTorch transcription (scripts/hinormer_torch_parity.py)"}


def _pyg_dataset(folder: Path, cache: Path):
    """PyG's HGBDataset over the shared DBLP files (raw folder staged in `cache`)."""
    from torch_geometric.datasets import HGBDataset

    raw = cache / "dblp" / "raw" / "DBLP"
    raw.mkdir(parents=True, exist_ok=True)
    for name in ("info.dat", "link.dat", "label.dat", "label.dat.test"):
        if not (raw / name).exists():
            os.symlink((folder / name).resolve(), raw / name)
    if not (raw / "node.dat").exists():
        source = folder / "node.dat"
        tmp = raw / "node.dat.tmp"
        with (gzip.open(folder / "node.dat.gz") if not source.exists() else open(source, "rb")
              ) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, raw / "node.dat")
    return HGBDataset(str(cache), "dblp")[0]


def _pyg_models(data, model: str, hidden: int, heads: int, layers: int, num_edge_types: int):
    import torch
    from torch_geometric.nn import GATConv, HGTConv, RGCNConv

    from jaxhin.hin import MODELS

    cfg = MODELS[model]()  # negative slope, residual attention, edge width, as jaxhin's
    if hasattr(cfg, "dropout"):
        cfg = dataclasses.replace(cfg, dropout=0.5)

    classes = int(data["author"].y.max()) + 1

    class Inputs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.ModuleDict()
            for t in data.node_types:
                if "x" in data[t]:
                    self.proj[t] = torch.nn.Linear(data[t].x.shape[1], hidden)
                else:
                    self.proj[t] = torch.nn.Embedding(data[t].num_nodes, hidden)

        def forward(self, xs):
            return {t: (self.proj[t](xs[t]) if t in xs else self.proj[t].weight)
                    for t in data.node_types}

    class PygRGCN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inputs = Inputs()
            r = len(data.edge_types)
            self.convs = torch.nn.ModuleList(
                [RGCNConv(hidden, hidden, r) for _ in range(layers)] + [RGCNConv(hidden,
                                                                                  classes, r)])

        def forward(self, xs, edge_index, edge_type):
            h = torch.cat([v for v in self.inputs(xs).values()])
            for i, conv in enumerate(self.convs):
                if i:
                    h = torch.nn.functional.dropout(torch.nn.functional.elu(h), 0.5,
                                                    self.training)
                h = conv(h, edge_index, edge_type)
            return h[:data["author"].num_nodes]

    class PygHGT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inputs = Inputs()
            self.convs = torch.nn.ModuleList(
                [HGTConv(hidden, hidden, data.metadata(), heads) for _ in range(layers)])
            self.out = torch.nn.Linear(hidden, classes)

        def forward(self, xs, edge_index_dict):
            h = {t: torch.tanh(v) for t, v in self.inputs(xs).items()}
            for conv in self.convs:
                h = conv(h, edge_index_dict)
            return self.out(h["author"])

    class HgbAttention(torch.nn.Module):
        """HGB's Simple-HGN layer (its `myGATConv`), written from its equations for this
        benchmark: e_ij = LeakyReLU(a^T [W h_i || W h_j || W_r r_type(ij)]), softmax over
        each node's incoming edges, residual attention, residual connection."""

        def __init__(self, d_in, width, heads, residual, activation, beta):
            super().__init__()
            nn = torch.nn
            self.heads, self.width, self.activation, self.beta = heads, width, activation, beta
            self.fc = nn.Linear(d_in, heads * width, bias=False)
            self.edge_emb = nn.Embedding(num_edge_types, cfg.edge_dim)
            self.fc_e = nn.Linear(cfg.edge_dim, heads * cfg.edge_dim, bias=False)
            self.a_l = nn.Parameter(torch.randn(1, heads, width) * 0.1)
            self.a_r = nn.Parameter(torch.randn(1, heads, width) * 0.1)
            self.a_e = nn.Parameter(torch.randn(1, heads, cfg.edge_dim) * 0.1)
            self.res = (nn.Linear(d_in, heads * width, bias=False) if residual else None)

        def forward(self, h, src, dst, etype, prev):
            from torch_geometric.utils import softmax

            F, n = torch.nn.functional, h.shape[0]
            h = F.dropout(h, cfg.dropout, self.training)
            z = self.fc(h).view(n, self.heads, self.width)
            r = self.fc_e(self.edge_emb.weight).view(-1, self.heads, cfg.edge_dim)
            e = ((z * self.a_l).sum(-1)[src] + (z * self.a_r).sum(-1)[dst]
                 + (r * self.a_e).sum(-1)[etype])
            alpha = softmax(F.leaky_relu(e, cfg.negative_slope), dst, num_nodes=n)
            alpha = F.dropout(alpha, cfg.dropout, self.training)
            if prev is not None and self.beta:
                alpha = (1 - self.beta) * alpha + self.beta * prev
            out = torch.zeros_like(z).index_add_(0, dst, alpha.unsqueeze(-1) * z[src])
            if self.res is not None:
                out = out + self.res(h).view(n, self.heads, self.width)
            if self.activation:
                out = F.elu(out)
            return out, alpha.detach()

    class PygGAT(torch.nn.Module):  # HGB's GAT: hidden layers of heads x hidden, 1-head output
        def __init__(self):
            super().__init__()
            self.inputs = Inputs()
            self.convs = torch.nn.ModuleList(
                [GATConv(hidden if i == 0 else hidden * heads, hidden, heads, dropout=cfg.dropout,
                         negative_slope=cfg.negative_slope) for i in range(layers)]
                + [GATConv(hidden * heads, classes, 1, dropout=cfg.dropout,
                           negative_slope=cfg.negative_slope)])

        def forward(self, xs, edge_index, edge_type):
            F = torch.nn.functional
            h = torch.cat([v for v in self.inputs(xs).values()])
            for i, conv in enumerate(self.convs):
                h = conv(F.dropout(h, cfg.dropout, self.training), edge_index)
                if i < layers:
                    h = F.elu(h)
            return h[:data["author"].num_nodes]

    class SimpleHGN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inputs = Inputs()
            self.convs = torch.nn.ModuleList(
                [HgbAttention(hidden if i == 0 else hidden * heads, hidden, heads, i > 0, True,
                              cfg.attn_residual) for i in range(layers)]
                + [HgbAttention(hidden * heads, classes, 1, True, False, 0.0)])

        def forward(self, xs, edge_index, edge_type):
            h = torch.cat([v for v in self.inputs(xs).values()])
            src, dst = edge_index
            alpha = None
            for conv in self.convs:
                h, alpha = conv(h, src, dst, edge_type, alpha)
                h = h.flatten(1)
            logits = h[:data["author"].num_nodes]
            return logits / logits.norm(dim=1, keepdim=True).clamp_min(1e-12)

    return {"rgcn": PygRGCN, "hgt": PygHGT, "gat": PygGAT, "simplehgn": SimpleHGN}[model]()


def pyg_epochs(data, model: str, hidden: int, heads: int, layers: int, epochs: int, seed: int
               ) -> list[float]:
    """Seconds of each of `epochs` training epochs (after one warm-up epoch)."""
    import torch

    torch.manual_seed(seed)
    homo = data.to_homogeneous()
    edge_index, edge_type = homo.edge_index, homo.edge_type
    if model in ("gat", "simplehgn"):  # with self-loops, typed apart, as jaxhin's graph has
        loops = torch.arange(homo.num_nodes)
        edge_index = torch.cat([edge_index, torch.stack([loops, loops])], 1)
        edge_type = torch.cat([edge_type, torch.full_like(loops, int(edge_type.max()) + 1)])
    net = _pyg_models(data, model, hidden, heads, layers, int(edge_type.max()) + 1)
    xs = {}
    for t in data.node_types:
        if "x" in data[t]:
            x = data[t].x
            dense = (x != 0).float().mean() > 0.05
            xs[t] = x if dense else x.to_sparse_csr()  # sparse bag-of-words, as jaxhin's BCOO
    y, mask = data["author"].y, data["author"].train_mask
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)

    def epoch():
        net.train()
        opt.zero_grad()
        if model == "hgt":
            logits = net(xs, data.edge_index_dict)
        else:
            logits = net(xs, edge_index, edge_type)
        torch.nn.functional.cross_entropy(logits[mask], y[mask]).backward()
        opt.step()

    return _timed(epoch, epochs)


def _timed(epoch, epochs: int) -> list[float]:
    """Seconds of each of `epochs` calls of `epoch` after one warm-up call."""
    epoch()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    return times


def _hinormer_parity():
    """scripts/hinormer_torch_parity.py, the independent PyTorch transcription of HINormer."""
    import importlib.util

    path = Path(__file__).with_name("hinormer_torch_parity.py")
    spec = importlib.util.spec_from_file_location("hinormer_torch_parity", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def torch_hinormer_epochs(hgb, epochs: int, seed: int) -> list[float]:
    """Seconds of each of `epochs` training epochs of the PyTorch HINormer transcription on
    jaxhin's inputs for `seed` (DBLP's recipe; sparse bag-of-words inputs as jaxhin's)."""
    import torch

    from jaxhin.hin import recipe

    parity, config = _hinormer_parity(), recipe("hinormer", "DBLP")
    x = parity._Inputs(torch, hgb, config, seed)
    x.inputs = [None if v is None else (v.to_sparse_csr() if (v != 0).float().mean() < 0.05
                                        else v) for v in x.inputs]
    torch.manual_seed(seed)
    net = parity._torch_model(torch, config, x.model.specs, hgb.num_classes,
                              len(x.graph.node_types))
    opt = torch.optim.Adam(net.parameters(), lr=config.learning_rate)

    def epoch():
        net.train()
        opt.zero_grad()
        x.loss(x.forward(net, x.train), x.y_train).backward()
        opt.step()

    return _timed(epoch, epochs)


def jaxhin_epochs(hgb, model: str, hidden: int, heads: int, layers: int, epochs: int, seed: int
                  ) -> list[float]:
    """Seconds of each of `epochs` training epochs (after compilation and one warm-up)."""
    import jax

    from jaxhin.hin import MODELS, TrainConfig, override, recipe, setting_names, setup_seed

    if model == "hinormer":  # the DBLP recipe's sizes, as the PyTorch transcription runs
        config = recipe("hinormer", "DBLP")
    else:  # dropout 0.5 and HGT's LayerNorm on, as the PyTorch models run
        extra = {"heads": heads} if "heads" in setting_names(model) else {}
        if model == "hgt":
            extra["layer_norm"] = True
        config = override(TrainConfig(MODELS[model]()), hidden=hidden, layers=layers,
                          dropout=0.5, feats_type=0, learning_rate=1e-3, weight_decay=1e-4,
                          **extra)
    run = setup_seed(hgb, config, seed)
    step, params, opt_state = run.step, run.params, run.opt_state
    graph, features, context = run.graph, run.features, run.context
    params, opt_state, _ = step(params, opt_state, graph, features, context, 0, 1e-3)
    jax.block_until_ready(params)
    times = []
    for e in range(epochs):
        start = time.perf_counter()
        params, opt_state, _ = step(params, opt_state, graph, features, context, e + 1, 1e-3)
        jax.block_until_ready(params)
        times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10, help="timed epochs per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None,
                        help="folder holding DBLP/ (default <data root>/hgb)")
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args(argv)

    try:
        import torch
    except ImportError:
        print("bench_hin needs PyTorch Geometric: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    torch.set_num_threads(os.cpu_count())

    from jaxhin.data import cache_dir, dataset_dir, load_hgb_folder
    from jaxhin.train import make_results, write_results

    folder = (Path(args.data_dir) / "DBLP") if args.data_dir else dataset_dir("DBLP")
    hgb = load_hgb_folder(folder, name="DBLP")
    pyg = _pyg_dataset(folder, cache_dir() / "bench_hin" / "pyg")
    print(f"{hgb}; torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    start = time.perf_counter()
    rows = []
    for model in args.models:
        medians = {"jaxhin": [], "pyg": []}  # "pyg": the PyTorch side, PyG or not

        def peer(hgb, model, *sizes):
            if model == "hinormer":
                return torch_hinormer_epochs(hgb, sizes[-2], sizes[-1])
            return pyg_epochs(pyg, model, *sizes)

        for r in range(args.repeats):  # alternate, so drift hits both alike
            for name, run in (("jaxhin", jaxhin_epochs), ("pyg", peer)):
                times = run(hgb, model, args.hidden, args.heads, args.layers, args.epochs,
                            args.seed + r)
                medians[name].append(statistics.median(times))
        row = {"model": model, **{f"{k}_epoch_s": statistics.median(v)
                                  for k, v in medians.items()},
               "repeats_epoch_s": medians}
        row["ratio"] = row["jaxhin_epoch_s"] / row["pyg_epoch_s"]
        rows.append(row)
        row["peer"] = PEERS[model]
        print(f"{model}: jaxhin {row['jaxhin_epoch_s'] * 1e3:8.1f} ms/epoch   "
              f"{PEERS[model]} {row['pyg_epoch_s'] * 1e3:8.1f} ms/epoch   ratio "
              f"x{row['ratio']:.3f}", flush=True)
    if args.out:
        write_results(args.out, make_results(system="hin", command="bench_hin",
                                             config=vars(args), metrics={"rows": rows},
                                             wall_s=time.perf_counter() - start))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
