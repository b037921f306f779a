"""jaxhin.structure: learning DNN structures by efficient coding.

Status: planned (a later issue). Nothing is implemented here yet, and nothing pretends to be; the
`jaxhin structure` CLI group says the same.
"""

__all__: list[str] = []
