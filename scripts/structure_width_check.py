"""The one validation choice of `jaxhin.structure`'s evaluation, reproduced: how wide a third
learned layer is made in the masked network.

Grows the structure exactly as `jaxhin structure learn` does for `--seed`, then trains the masked
network twice, scoring each on the held-out training images (the probe split; test labels are
never read):
  kept:  a layer past LeNet's two convolutions keeps the channels of the layer below (the rule
         `cnn_channels` uses);
  dense: it gets as many units as LeNet's layer of that depth, its dense 120 (the rule before).
The two differ only when growth keeps three layers (MNIST seed 1 does; seeds 0 and 2 stop at 2).

    python scripts/structure_width_check.py --seed 1 --out width.json
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    from jaxhin.cli import output_file

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args()
    began = time.perf_counter()

    import jax
    import numpy as np

    from jaxhin.data import load_images
    from jaxhin.structure import (
        MaskedNet,
        cnn_channels,
        digits_config,
        grow,
        mnist_config,
        train_classifier,
    )

    data = load_images(args.dataset)
    config = digits_config() if len(data.train_labels) < 5000 else mnist_config()
    key = jax.random.key(args.seed)
    # The same split and keys as jaxhin.structure.run_study.
    n = len(data.train_labels)
    order = np.asarray(jax.random.permutation(jax.random.fold_in(key, 0), n))
    n_probe = max(round(n * config.probe_share), data.num_classes)
    learn, probe = order[n_probe:], order[:n_probe]
    flat = data.train_images.reshape(n, -1)
    growth = grow(jax.random.fold_in(key, 1), flat[learn], flat[probe],
                  data.train_labels[learn], data.train_labels[probe], data.num_classes,
                  config.growth)
    masks = growth.masks()
    kept = cnn_channels(masks, data.shape)
    dense = tuple(c if depth < 2 else max(1, round((120, 84)[min(depth - 2, 1)]
                                                   / masks[depth].shape[1]))
                  for depth, c in enumerate(kept))
    print(f"{data}: depth {growth.depth}, live units {[m.shape[1] for m in masks]}")
    metrics = {"depth": growth.depth, "live_units": [int(m.shape[1]) for m in masks]}
    train = (data.train_images[learn], data.train_labels[learn])
    held_out = [(data.train_images[probe], data.train_labels[probe])]
    for name, channels in (("kept", kept), ("dense", dense)):
        _, (acc,) = train_classifier(jax.random.fold_in(key, 4),
                                     MaskedNet(masks, channels, data.num_classes), train,
                                     config.train, held_out)
        metrics[name] = {"channels": list(channels), "heldout_acc": acc}
        print(f"{name:5s} channels {channels}: held-out accuracy {acc:.4f}", flush=True)
    if args.out:
        from jaxhin.train import make_results, write_results

        write_results(args.out, make_results(
            system="structure", command="structure_width_check",
            config={"dataset": data.name, "seed": args.seed}, metrics=metrics,
            wall_s=time.perf_counter() - began))


if __name__ == "__main__":
    main()
