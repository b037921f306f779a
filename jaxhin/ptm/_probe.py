"""Interpretation: layer-wise linear probes and head-masking importance (the survey's
"what does a pre-trained model know" tools).

Layer-wise probing (Tenney et al. 2019; Hewitt and Manning 2019): freeze the backbone, read
each layer's hidden state at the first sub-word of each word, and train one linear classifier
per layer for a word-level label (here part of speech from the tagged Brown corpus). The curve
of test accuracy over layers shows where the information sits; the majority-tag-per-word
baseline says how much of it a lookup table already has.

Head importance (Michel et al. 2019): switch one attention head off (`head_mask`) and measure
the drop in a fine-tuned classifier's dev accuracy; repeat for every head.
"""

from __future__ import annotations

import collections
import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxhin.ptm._backbone import Transformer, TransformerConfig
from jaxhin.ptm._pretrained import pad_id, pad_ids, pool


@dataclasses.dataclass(frozen=True)
class LinearProbe:
    """A linear classifier on frozen features: its best-dev step, accuracies, and the head
    (over standardised features)."""

    dev_acc: float
    test_acc: float
    best_step: int
    dev_curve: tuple[float, ...]
    kernel: np.ndarray = dataclasses.field(repr=False)
    bias: np.ndarray = dataclasses.field(repr=False)
    mean: np.ndarray = dataclasses.field(repr=False)
    scale: np.ndarray = dataclasses.field(repr=False)


def linear_probe(x: dict[str, np.ndarray], y: dict[str, np.ndarray], classes: int, *,
                 learning_rate: float = 1e-2, weight_decay: float = 0.01, steps: int = 500,
                 every: int = 10) -> LinearProbe:
    """Train softmax regression on `x["train"]` (N, D) -> `y["train"]` (N,) with full-batch
    Adam and an L2 penalty, read dev accuracy every `every` steps, and report the test
    accuracy of the best-dev step (test labels never choose anything). Features are
    standardised by the training set's mean and spread first, so a random network's and a
    trained one's are probed alike."""
    mu, sd = x["train"].mean(0), x["train"].std(0) + 1e-6
    xs = {k: jnp.asarray((v - mu) / sd) for k, v in x.items()}
    ys = {k: jnp.asarray(v) for k, v in y.items()}
    w0 = {"kernel": jnp.zeros((xs["train"].shape[1], classes)), "bias": jnp.zeros(classes)}
    opt = optax.adam(learning_rate)

    def loss_fn(w):
        logits = xs["train"] @ w["kernel"] + w["bias"][None]
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, ys["train"]).mean()
        return ce + weight_decay * jnp.sum(w["kernel"] ** 2)

    @jax.jit
    def acc(w, part_x, part_y):
        return jnp.mean(jnp.argmax(part_x @ w["kernel"] + w["bias"][None], -1) == part_y)

    @functools.partial(jax.jit, static_argnums=2)
    def run(w, state, n):
        def body(carry, _):
            w, state = carry
            updates, state = opt.update(jax.grad(loss_fn)(w), state, w)
            return (optax.apply_updates(w, updates), state), None
        return jax.lax.scan(body, (w, state), None, length=n)[0]

    w, state = w0, opt.init(w0)
    curve, best, best_w = [], 0, w0
    for s in range(every, steps + 1, every):
        w, state = run(w, state, every)
        curve.append(float(acc(w, xs["dev"], ys["dev"])))
        if curve[-1] > max(curve[:-1], default=-1.0):
            best, best_w = s, w
    test = float(acc(best_w, xs["test"], ys["test"]))
    return LinearProbe(max(curve), test, best, tuple(curve), np.asarray(best_w["kernel"]),
                       np.asarray(best_w["bias"]), mu, sd)


def word_inputs(tokenizer, sentences: list[list[str]], max_len: int):
    """Token ids (B, T), mask (B, T), and for each word the position of its first sub-word
    token (B, W) with a validity mask (B, W) (words cut off by `max_len` are invalid).

    A Hugging Face tokenizer encodes the words as pre-tokenised input (its special tokens
    added); a jaxhin tokenizer encodes each word on its own after its `<cls>`."""
    seqs, firsts = [], []
    if hasattr(tokenizer, "encode_batch"):
        for enc in tokenizer.encode_batch(sentences, is_pretokenized=True):
            first: dict[int, int] = {}
            for pos, w in enumerate(enc.word_ids):
                if w is not None and w not in first and pos < max_len - 1:
                    first[w] = pos
            seqs.append(enc.ids[:max_len])
            firsts.append(first)
    else:
        for words in sentences:
            ids, first = [tokenizer.cls_id], {}
            for i, word in enumerate(words):
                pieces = tokenizer.encode(word).tolist()
                if pieces and len(ids) + len(pieces) <= max_len:
                    first[i] = len(ids)
                    ids.extend(pieces)
            seqs.append(ids)
            firsts.append(first)
    ids, mask = pad_ids(seqs, pad_id(tokenizer))
    width = max(len(s) for s in sentences)
    where = np.zeros((len(sentences), width), np.int32)
    valid = np.zeros((len(sentences), width), bool)
    for i, first in enumerate(firsts):
        for w, pos in first.items():
            where[i, w], valid[i, w] = pos, True
    return ids, mask, where, valid


