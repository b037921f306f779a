"""jaxhin's sparse dictionary learning vs scikit-learn's MiniBatchDictionaryLearning, one run.

The same problem for both: N images (MNIST's first N training images by default, or the digits),
each scaled so the mean squared norm is 1, M atoms in the unit ball, non-negative codes, and the
objective

    F(D) = mean_x min_{a >= 0} 1/2 ||x - D a||^2 + lambda ||a||_1

(scikit-learn's `alpha` is lambda; jaxhin's group penalty is 0, since scikit-learn has none).
Both dictionaries are scored by one evaluator: codes of the same evaluation images by FISTA run to
convergence (500 steps). scikit-learn runs `--sk-epochs` passes (its default batch size 256,
coordinate descent); its final F and wall time set the target. jaxhin learns one epoch at a time
(batch 256, 40 FISTA steps), F after each, until F <= the target: its time to the target counts
compilation and training, not scoring. Each side repeats `--repeats` times; medians are compared:

    speed-up = scikit-learn time / jaxhin time to reach scikit-learn's F

    python scripts/bench_structure.py --out bench_structure.json
    python scripts/bench_structure.py --dataset digits --images 1198 --atoms 64
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def evaluate(x_eval, dictionary, lam):
    """F(D) on the evaluation images, codes to convergence (one evaluator for both sides)."""
    import jax.numpy as jnp

    from jaxhin.structure import SparseCodingConfig, encode, objective

    d = jnp.asarray(dictionary, jnp.float32)
    codes = encode(jnp.asarray(x_eval), d, lam, steps=500, nonneg=True)
    cfg = SparseCodingConfig(num_atoms=d.shape[1], code_penalty=lam)
    return float(objective(jnp.asarray(x_eval), d, codes, cfg))


def run_sklearn(x, atoms, lam, epochs, seed):
    import warnings

    from sklearn.decomposition import MiniBatchDictionaryLearning
    from sklearn.exceptions import ConvergenceWarning

    # Its per-minibatch coordinate descent stops at its iteration cap and says so on most
    # batches; that is its normal operation here, not an error of this benchmark.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    start = time.perf_counter()
    model = MiniBatchDictionaryLearning(n_components=atoms, alpha=lam, batch_size=256,
                                        max_iter=epochs, fit_algorithm="cd",
                                        transform_algorithm="lasso_cd", positive_code=True,
                                        random_state=seed, tol=0, max_no_improvement=None)
    model.fit(x)
    return model.components_.T, time.perf_counter() - start


def run_jaxhin(x, x_eval, atoms, lam, target, seed, max_epochs):
    """Seconds until F <= target (None if not within max_epochs) and the F after each epoch."""
    import jax

    from jaxhin.structure import SparseCodingConfig, learn_dictionary

    cfg = SparseCodingConfig(num_atoms=atoms, code_penalty=lam, epochs=1, batch_size=256)
    key = jax.random.key(seed)
    state, elapsed, curve = None, 0.0, []
    for epoch in range(max_epochs):
        start = time.perf_counter()
        state, _ = learn_dictionary(jax.random.fold_in(key, epoch), x, cfg, state=state)
        jax.block_until_ready(state.dictionary)
        elapsed += time.perf_counter() - start
        curve.append((elapsed, evaluate(x_eval, state.dictionary, lam)))
        if curve[-1][1] <= target:
            return elapsed, curve
    return None, curve


def main() -> None:
    from jaxhin.cli import output_file  # checked writable before the work

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist", help="mnist, digits or an IDX folder")
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--eval-images", type=int, default=2000)
    parser.add_argument("--atoms", type=int, default=128)
    parser.add_argument("--penalty", type=float, default=0.01, help="lambda (sklearn's alpha)")
    parser.add_argument("--sk-epochs", type=int, default=3)
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args()
    began = time.perf_counter()

    import jax
    import sklearn

    from jaxhin.data import load_images

    data = load_images(args.dataset)
    flat = data.train_images.reshape(len(data.train_labels), -1).astype(np.float32)
    x = flat[:args.images]
    x_eval = flat[-args.eval_images:] if len(flat) > args.images else flat[:args.eval_images]
    scale = np.sqrt((x**2).sum(1).mean())
    x, x_eval = x / scale, x_eval / scale
    print(f"{data.name}: {len(x)} images of {x.shape[1]} pixels, {args.atoms} atoms, lambda "
          f"{args.penalty}; scikit-learn {sklearn.__version__}, jax {jax.__version__} on "
          f"{jax.devices()[0].platform}")

    rows = []
    for r in range(args.repeats):
        d_sk, t_sk = run_sklearn(x, args.atoms, args.penalty, args.sk_epochs, r)
        target = evaluate(x_eval, d_sk, args.penalty)
        t_jax, curve = run_jaxhin(x, x_eval, args.atoms, args.penalty, target, r,
                                  args.max_epochs)
        rows.append({"sklearn_s": t_sk, "sklearn_objective": target, "jaxhin_s": t_jax,
                     "jaxhin_epochs": len(curve), "jaxhin_objective": curve[-1][1],
                     "jaxhin_curve": curve})
        shown = f"{t_jax:.2f} s ({len(curve)} epochs)" if t_jax else "not reached"
        print(f"repeat {r}: scikit-learn {t_sk:.2f} s to F = {target:.5f}; jaxhin to that F: "
              f"{shown}, F = {curve[-1][1]:.5f}", flush=True)
    reached = [row["jaxhin_s"] for row in rows if row["jaxhin_s"] is not None]
    sk = statistics.median(row["sklearn_s"] for row in rows)
    metrics = {"repeats": rows, "sklearn_s_median": sk,
               "reached": f"{len(reached)} of {len(rows)}"}
    if len(reached) == len(rows):
        jx = statistics.median(reached)
        metrics.update(jaxhin_s_median=jx, speedup=sk / jx)
        print(f"median: scikit-learn {sk:.2f} s, jaxhin {jx:.2f} s to the same objective: "
              f"jaxhin {sk / jx:.1f}x faster")
    else:
        print(f"jaxhin reached scikit-learn's objective in {len(reached)} of {len(rows)} "
              f"repeats within {args.max_epochs} epochs")
    if args.out:
        from jaxhin.train import make_results, write_results

        config = {k: v for k, v in vars(args).items() if k != "out"}
        write_results(args.out, make_results(system="structure", command="bench_structure",
                                             config=config, metrics=metrics,
                                             wall_s=time.perf_counter() - began))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
