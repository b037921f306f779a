"""jaxhin.train: pieces every system's training shares.

Metrics (`f1_scores`, `mean_std`), orbax checkpoints (`save_checkpoint`, `restore_checkpoint`,
`latest_step`; `run_folder` for a resumable run: lock, identity, log, fallback restore), a
cheap-mask dropout (`ByteDropout`), `nn.Dense`'s product with a faster backward on CPU
(`dense_dot`), config validation (`check_at_least`), progress bars (`progress`),
multi-process start-up for scripts (`add_multihost_arguments`, `start_multihost`) and the
results JSON (`make_results`, `write_results`) that every CLI command writes with `--out`.
"""

from jaxhin.train._checkpoint import (
    CheckpointError,
    RunFolder,
    fingerprint,
    latest_step,
    restore_checkpoint,
    run_folder,
    save_checkpoint,
)
from jaxhin.train._config import check_at_least
from jaxhin.train._dropout import ByteDropout
from jaxhin.train._matmul import dense_dot
from jaxhin.train._memory import peak_rss_bytes, release_freed_memory
from jaxhin.train._metrics import f1_scores, mean_std
from jaxhin.train._multihost import add_multihost_arguments, start_multihost, stop_multihost
from jaxhin.train._progress import progress
from jaxhin.train._results import RESULT_KEYS, env_info, make_results, to_jsonable, write_results

__all__ = [
    "RESULT_KEYS",
    "ByteDropout",
    "CheckpointError",
    "RunFolder",
    "add_multihost_arguments",
    "check_at_least",
    "dense_dot",
    "env_info",
    "f1_scores",
    "fingerprint",
    "latest_step",
    "make_results",
    "mean_std",
    "peak_rss_bytes",
    "progress",
    "release_freed_memory",
    "restore_checkpoint",
    "run_folder",
    "save_checkpoint",
    "start_multihost",
    "stop_multihost",
    "to_jsonable",
    "write_results",
]
