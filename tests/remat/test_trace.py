"""Trace extraction: ops, sizes, aliasing, names, FLOPs, dead code; user model factories."""

import math

import jax
import jax.numpy as jnp
import pytest
from jax.ad_checkpoint import checkpoint_name

from jaxhin.remat import MODELS, DeviceModel, jaxpr_flops, model_step, trace

F32 = jnp.float32


def test_matmul_chain_ops_sizes_flops_and_lifetimes():
    def f(w, x):
        return jnp.tanh(x @ w) @ w.T

    tr = trace(f, jax.ShapeDtypeStruct((8, 8), F32), jax.ShapeDtypeStruct((4, 8), F32))
    prims = [op.primitive for op in tr.ops]
    assert prims == ["dot_general", "tanh", "transpose", "dot_general"]
    assert [tr.tensors[t].bytes for t in tr.inputs] == [256, 128]
    assert tr.ops[0].flops == 2 * 4 * 8 * 8
    dot = tr.ops[0].outputs[0]
    assert tr.last_use[dot] == 1                      # read only by tanh
    assert tr.last_use[tr.inputs[0]] == 2             # w is read again by the transpose
    assert tr.outputs == tr.ops[-1].outputs


def test_views_alias_their_input_and_names_tag_the_tensor():
    def f(x):
        h = checkpoint_name(jnp.sin(x), "h")
        return jnp.sum(h.reshape(2, 8) * 2.0)

    tr = trace(f, jax.ShapeDtypeStruct((4, 4), F32))
    assert "reshape" not in [op.primitive for op in tr.ops]
    named = [t for t in tr.tensors if t.name == "h"]
    assert len(named) == 1 and named[0].shape == (4, 4)
    mul = next(op for op in tr.ops if op.primitive == "mul")
    assert tr.tensors[mul.inputs[0]].name == "h"      # the reshape read h's own buffer


def test_calls_are_inlined_and_dead_code_dropped():
    @jax.jit
    def inner(x):
        return jax.nn.relu(x) + 1.0

    def f(x):
        _unused = jnp.exp(x)
        return jnp.sum(inner(x))

    tr = trace(f, jax.ShapeDtypeStruct((3,), F32))
    prims = [op.primitive for op in tr.ops]
    assert "pjit" not in prims and "jit" not in prims and "custom_jvp_call" not in prims
    assert "exp" not in prims
    assert "max" in prims


def test_conv_flops_and_roofline_time():
    def f(x, k):
        return jax.lax.conv_general_dilated(x, k, (1, 1), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))

    device = DeviceModel(matmul_flops=1e12, vector_flops=1e11, bandwidth=1e10, launch_s=0.0)
    tr = trace(f, jax.ShapeDtypeStruct((2, 8, 8, 3), F32), jax.ShapeDtypeStruct((3, 3, 3, 5), F32),
               device=device)
    (op,) = tr.ops
    assert op.flops == 2 * (2 * 8 * 8 * 5) * (3 * 3 * 3)
    io = (2 * 8 * 8 * 3 + 3 * 3 * 3 * 5 + 2 * 8 * 8 * 5) * 4
    assert op.time_s == pytest.approx(max(op.flops / 1e12, io / 1e10))


def test_jaxpr_flops_counts_scan_bodies_times_length():
    def body(c, _):
        return c @ jnp.eye(4), None

    def f(x):
        return jax.lax.scan(body, x, None, length=5)[0]

    j = jax.make_jaxpr(f)(jnp.ones((4, 4)))
    assert jaxpr_flops(j) >= 5 * 2 * 4 * 4 * 4


def test_device_model_rejects_bad_values():
    with pytest.raises(ValueError, match="bandwidth"):
        DeviceModel(bandwidth=0)


def test_the_eight_models_have_their_published_parameter_counts():
    """torchvision / timm counts: the definitions are the paper's models, not look-alikes."""
    expected = {"resnet50": 25_557_032, "resnet152": 60_192_808,
                "inception-v3": 23_834_568,  # torchvision's, without the auxiliary head
                "swin-t": 28_288_354, "densenet121": 7_978_856}
    for name, count in expected.items():
        _, (params, *_rest) = model_step(name)
        assert sum(math.prod(p.shape) for p in jax.tree.leaves(params)) == count, name
    assert set(MODELS) == {"resnet50", "resnet152", "inception-v3", "unet", "bert-large",
                           "swin-t", "bilstm", "densenet121"}


USER_MODEL = '''
import jax, jax.numpy as jnp

def factory():
    def step(w, x):
        loss, g = jax.value_and_grad(lambda w: jnp.sum(jnp.tanh(x @ w) ** 2))(w)
        return w - 0.1 * g, loss
    return step, (jax.ShapeDtypeStruct((16, 16), jnp.float32),
                  jax.ShapeDtypeStruct((32, 16), jnp.float32))

not_a_factory = 3
'''


def test_user_factory_from_a_file(tmp_path):
    path = tmp_path / "mymodel.py"
    path.write_text(USER_MODEL)
    step, args = model_step(f"{path}:factory")
    tr = trace(step, *args)
    assert len(tr.ops) > 5 and tr.flops > 0


@pytest.mark.parametrize("spec, match", [
    ("resnet-9000", "expected one of"),
    ("no_such_module_xyz:factory", "cannot import"),
    ("jaxhin.remat:not_there", "no callable"),
])
def test_bad_model_names_say_what_was_expected(spec, match):
    with pytest.raises(ValueError, match=match):
        model_step(spec)


def test_missing_model_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.py"):
        model_step(f"{tmp_path / 'nope.py'}:factory")
