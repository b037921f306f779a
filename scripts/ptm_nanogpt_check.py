"""nanoGPT's character-level tiny Shakespeare CPU recipe, in jaxhin and in an independent
PyTorch transcription, on the same split with the same evaluation: is 1.88 reachable here?

The recipe (nanoGPT's README, CPU section): 4 layers, 4 heads, width 128, context 64, batch 12,
2,000 iterations, learning rate 1e-3 with 100 warm-up iterations and cosine decay to 1e-4,
AdamW (0.9, 0.99) with weight decay 0.1 on matrices, gradient clipping at 1.0, no dropout, no
biases; validation = mean loss over 20 random batches of the last 10% of the text. The PyTorch
model below is written from that description (GPT-2's layout: pre-LayerNorm blocks, tied
embeddings, residual projections initialised with std 0.02 / sqrt(2 N)), not copied.

    JAXHIN_DATA=../shared/data python scripts/ptm_nanogpt_check.py --seeds 0 1 --out check.json

Needs torch (`pip install -e '.[bench]'`). About 4 minutes per seed and library on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time


def torch_run(text: str, seed: int, steps: int, log) -> dict:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(seed)
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(data))
    train, val = data[:n], data[n:]
    vocab, width, layers, heads, ctx, batch = len(chars), 128, 4, 4, 64, 12

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(width, bias=False)
            self.qkv = nn.Linear(width, 3 * width, bias=False)
            self.proj = nn.Linear(width, width, bias=False)
            self.ln2 = nn.LayerNorm(width, bias=False)
            self.up = nn.Linear(width, 4 * width, bias=False)
            self.down = nn.Linear(4 * width, width, bias=False)

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
            return x + self.down(F.gelu(self.up(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, width)
            self.wpe = nn.Embedding(ctx, width)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.ln_f = nn.LayerNorm(width, bias=False)
            for name, p in self.named_parameters():
                if p.dim() >= 2:
                    std = 0.02 / math.sqrt(2 * layers) if name.endswith(("proj.weight", "down.weight")) else 0.02
                    nn.init.normal_(p, 0.0, std)

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            logits = self.ln_f(x) @ self.wte.weight.T
            return F.cross_entropy(logits.view(-1, vocab), targets.view(-1))

    model = GPT()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))

    def lr_at(it):
        if it < 100:
            return 1e-3 * (it + 1) / 101
        ratio = min((it - 100) / (steps - 100), 1.0)
        return 1e-4 + 0.5 * (1 + math.cos(math.pi * ratio)) * (1e-3 - 1e-4)

    def get(split):
        src = train if split == "train" else val
        ix = torch.randint(len(src) - ctx, (batch,))
        x = torch.stack([src[i:i + ctx] for i in ix])
        y = torch.stack([src[i + 1:i + 1 + ctx] for i in ix])
        return x, y

    @torch.no_grad()
    def estimate():
        model.eval()
        loss = float(np.mean([model(*get("val")).item() for _ in range(20)]))
        model.train()
        return loss

    start = time.perf_counter()
    for it in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        loss = model(*get("train"))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    train_s = time.perf_counter() - start
    val_loss = estimate()
    log(f"torch seed {seed}: val loss {val_loss:.4f} after {steps} steps ({train_s:.0f} s)")
    return {"seed": seed, "val_loss": val_loss, "train_s": train_s}


def jaxhin_run(text: str, seed: int, steps: int, log) -> dict:
    import jax

    from jaxhin.ptm import PretrainConfig, TransformerConfig, pretrain, train_tokenizer

    tok = train_tokenizer("char", text)
    result = pretrain(jax.random.key(seed), tok.encode(text),
                      TransformerConfig(vocab_size=tok.vocab_size),
                      PretrainConfig(steps=steps, eval_every=steps), show_progress=False)
    val_loss = result.evals[-1]["val_loss"]
    log(f"jaxhin seed {seed}: val loss {val_loss:.4f} after {steps} steps ({result.train_s:.0f} s)")
    return {"seed": seed, "val_loss": val_loss, "train_s": result.train_s}


def main() -> None:
    from jaxhin.cli import output_file

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args()

    from jaxhin.data import load_text

    text = load_text("shakespeare")
    rows = {"torch": [], "jaxhin": []}
    for seed in args.seeds:
        rows["torch"].append(torch_run(text, seed, args.steps, print))
        rows["jaxhin"].append(jaxhin_run(text, seed, args.steps, print))
    summary = {}
    for name, runs in rows.items():
        losses = [r["val_loss"] for r in runs]
        summary[name] = {"mean": statistics.mean(losses),
                         "std": statistics.stdev(losses) if len(losses) > 1 else 0.0}
        print(f"{name}: val loss {summary[name]['mean']:.4f} +- {summary[name]['std']:.4f} over "
              f"{len(losses)} seeds (nanoGPT reports 1.88)")
    if args.out:
        from jaxhin.train import make_results, write_results

        write_results(args.out, make_results(system="ptm", command="nanogpt-check",
                                             config={"seeds": args.seeds, "steps": args.steps},
                                             metrics={"runs": rows, "summary": summary},
                                             wall_s=0.0))


if __name__ == "__main__":
    main()
