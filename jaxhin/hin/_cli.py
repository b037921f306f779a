"""`jaxhin hin train`: HIN node classification under the HGB protocol."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from jaxhin.cli import Command, UsageError


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() in ("true", "1")


def _arguments(parser: argparse.ArgumentParser) -> None:
    from jaxhin.hin._aghint import AGM_MODES, LOCAL_ENCODERS
    from jaxhin.hin._train import MODELS, TrainConfig

    defaults = TrainConfig()
    parser.add_argument("--dataset", default="synthetic",
                        help="synthetic (built in), DBLP, ACM, IMDB, or a folder in HGB format")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding the HGB dataset folders (default <data root>/hgb)")
    parser.add_argument("--model", choices=sorted(MODELS), default=defaults.model)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--ablate", choices=("agm", "agt"), action="append", default=[],
                        help="AGHINT without this module (repeatable): agm, attribute-guided "
                             "message weighting; agt, attribute-similar context nodes")
    parser.add_argument("--compare", choices=sorted(MODELS), nargs="+", default=[],
                        help="also train these models (each with its recipe) on the same seeds "
                             "and print their F1 and disparity-quintile tables side by side")
    parser.add_argument("--pred-dir", default=None,
                        help="write HGB submission files {DATASET}_{seed+1}.txt here")
    for field in dataclasses.fields(TrainConfig):
        if field.name == "model":
            continue
        flag = "--" + field.name.replace("_", "-")
        kind = _boolean if isinstance(field.default, bool) else type(field.default)
        choices = {"local": LOCAL_ENCODERS, "agm_mode": AGM_MODES}.get(field.name)
        parser.add_argument(flag, type=kind, default=None, choices=choices,
                            help=f"default: the model's recipe for the dataset, else "
                                 f"{field.default}")


def _load(args):
    import jax

    from jaxhin.data import load_hgb, load_hgb_folder
    from jaxhin.data._synthetic_hin import synthetic_hin

    if args.dataset == "synthetic":
        return synthetic_hin(jax.random.key(0))[0]
    if args.dataset in ("DBLP", "ACM", "IMDB"):
        if args.data_dir is not None:
            return load_hgb_folder(Path(args.data_dir) / args.dataset, name=args.dataset)
        return load_hgb(args.dataset)
    if Path(args.dataset).is_dir():
        return load_hgb_folder(args.dataset)
    raise UsageError(f"--dataset {args.dataset!r}: expected synthetic, DBLP, ACM, IMDB or an "
                     f"existing folder in HGB format")


def _run(args: argparse.Namespace):
    from jaxhin.data import HgbFormatError, write_results_dir
    from jaxhin.hin._protocol import write_submission
    from jaxhin.hin._recipes import recipe
    from jaxhin.hin._train import TrainConfig, run_seeds, side_by_side

    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
             if f.name != "model" and getattr(args, f.name) is not None}
    if args.ablate and args.model != "aghint":
        raise UsageError(f"--ablate {' '.join(args.ablate)}: only --model aghint has AGM and "
                         f"AGT modules, got --model {args.model}")
    given.update({module: False for module in args.ablate})
    config = TrainConfig(model=args.model, **{**recipe(args.model, args.dataset), **given})
    if args.pred_dir is not None:
        write_results_dir(args.pred_dir)
    try:
        data = _load(args)
    except (HgbFormatError, FileNotFoundError) as err:
        raise UsageError(str(err)) from None
    print(data)
    if "aghint" in (config.model, *args.compare) and data.features[data.target_type] is None:
        raise UsageError(f"--model aghint: {data.name}'s target type "
                         f"{data.node_types[data.target_type]!r} has no attributes, and AGHINT's "
                         f"AGM and AGT compare target attributes")
    metrics, results = run_seeds(data, config, args.seeds, show_progress=not args.quiet)
    for r in results:
        print(f"seed {r.seed}: Macro-F1 {100 * r.macro_f1:.2f}  Micro-F1 {100 * r.micro_f1:.2f} "
              f"(best epoch {r.best_epoch}, {r.epochs_run} run, {r.epoch_s * 1e3:.1f} ms/epoch)")
        if args.pred_dir is not None:
            write_submission(args.pred_dir, data, r.seed, r.test_logits)
    for row in metrics.get("disparity_quintiles", []):
        print(f"  disparity quintile {row['quintile']} [{row['low']:.3f}, {row['high']:.3f}]: "
              f"Micro-F1 {row['micro_f1']:.2f} ({row['nodes']} nodes)")
    print(f"{data.name} {config.model}: Macro-F1 {metrics['macro_f1_mean']:.2f} ± "
          f"{metrics['macro_f1_std']:.2f}, Micro-F1 {metrics['micro_f1_mean']:.2f} ± "
          f"{metrics['micro_f1_std']:.2f} over seeds {args.seeds}")
    record = {"dataset": data.name, "seeds": args.seeds, "train": config}
    if args.compare:
        others = {name: TrainConfig(model=name, **recipe(name, args.dataset))
                  for name in args.compare}
        metrics["compare"] = {name: run_seeds(data, other, args.seeds,
                                              show_progress=not args.quiet)[0]
                              for name, other in others.items()}
        record["compare"] = others
        print(side_by_side({config.model: metrics, **metrics["compare"]}))
    return record, metrics


COMMANDS = (Command("train", "train an HIN node classifier under the HGB protocol",
                    _arguments, _run),)
