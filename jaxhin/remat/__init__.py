"""jaxhin.remat: Coop, a tensor rematerialization planner.

Status: planned (a later issue). Nothing is implemented here yet, and nothing pretends to be; the
`jaxhin remat` CLI group says the same.
"""

__all__: list[str] = []
