"""`import jaxhin` has no side effects: no backend, no config change (STYLE principle 3)."""

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent("""
    import jax
    from jax._src import xla_bridge
    before = {name: getattr(jax.config, name) for name in
              ("jax_enable_x64", "jax_numpy_rank_promotion", "jax_default_matmul_precision",
               "jax_platforms")}
    import jaxhin, jaxhin.cli
    for sub in ("data", "train", "hin", "lda", "remat", "sbp", "ptm", "structure"):
        getattr(jaxhin, sub)
    after = {name: getattr(jax.config, name) for name in before}
    assert before == after, (before, after)
    print("initialized" if xla_bridge.backends_are_initialized() else "clean")
    jax.devices()  # the probe itself must see a backend start, or the check above proves nothing
    print("initialized" if xla_bridge.backends_are_initialized() else "clean")
""")


def test_import_starts_no_backend_and_changes_no_config():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["clean", "initialized"]


def test_public_names_are_exported():
    import jaxhin

    for module in (jaxhin, jaxhin.data, jaxhin.train):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name} listed but missing"
    assert jaxhin.__version__.count(".") == 2
