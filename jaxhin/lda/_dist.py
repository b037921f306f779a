"""LightLDA over a device mesh: documents over every device, vocabulary slices over `model`,
counts synchronised every `staleness` chunks (bounded staleness).

Layout, on a mesh with axes ("data", "model") of sizes (P_d, P_m):
- Documents are cut into P_d * P_m contiguous blocks of about equal token count; device (i, j)
  owns block i * P_m + j: its topics z, its documents' doc-topic rows (never shared).
- The vocabulary is cut into P_m slices of about equal token count. The dense word-topic rows of
  a slice live on one device per `data` row of the mesh at a time. An iteration is P_m rounds:
  in round r device (i, j) holds slice (j + r) mod P_m and samples only its tokens whose word is
  in that slice, then passes the slice to its `model` neighbour (`ppermute`), as LightLDA's
  workers visit model slices in turn (Yuan et al., Sec. 4). No device ever holds all rows.
- Replicated, small: the topic totals n_k and the word-major topics `zw` (N int32, the sparse
  half of the hybrid store, whose tokens the word proposal draws from).
- Every `staleness` chunks, and at the end of each round: the changes to the held slice are
  summed over `data` (every device of a mesh column holds the same slice), n_k changes over all
  devices, and `zw` is rebuilt from each device's own tokens. Between syncs a device sees its
  own updates at once and the others' up to `staleness` chunks late.

Same key and mesh shape give the same chain; one device is exactly `lightlda_sweep`.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.data import Corpus
from jaxhin.lda._samplers import (
    LdaConfig,
    Tokens,
    apply_chunk,
    init_state,
    mh_chunk,
    position_major,
    scan_chunks,
    to_tokens,
)
from jaxhin.sbp import B, S, put_from_host, shard_map

AXES = ("data", "model")


@dataclasses.dataclass(frozen=True)
class DistLayout:
    """Host-side plan of where every token, document and word-topic row lives."""

    tokens: Tokens                 # the global corpus layout (replicated word side)
    num_devices: int
    model_size: int
    local_tokens: int              # N_p, per-device token capacity
    local_docs: int                # D_p
    slice_rows: int                # R, dense rows per slice (padded)
    phases: tuple[tuple[str, int, int], ...]  # (kind, chunks per round, chunk) in order
    device_arrays: dict[str, np.ndarray]  # leading axis: device
    token_device: np.ndarray       # (N,) owner device of every global token
    token_local: np.ndarray        # (N,) its index on that device
    word_slice: np.ndarray         # (V,)
    slice_row: np.ndarray          # (V,) row within its slice, R for rare words


def plan_layout(corpus: Corpus, data: int, model: int, cfg: LdaConfig, *, staleness: int,
                sparse_below: int = 32) -> DistLayout:
    """Cut documents and vocabulary over a (data, model) mesh; see the module docstring."""
    if data < 1 or model < 1:
        raise ValueError(f"plan_layout: mesh sizes must be >= 1, got data={data} model={model}")
    if staleness < 1:
        raise ValueError(f"plan_layout: staleness must be >= 1, got {staleness}")
    tokens = to_tokens(corpus, sparse_below)
    p = data * model
    n, v = corpus.num_tokens, corpus.vocab_size
    if corpus.num_docs < p:
        raise ValueError(f"plan_layout: {corpus.num_docs} documents cannot be spread over {p} "
                         f"devices")
    # Documents: contiguous blocks of ~n/p tokens (each block at least one document).
    doc_end = np.cumsum(corpus.doc_lengths)
    cuts = np.searchsorted(doc_end, np.arange(1, p) * n / p, side="left") + 1
    cuts = np.maximum.accumulate(np.clip(cuts, np.arange(1, p), corpus.num_docs - p
                                         + np.arange(1, p)))
    doc_bounds = np.concatenate([[0], cuts, [corpus.num_docs]])
    # Vocabulary: `model` slices of ~n/model tokens by word id.
    word_count = np.bincount(corpus.words, minlength=v)
    wcut = np.searchsorted(np.cumsum(word_count), np.arange(1, model) * n / model, side="left")
    word_slice = np.searchsorted(wcut, np.arange(v), side="right").astype(np.int32)
    dense = word_count >= sparse_below
    slice_row = np.full(v, 0, np.int32)
    rows_per_slice = []
    for s in range(model):
        mine = dense & (word_slice == s)
        slice_row[mine] = np.arange(mine.sum())
        rows_per_slice.append(int(mine.sum()))
    r = max(max(rows_per_slice), 1)
    slice_row[~dense] = r
    # Per-device token arrays.
    starts = np.asarray(corpus.doc_starts)
    tok_bounds = [int(starts[b]) if b < corpus.num_docs else n for b in doc_bounds]
    n_p = max(tok_bounds[i + 1] - tok_bounds[i] for i in range(p))
    d_p = int(max(np.diff(doc_bounds)))
    word_slot = np.asarray(tokens.word_slot)
    token_device = np.repeat(np.arange(p), np.diff(tok_bounds)).astype(np.int32)
    token_local = (np.arange(n) - np.asarray(tok_bounds)[token_device]).astype(np.int32)
    arrays = {k: [] for k in ("words", "docs", "doc_start", "doc_length", "word_slot", "own",
                              "rounds_sparse", "rounds_dense")}
    sparse_word = ~dense
    lists = {"sparse": [], "dense": []}
    for dev in range(p):
        a, b = tok_bounds[dev], tok_bounds[dev + 1]
        da, db = doc_bounds[dev], doc_bounds[dev + 1]
        pad = n_p - (b - a)
        arrays["words"].append(np.pad(corpus.words[a:b], (0, pad)))
        arrays["docs"].append(np.pad(corpus.docs[a:b] - da, (0, pad)))
        arrays["doc_start"].append(np.pad(starts[da:db] - a, (0, d_p - (db - da))))
        arrays["doc_length"].append(np.pad(corpus.doc_lengths[da:db], (0, d_p - (db - da)),
                                           constant_values=1))
        arrays["word_slot"].append(np.pad(word_slot[a:b], (0, pad), constant_values=n))
        j = dev % model
        local_words = corpus.words[a:b]
        for kind, want in (("sparse", True), ("dense", False)):
            picks = [np.flatnonzero((word_slice[local_words] == (j + rnd) % model)
                                    & (sparse_word[local_words] == want)) for rnd in range(model)]
            lists[kind].append([position_major(a + x, corpus.docs) - a for x in picks])
    # As `lightlda_sweep`: sparse-row tokens, then dense-row ones, each position-major.
    phases = []
    for kind in ("sparse", "dense"):
        longest = max(len(x) for per in lists[kind] for x in per)
        if longest == 0:
            arrays[f"rounds_{kind}"] = [np.zeros((model, 0, 1), np.int32)] * p
            continue
        chunk = min(cfg.chunk, longest)
        chunks = -(-longest // chunk)
        chunks = -(-chunks // staleness) * staleness
        phases.append((kind, chunks, chunk))
        for dev in range(p):
            idx = np.full((model, chunks * chunk), n_p, np.int32)
            for rnd, x in enumerate(lists[kind][dev]):
                idx[rnd, :len(x)] = x
            arrays[f"rounds_{kind}"].append(idx.reshape(model, chunks, chunk))
    owner = token_device[np.asarray(tokens.word_order)]
    for dev in range(p):
        arrays["own"].append(owner == dev)
    device_arrays = {k: np.stack(vs).astype(np.bool_ if k == "own" else np.int32)
                     for k, vs in arrays.items()}
    return DistLayout(tokens, p, model, n_p, d_p, r, tuple(phases), device_arrays,
                      token_device, token_local, word_slice, slice_row)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class DistState:
    """A chain on a mesh. Leading axis of the per-device leaves: device (sharded)."""

    z: jax.Array            # (P, N_p)
    doc_topic: jax.Array    # (P, D_p, K)
    rows: jax.Array         # (P, R, K) the slice each device holds (slice j on column j)
    topic_count: jax.Array  # (K,) replicated
    zw: jax.Array           # (N,) replicated word-major topics


# placements on the ("data", "model") mesh: per-device leaves are split over both axes along
# their leading (device) dimension; the topic totals and word-major topics are replicated
SPLIT = (S(0), S(0))
REPLICATED = (B, B)


def init_dist(key: jax.Array, layout: DistLayout, mesh, num_topics: int) -> DistState:
    """The same random start as `init_state(key, ...)` on one device, laid out on `mesh`."""
    one = init_state(key, layout.tokens, num_topics)
    z = np.asarray(one.z)
    zw = np.asarray(one.zw)
    p, k = layout.num_devices, num_topics
    z_dev = np.zeros((p, layout.local_tokens), np.int32)
    z_dev[layout.token_device, layout.token_local] = z
    dt = np.zeros((p, layout.local_docs, k), np.int32)
    docs = layout.device_arrays["docs"]
    for dev in range(p):
        mine = layout.token_device == dev
        np.add.at(dt[dev], (docs[dev][layout.token_local[mine]], z[mine]), 1)
    rows = np.zeros((p, layout.slice_rows + 1, k), np.int32)
    words = np.asarray(layout.tokens.words)
    for dev in range(p):
        s = dev % layout.model_size
        mine = layout.word_slice[words] == s
        np.add.at(rows[dev], (layout.slice_row[words[mine]], z[mine]), 1)
    rows = rows[:, :-1]
    return DistState(put_from_host(z_dev, SPLIT, mesh), put_from_host(dt, SPLIT, mesh),
                     put_from_host(rows, SPLIT, mesh),
                     put_from_host(np.asarray(one.topic_count), REPLICATED, mesh),
                     put_from_host(zw, REPLICATED, mesh))


def device_tokens(layout: DistLayout, mesh) -> dict[str, jax.Array]:
    return {k: put_from_host(v, SPLIT, mesh) for k, v in layout.device_arrays.items()}


def make_dist_sweep(layout: DistLayout, mesh, cfg: LdaConfig, staleness: int):
    """A jitted `sweep(key, state, arrays) -> state` for this layout and mesh (symmetric
    alpha: `LdaConfig.optimize_alpha` is single-device only, in `fit`)."""
    if cfg.optimize_alpha:
        raise ValueError("make_dist_sweep: LdaConfig.optimize_alpha is not supported on a mesh "
                         "(alpha stays symmetric there); use fit() on one device, or set it to 0")
    g = layout.tokens
    model = layout.model_size
    per_round = sum(chunks for _, chunks, _ in layout.phases)
    base = dataclasses.replace(g, dense_row=jnp.asarray(layout.slice_row),
                               num_dense=layout.slice_rows, num_docs=layout.local_docs)
    names = ("words", "docs", "doc_start", "doc_length", "word_slot", "own", "rounds_sparse",
             "rounds_dense")

    def local(key, z, doc_topic, rows, topic_count, zw, *arrays):
        z, doc_topic, rows = z[0], doc_topic[0], rows[0]
        a = {n: x[0] for n, x in zip(names, arrays, strict=True)}
        if layout.num_devices > 1:  # one device: exactly lightlda_sweep's keys
            me = jax.lax.axis_index("data") * model + jax.lax.axis_index("model")
            key = jax.random.fold_in(key, me)
        tok = dataclasses.replace(base, words=a["words"], docs=a["docs"],
                                  doc_start=a["doc_start"], doc_length=a["doc_length"],
                                  word_slot=a["word_slot"])
        own = a["own"]

        def sync(carry, rows0, tc0):
            doc_topic, rows, topic_count, z, zw = carry
            rows = rows0 + jax.lax.psum(rows - rows0, "data")
            topic_count = tc0 + jax.lax.psum(topic_count - tc0, AXES)
            zw = jax.lax.psum(jnp.where(own, zw, 0), AXES)
            return (doc_topic, rows, topic_count, z, zw)

        carry = (doc_topic, rows, topic_count, z, zw)
        for rnd in range(model):
            offset = rnd * per_round
            for kind, chunks, _ in layout.phases:
                index = a[f"rounds_{kind}"][rnd]

                def group(carry, g_idx, kind=kind, index=index, offset=offset):
                    rows0, tc0 = carry[1], carry[2]

                    def body(carry, u, c):
                        slot = index[c]
                        ok = slot < layout.local_tokens
                        new, w, d, z0 = mh_chunk(u, carry, tok, cfg, slot, ok, kind=kind)
                        return apply_chunk(carry, tok, slot, ok, new, w, d, z0)

                    cs = g_idx * staleness + jnp.arange(staleness)
                    carry = scan_chunks(body, carry, key, offset + cs, cs, cfg,
                                        index.shape[1])
                    return sync(carry, rows0, tc0), None

                carry, _ = jax.lax.scan(group, carry, jnp.arange(chunks // staleness))
                offset += chunks
            if model > 1:  # hand the slice to the model neighbour: next round holds slice+1
                doc_topic_, rows_, tc_, z_, zw_ = carry
                rows_ = jax.lax.ppermute(rows_, "model",
                                         [(j, (j - 1) % model) for j in range(model)])
                carry = (doc_topic_, rows_, tc_, z_, zw_)
        doc_topic, rows, topic_count, z, zw = carry
        return z[None], doc_topic[None], rows[None], topic_count, zw

    mapped = shard_map(local, mesh, (REPLICATED, SPLIT, SPLIT, SPLIT, REPLICATED, REPLICATED,
                                     *([SPLIT] * len(names))),
                       (SPLIT, SPLIT, SPLIT, REPLICATED, REPLICATED))

    @jax.jit
    def sweep(key, state: DistState, arrays: dict[str, jax.Array]) -> DistState:
        out = mapped(key, state.z, state.doc_topic, state.rows, state.topic_count, state.zw,
                     *(arrays[k] for k in names))
        return DistState(*out)

    return sweep


def dist_log_joint_per_token(state: DistState, layout: DistLayout, cfg: LdaConfig) -> float:
    """log p(w, z) per token from the replicated word-major topics (works on every process)."""
    from jaxhin.lda._samplers import log_joint_counts

    g = layout.tokens
    # Replicated: any local copy is the whole array, on every process.
    zw, tc = state.zw.addressable_data(0), state.topic_count.addressable_data(0)
    docs = g.docs[g.word_order]
    # log_joint_counts sorts (word, z) and (doc, z) pairs itself, so word-major order is fine.
    value = log_joint_counts(zw, g.slot_word, docs, g.doc_length, tc, g.vocab_size,
                       float(cfg.alpha), float(cfg.beta))
    return float(value) / g.num_tokens


def gather_state(state: DistState, layout: DistLayout):
    """The chain as one single-device `SamplerState` (host round trip; one process only)."""
    from jaxhin.lda._samplers import counts

    z_dev = np.asarray(state.z)
    z = z_dev[layout.token_device, layout.token_local]
    return counts(layout.tokens, jnp.asarray(z), int(state.topic_count.shape[0]))
