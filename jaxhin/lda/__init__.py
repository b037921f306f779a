"""jaxhin.lda: LightLDA, an O(1) Metropolis-Hastings topic-model sampler.

Status: planned (issue #5). Nothing is implemented here yet, and nothing pretends to be; the
`jaxhin lda` CLI group says the same.
"""

__all__: list[str] = []