def layer_features(config: TransformerConfig, params, tokenizer,
                   sentences: list[list[str]], *, max_len: int = 128, batch: int = 64
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Each word's first-sub-word state at every layer: (N + 1, words, D) for layers 0 (the
    embeddings) to N, flattened over sentences, and the valid words' (sentence, word) index
    (words, 2)."""
    net = Transformer(config)

    @jax.jit
    def states(ids, mask, where):
        _, inter = net.apply(params, ids, mask=mask, hidden=True,
                             mutable=["intermediates"])
        inter = inter["intermediates"]
        h = jnp.concatenate([inter["embedded"][0][None], inter["blocks"]["hidden"][0]])
        return jnp.take_along_axis(h, where[None, :, :, None], axis=2)   # (N+1, B, W, D)

    feats, index = [], []
    for i in range(0, len(sentences), batch):
        part = sentences[i:i + batch]
        ids, mask, where, valid = word_inputs(tokenizer, part, max_len)
        out = np.asarray(states(ids, mask, where))
        feats.append(out[:, valid])
        rows, cols = np.nonzero(valid)
        index.append(np.stack([rows + i, cols], 1))
    return np.concatenate(feats, axis=1), np.concatenate(index)


def simplify_brown_tag(tag: str) -> str:
    """Brown's tag without its modifiers: "np-tl" -> "np", "vbd-hl" -> "vbd", "fw-nn" -> "nn"
    (title, headline and foreign-word marks dropped); "--" stays "--"."""
    base = tag.removeprefix("fw-").split("-")[0]
    return base or tag


@dataclasses.dataclass(frozen=True)
class ProbeCurve:
    """Per-layer probe accuracies (layer 0: the embeddings) and the baselines."""

    dev_acc: tuple[float, ...]
    test_acc: tuple[float, ...]
    majority_test_acc: float      # each test word's most frequent training tag
    tags: tuple[str, ...]
    words: dict                   # words per split


def pos_probe(config: TransformerConfig, params, tokenizer,
              tagged: list[list[tuple[str, str]]], *, max_len: int = 128,
              splits: tuple[int, int, int] = (3000, 500, 500), steps: int = 300
              ) -> ProbeCurve:
    """Layer-wise part-of-speech probing on tagged sentences (e.g. `jaxhin.data.brown_tagged`):
    the first `splits` sentences for train, dev and test, simplified Brown tags (tags seen
    fewer than 5 times in training map to "other")."""
    n_train, n_dev, _ = splits
    if len(tagged) < sum(splits):
        raise ValueError(f"{len(tagged)} tagged sentences; splits {splits} need {sum(splits)}")
    parts = {"train": tagged[:n_train], "dev": tagged[n_train:n_train + n_dev],
             "test": tagged[n_train + n_dev:sum(splits)]}
    counts = collections.Counter(simplify_brown_tag(t) for s in parts["train"] for _, t in s)
    tags = [*sorted(t for t, c in counts.items() if c >= 5), "other"]
    tag_index = {t: i for i, t in enumerate(tags)}
    x, y, words = {}, {}, {}
    for name, sents in parts.items():
        feats, index = layer_features(config, params, tokenizer, [[w for w, _ in s]
                                                                   for s in sents],
                                      max_len=max_len)
        x[name] = feats
        y[name] = np.asarray([tag_index.get(simplify_brown_tag(sents[r][c][1]),
                                            tag_index["other"]) for r, c in index], np.int32)
        words[name] = [sents[r][c][0].lower() for r, c in index]
    by_word: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for w, t in zip(words["train"], y["train"], strict=True):
        by_word[w][int(t)] += 1
    top = collections.Counter(y["train"].tolist()).most_common(1)[0][0]
    guess = [by_word[w].most_common(1)[0][0] if w in by_word else top for w in words["test"]]
    majority = float(np.mean(np.asarray(guess) == y["test"]))
    dev, test = [], []
    for layer in range(x["train"].shape[0]):
        probe = linear_probe({k: v[layer] for k, v in x.items()}, y, len(tags), steps=steps)
        dev.append(probe.dev_acc)
        test.append(probe.test_acc)
    return ProbeCurve(tuple(dev), tuple(test), majority, tuple(tags),
                      {k: len(v) for k, v in words.items()})


def head_importance(model, params, ids: np.ndarray, mask: np.ndarray, labels: np.ndarray
                    ) -> tuple[float, np.ndarray]:
    """Accuracy of a classifier (`Classifier`) on a batch, and its drop (N, H) when each
    attention head alone is switched off (Michel et al. 2019)."""
    cfg = model.config
    backbone_params = {"params": params["params"]["backbone"]}
    head = params["params"]["head"]
    net = Transformer(cfg)

    @jax.jit
    def accuracy(head_mask):
        h = net.apply(backbone_params, ids, mask=mask, hidden=True, head_mask=head_mask)
        logits = pool(h, mask, model.pooling) @ head["kernel"] + head["bias"][None]
        return jnp.mean(jnp.argmax(logits, -1) == labels)

    full = float(accuracy(jnp.ones((cfg.layers, cfg.heads))))
    drop = np.zeros((cfg.layers, cfg.heads))
    for layer in range(cfg.layers):
        for h in range(cfg.heads):
            m = jnp.ones((cfg.layers, cfg.heads)).at[layer, h].set(0.0)
            drop[layer, h] = full - float(accuracy(m))
    return full, drop
