"""`jaxhin structure learn`: grow a network structure by group-sparse coding and evaluate it."""

from __future__ import annotations

import argparse
import dataclasses

from jaxhin.cli.main import Command, UsageError, output_file


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="digits",
                        help="digits (scikit-learn's 8x8 digits, built in), mnist (from the data "
                             "root), or a folder of IDX files named as MNIST's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None,
                        help="supervised epochs of every compared network (default: the "
                             "dataset's recipe: 60 on digits, 10 on MNIST-sized data)")
    parser.add_argument("--max-depth", type=int, default=None,
                        help="largest depth tried (default: the recipe's, 2 on digits, 3 else)")
    parser.add_argument("--min-gain", type=float, default=None,
                        help="keep a layer only if it raises the criterion by this much")
    parser.add_argument("--survey-atoms", type=int, nargs="+", default=None, metavar="N",
                        help="layer-1 sizes of the entropy-accuracy survey (default: the "
                             "recipe's, 8 to 128 on digits, 16 to 256 else)")
    parser.add_argument("--survey-penalties", type=float, nargs="+", default=None,
                        metavar="L", help="code penalties of the survey (default 0.003 0.01 "
                                          "0.03); the survey is the grid of sizes and penalties")
    parser.add_argument("--criterion", choices=("probe", "entropy"), default="probe",
                        help="stopping rule: held-out linear-probe accuracy or output entropy")
    parser.add_argument("--masks", type=output_file, metavar="FILE.npz", default=None,
                        help="save the learned connectivity masks and layer-1 dictionary here")
    parser.add_argument("--plot", type=output_file, metavar="FILE.png", default=None,
                        help="draw receptive fields, the gain-vs-depth curve and entropy vs "
                             "accuracy")


def _config(args, data):
    from jaxhin.structure import digits_config, mnist_config

    config = digits_config() if len(data.train_labels) < 5000 else mnist_config()
    growth = config.growth
    if args.max_depth is not None:
        if args.max_depth < 1:
            raise UsageError(f"--max-depth must be >= 1, got {args.max_depth}")
        layers = growth.layers
        layers = (layers + (layers[-1],) * args.max_depth)[:args.max_depth]
        growth = dataclasses.replace(growth, layers=layers)
    if args.min_gain is not None:
        growth = dataclasses.replace(growth, min_gain=args.min_gain)
    growth = dataclasses.replace(growth, criterion=args.criterion)
    changes = {}
    if args.survey_atoms is not None:
        if min(args.survey_atoms) < 1:
            raise UsageError(f"--survey-atoms must be >= 1, got {args.survey_atoms}")
        changes["survey_atoms"] = tuple(args.survey_atoms)
    if args.survey_penalties is not None:
        if min(args.survey_penalties) <= 0:
            raise UsageError(f"--survey-penalties must be > 0, got {args.survey_penalties}")
        changes["survey_penalties"] = tuple(args.survey_penalties)
    if len(changes.get("survey_atoms", config.survey_atoms)) * len(
            changes.get("survey_penalties", config.survey_penalties)) < 3:
        raise UsageError("the survey needs at least 3 structures (sizes x penalties) for its "
                         "rank correlation")
    config = dataclasses.replace(config, **changes)
    train = config.train
    if args.epochs is not None:
        if args.epochs < 1:
            raise UsageError(f"--epochs must be >= 1, got {args.epochs}")
        train = dataclasses.replace(train, epochs=args.epochs)
    return dataclasses.replace(config, growth=growth, train=train)


def _run(args: argparse.Namespace):
    import time

    import jax

    from jaxhin.data import load_images
    from jaxhin.structure import run_study, save_masks

    data = load_images(args.dataset)
    config = _config(args, data)
    print(f"{data}; growing up to {len(config.growth.layers)} layers "
          f"({config.growth.criterion} criterion)")
    start = time.perf_counter()
    result = run_study(jax.random.key(args.seed), data, config,
                       log=lambda line: print(f"[{time.perf_counter() - start:6.0f} s] {line}",
                                              flush=True),
                       show_progress=not args.quiet)
    m = result.metrics
    print(f"learned structure: depth {m['depth']}, test accuracy {m['test_acc']:.4f} "
          f"({m['params']} parameters); LeNet {m['cnn_test_acc']:.4f} ({m['cnn_params']}); "
          f"MLP {m['mlp_test_acc']:.4f} ({m['mlp_params']}); locality ratio "
          f"{m['locality_ratio']:.3f}; entropy-accuracy Spearman "
          f"{m['entropy_acc_spearman']:.3f}")
    if args.masks:
        save_masks(args.masks, result)
        m["masks_file"] = str(args.masks)
    if args.plot:
        from jaxhin.structure import plot_study

        plot_study(result, data.shape, args.plot)
    metrics = {**m, "survey": result.survey}
    config_out = {"dataset": data.name, "train_images": len(data.train_labels),
                  "test_images": len(data.test_labels), "image_shape": list(data.shape),
                  "classes": data.num_classes, "seed": args.seed, "study": config}
    return config_out, metrics


COMMANDS = (Command("learn", "grow a structure without labels (group-sparse coding), decide its "
                             "depth, and compare it with LeNet and an equal-size MLP",
                    _arguments, _run),)
