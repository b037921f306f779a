"""jaxhin vs PyTorch Geometric: training epoch time of RGCN and HGT on HGB DBLP, in one run.

Both libraries train the same model on the same graph (DBLP's 26,128 nodes and 239,566 typed
edges, reverse types included as the dataset ships them) with the same sizes: a per-type input
projection of every node type's attributes (DBLP's 14,328 x 4,231 paper bag-of-words as a
sparse matrix on both sides; venues, featureless, as a learned table), `--hidden` wide, then
RGCN: `--layers` hidden R-GCN layers (mean per relation, root weight) and an output R-GCN
layer (PyG: `RGCNConv`); HGT: `--layers` HGT layers with `--heads` heads and a linear
classifier (PyG: `HGTConv`). An epoch is one full-batch forward, backward and Adam step on the
training authors (cross-entropy). jaxhin's RGCN and HGT compute only what the authors'
logits depend on (`target_type`: a layer's per-edge work covers only the edges into the types
the next layer needs, so HGT's last layer reads the 19,645 paper-author edges); the logits
and gradients are the same as the full computation's (tests/hin/test_models.py), while PyG's
full-batch layers compute every node type's output. Repeats alternate between the libraries
so machine drift hits both alike; each prints the median over repeats of the median epoch
time, and the ratio jaxhin / PyG (< 1: jaxhin is faster).

    python scripts/bench_hin.py --out bench_hin.json
    python scripts/bench_hin.py --models rgcn --repeats 3 --epochs 5

PyG comes from the `bench` extra (CPU torch, `torch.set_num_threads` = the machine's cores, as
XLA uses them all). PyG's `HGBDataset` parses the same files offline: they are linked (and
`node.dat.gz` decompressed) into the cache folder, never written beside the data.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import sys
import time
from pathlib import Path


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


def _pyg_models(data, model: str, hidden: int, heads: int, layers: int):
    import torch
    from torch_geometric.nn import HGTConv, RGCNConv

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

    return PygRGCN() if model == "rgcn" else PygHGT()


def pyg_epochs(data, model: str, hidden: int, heads: int, layers: int, epochs: int, seed: int
               ) -> list[float]:
    """Seconds of each of `epochs` training epochs (after one warm-up epoch)."""
    import torch

    torch.manual_seed(seed)
    net = _pyg_models(data, model, hidden, heads, layers)
    xs = {}
    for t in data.node_types:
        if "x" in data[t]:
            x = data[t].x
            dense = (x != 0).float().mean() > 0.05
            xs[t] = x if dense else x.to_sparse_csr()  # sparse bag-of-words, as jaxhin's BCOO
    homo = data.to_homogeneous()
    y, mask = data["author"].y, data["author"].train_mask
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)

    def epoch():
        net.train()
        opt.zero_grad()
        if model == "rgcn":
            logits = net(xs, homo.edge_index, homo.edge_type)
        else:
            logits = net(xs, data.edge_index_dict)
        torch.nn.functional.cross_entropy(logits[mask], y[mask]).backward()
        opt.step()

    epoch()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    return times


def jaxhin_epochs(hgb, model: str, hidden: int, heads: int, layers: int, epochs: int, seed: int
                  ) -> list[float]:
    """Seconds of each of `epochs` training epochs (after compilation and one warm-up)."""
    import jax

    from jaxhin.hin import MODELS, TrainConfig, override, setting_names, setup_seed

    # dropout 0.5 and HGT's LayerNorm on, as the PyG models run
    extra = {"heads": heads, "layer_norm": True} if "heads" in setting_names(model) else {}
    config = override(TrainConfig(MODELS[model]()), hidden=hidden, layers=layers, dropout=0.5,
                      feats_type=0, learning_rate=1e-3, weight_decay=1e-4, **extra)
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
    parser.add_argument("--models", nargs="+", choices=("rgcn", "hgt"), default=["rgcn", "hgt"])
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
        medians = {"jaxhin": [], "pyg": []}
        for r in range(args.repeats):  # alternate, so drift hits both alike
            for name, run in (("jaxhin", jaxhin_epochs), ("pyg", lambda *a: pyg_epochs(pyg, *a[1:]))):
                times = run(hgb, model, args.hidden, args.heads, args.layers, args.epochs,
                            args.seed + r)
                medians[name].append(statistics.median(times))
        row = {"model": model, **{f"{k}_epoch_s": statistics.median(v)
                                  for k, v in medians.items()},
               "repeats_epoch_s": medians}
        row["ratio"] = row["jaxhin_epoch_s"] / row["pyg_epoch_s"]
        rows.append(row)
        print(f"{model}: jaxhin {row['jaxhin_epoch_s'] * 1e3:8.1f} ms/epoch   PyG "
              f"{row['pyg_epoch_s'] * 1e3:8.1f} ms/epoch   jaxhin/PyG x{row['ratio']:.3f}",
              flush=True)
    if args.out:
        write_results(args.out, make_results(system="hin", command="bench_hin",
                                             config=vars(args), metrics={"rows": rows},
                                             wall_s=time.perf_counter() - start))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
