"""jaxhin.lda: LightLDA, an O(1) Metropolis-Hastings topic-model sampler (issue #5).

Status: in progress. Landed: corpora (in `jaxhin.data`: UCI, LDA-C, KOS, Reuters, synthetic with
known topics, held-out split), exact collapsed Gibbs, the collapsed log-likelihood, Vose alias tables on
device and a first LightLDA sweep (word and doc proposals with exact MH acceptance, chunked
stale updates), all tested for correctness. Not yet: O(1) cost in K (the dense per-word alias
build is O(V K) per iteration), hybrid storage, distribution, evaluation beyond log p(w, z),
checkpointing, the CLI and the benchmark against tomotopy.
"""

from jaxhin.lda._samplers import (
    LdaConfig,
    SamplerState,
    Tokens,
    alias_table,
    counts,
    gibbs_sweep,
    init_state,
    lightlda_sweep,
    log_joint,
    log_joint_per_token,
    to_tokens,
    topic_word,
)

__all__ = [
    "LdaConfig",
    "SamplerState",
    "Tokens",
    "alias_table",
    "counts",
    "gibbs_sweep",
    "init_state",
    "lightlda_sweep",
    "log_joint",
    "log_joint_per_token",
    "to_tokens",
    "topic_word",
]
