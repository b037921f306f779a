"""jaxhin.sbp: OneFlow's SBP placements, boxing, auto-parallel planning and actor pipeline.

Status: planned (issue #6). Nothing is implemented here yet, and nothing pretends to be; the
`jaxhin sbp` CLI group says the same.
"""

__all__: list[str] = []
