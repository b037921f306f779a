"""The package structure: systems are libraries and the CLI is their client; no package reaches
into another's private modules; lower layers never import higher ones; `import jaxhin` and
`jaxhin --help` load no system package."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "jaxhin"
SYSTEMS = ("hin", "lda", "remat", "sbp", "ptm", "structure")
# what each package may import from (besides itself, jaxhin._version and jaxhin._capabilities)
ALLOWED = {
    "data": set(),
    "train": {"data"},
    "sbp": {"data", "train"},
    "remat": {"data", "train", "sbp"},
    "lda": {"data", "train", "sbp"},
    "hin": {"data", "train", "sbp"},
    "ptm": {"data", "train", "sbp", "remat"},
    "structure": {"data", "train", "sbp", "remat"},
    "cli": {"data", "train", *SYSTEMS},
}


def _imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in `path`, nested ones included; `from a import b`
    gives `a.b` (b may be a module)."""
    out = []
    package = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return out


def _violations(root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if len(rel.parts) < 2:  # jaxhin/__init__.py, _version.py, ...: the root
            continue
        own = rel.parts[0]
        for line, name in _imports(path, root):
            parts = name.split(".")
            if parts[0] != "jaxhin" or len(parts) < 2 or parts[1] == own:
                continue
            other = parts[1]
            where = f"jaxhin/{rel}:{line} imports {name}"
            if other.startswith("_"):
                if other not in ("_version", "_capabilities"):
                    found.append(f"{where}: a private module of the jaxhin root")
            elif other not in ALLOWED[own]:
                found.append(f"{where}: {own} may not import {other}")
            elif len(parts) > 2 and parts[2].startswith("_"):
                found.append(f"{where}: a private module of another package")
    return found


def test_packages_import_only_public_names_of_lower_layers():
    assert _violations() == []


def test_the_walk_catches_each_kind_of_violation(tmp_path):
    fake = tmp_path / "jaxhin"
    for pkg, text in {"hin": "from jaxhin.cli import main\nfrom jaxhin.data._hgb import X\n",
                      "sbp": "def f():\n    import jaxhin.hin\n", "data": ""}.items():
        (fake / pkg).mkdir(parents=True)
        (fake / pkg / "mod.py").write_text(text)
    found = " | ".join(_violations(fake))
    assert "hin may not import cli" in found
    assert "jaxhin.data._hgb.X: a private module" in found
    assert "sbp may not import hin" in found


PROBE = textwrap.dedent("""
    import sys
    {body}
    loaded = sorted({{m.split(".")[1] for m in sys.modules if m.startswith("jaxhin.")}})
    heavy = sorted(m for m in ("jax", "flax", "optax", "jraph", "scipy") if m in sys.modules)
    print(loaded, heavy)
""")


@pytest.mark.parametrize("body", [
    "import jaxhin",
    "from jaxhin.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
], ids=["import jaxhin", "jaxhin --help"])
def test_import_and_help_load_no_system_package(body):
    out = subprocess.run([sys.executable, "-c", PROBE.format(body=body)], capture_output=True,
                         text=True, check=True).stdout.strip().splitlines()[-1]
    loaded, heavy = out.split("] [")
    assert not set(SYSTEMS) & set(eval(loaded + "]")), out
    assert eval("[" + heavy) == [], out


def test_a_system_is_loaded_on_first_use():
    probe = ("import sys, jaxhin; jaxhin.sbp.S(0); "
             "print('jaxhin.sbp' in sys.modules, 'jaxhin.hin' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "False"]
