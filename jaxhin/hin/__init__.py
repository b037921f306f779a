"""jaxhin.hin: AGHINT, attribute-guided heterogeneous graph transformer.

Status: planned (issues #3 and #4). Nothing is implemented here yet, and nothing pretends to be; the
`jaxhin hin` CLI group says the same.
"""

__all__: list[str] = []
