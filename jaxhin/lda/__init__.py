"""jaxhin.lda: LightLDA, an O(1) Metropolis-Hastings topic-model sampler.

Samplers (`lightlda_sweep`, the reference `gibbs_sweep`), the run drivers `fit` (trajectory,
checkpoints, resume) and `fit_blocks` (a corpus streamed from disk block by block), evaluation
(`perplexity`, `infer`, `coherence`, `top_words`, `plot_trace`) and the mesh version
(`plan_layout`, `init_dist`, `make_dist_sweep`; its meshes and shardings come from
`jaxhin.sbp`).

Example:
  >>> corpus, truth = jaxhin.data.load_corpus("synthetic")
  >>> cfg = LdaConfig(num_topics=truth.topic_word.shape[0])
  >>> result = fit(jax.random.key(0), corpus, cfg, iters=50)
  >>> best_match_cosine(topic_word(result.state, result.tokens, cfg), truth.topic_word)
"""

from jaxhin.lda._alias import alias_table, sample_alias, segment_alias
from jaxhin.lda._dist import (
    DistLayout,
    DistState,
    device_tokens,
    dist_log_joint_per_token,
    gather_state,
    init_dist,
    make_dist_sweep,
    plan_layout,
)
from jaxhin.lda._eval import (
    coherence,
    infer,
    perplexity,
    split_halves,
    top_word_ids,
    top_words,
)
from jaxhin.lda._fit import FitResult, best_match_cosine, fit
from jaxhin.lda._plot import plot_trace
from jaxhin.lda._samplers import (
    DocPrior,
    LdaConfig,
    RestCounts,
    SamplerState,
    Tokens,
    TopicCounts,
    WordProposal,
    counts,
    dense_threshold,
    doc_prior,
    gibbs_sweep,
    init_state,
    lightlda_sweep,
    log_joint,
    log_joint_counts,
    log_joint_per_token,
    memory_report,
    model_word_proposal,
    optimize_alpha,
    to_tokens,
    topic_counts,
    topic_word,
    word_topic,
)
from jaxhin.lda._stream import BlockFitResult, fit_blocks, split_blocks

__all__ = [
    "BlockFitResult",
    "DistLayout",
    "DistState",
    "DocPrior",
    "FitResult",
    "LdaConfig",
    "RestCounts",
    "SamplerState",
    "Tokens",
    "TopicCounts",
    "WordProposal",
    "alias_table",
    "best_match_cosine",
    "coherence",
    "counts",
    "dense_threshold",
    "device_tokens",
    "dist_log_joint_per_token",
    "doc_prior",
    "fit",
    "fit_blocks",
    "gather_state",
    "gibbs_sweep",
    "infer",
    "init_dist",
    "init_state",
    "lightlda_sweep",
    "log_joint",
    "log_joint_counts",
    "log_joint_per_token",
    "make_dist_sweep",
    "memory_report",
    "model_word_proposal",
    "optimize_alpha",
    "perplexity",
    "plan_layout",
    "plot_trace",
    "sample_alias",
    "segment_alias",
    "split_blocks",
    "split_halves",
    "to_tokens",
    "top_word_ids",
    "top_words",
    "topic_counts",
    "topic_word",
    "word_topic",
]
