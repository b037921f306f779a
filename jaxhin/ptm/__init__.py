"""jaxhin.ptm: Transformer pre-training, fine-tuning and probing (pre-trained models survey).

Status: planned (a later issue). Nothing is implemented here yet, and nothing pretends to be; the
`jaxhin ptm` CLI group says the same.
"""

__all__: list[str] = []
