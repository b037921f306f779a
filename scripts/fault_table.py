"""Run bad inputs and faults against the `jaxhin` CLI and print a table of exit codes and
messages: every case must end in exit 2 with one line (or, where the input is fine after all,
exit 0), never a traceback.

Each case runs in this process through `jaxhin.cli.main` (so the table takes seconds, not a JAX
start per case) in a fresh folder holding a small HGB graph (`T`) and a tiny UCI corpus. Ctrl-C
and SIGKILL need their own processes: see tests/lda/test_faults.py and scripts/kill_resume.py.

    python scripts/fault_table.py --markdown faults.md
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

INFO = ('{"node.dat": {"node type": {"0": "a", "1": "b"}}, "link.dat": {"link type": {"0": '
        '{"start": 0, "end": 1, "meaning": "a-b"}}}, "label.dat": {"node type": {"0": {"0": "x",'
        ' "1": "y"}}}}')
FILES = {"info.dat": INFO, "node.dat": "0\tn0\t0\t1,0\n1\tn1\t0\t0,1\n2\t\t1\n",
         "link.dat": "0\t2\t0\t1.0\n1\t2\t0\t1.0\n", "label.dat": "0\tn0\t0\t0\n",
         "label.dat.test": "1\tn1\t0\t1\n"}
HIN = ["hin", "train", "--model", "gcn", "--epochs", "2", "--seeds", "0", "--quiet"]
LDA = ["lda", "train", "--iters", "2", "--chunk", "256", "--quiet"]


def _graph(name: str, **files: str | bytes) -> str:
    folder = Path(name)
    folder.mkdir()
    for file, text in {**FILES, **files}.items():
        if text is None:
            continue
        (folder / file).write_bytes(text if isinstance(text, bytes) else text.encode())
    if "node.dat.gz" in files:
        (folder / "node.dat").unlink(missing_ok=True)
    return str(folder)


def _cases():
    """(system, what, argv, setup) for each case; setup runs in the case's folder first."""
    yield "hin", "empty label.dat", lambda: [*HIN, "--dataset", _graph("g", **{"label.dat": ""})]
    yield "hin", "label.dat.test repeats a training node", lambda: [
        *HIN, "--dataset", _graph("g", **{"label.dat.test": "1\tn1\t0\t1\n0\tn0\t0\t0\n"})]
    yield "hin", "node labelled twice", lambda: [
        *HIN, "--dataset", _graph("g", **{"label.dat": "0\tn0\t0\t0\n0\tn0\t0\t1\n"})]
    yield "hin", "label for a nonexistent node", lambda: [
        *HIN, "--dataset", _graph("g", **{"label.dat": "99999\tx\t0\t0\n"})]
    yield "hin", "label on a non-target type", lambda: [
        *HIN, "--dataset", _graph("g", **{"label.dat": "2\t\t1\t0\n"})]
    yield "hin", "truncated node.dat.gz", lambda: [
        *HIN, "--dataset", _graph("g", **{"node.dat.gz": gzip.compress(
            FILES["node.dat"].encode())[:30]})]
    yield "hin", "node.dat.gz that is not gzip", lambda: [
        *HIN, "--dataset", _graph("g", **{"node.dat.gz": b"plain text"})]
    yield "hin", "info.dat not JSON", lambda: [
        *HIN, "--dataset", _graph("g", **{"info.dat": "{oops"})]
    yield "hin", "link to a node out of range", lambda: [
        *HIN, "--dataset", _graph("g", **{"link.dat": "0\t9\t0\t1.0\n"})]
    yield "hin", "corrupt HGB cache entry (rebuilt)", lambda: _corrupt_cache()
    yield "hin", "--epochs 0", lambda: [*HIN, "--epochs", "0"]
    yield "hin", "--learning-rate -1", lambda: [*HIN, "--learning-rate", "-1"]
    yield "hin", "flag of another model", lambda: [*HIN, "--agm-gamma", "0.3"]
    yield "hin", "unknown dataset", lambda: [*HIN, "--dataset", "DBLPX"]
    yield "hin", "HGB dataset missing under the data root", lambda: [
        *HIN, "--dataset", "DBLP", "--data-dir", "nowhere"]
    yield "hin", "--pred-dir under a file", lambda: [*HIN, "--pred-dir", _file() + "/p"]
    yield "hin", "--checkpoint-dir of another run", lambda: _other_run_hin()
    yield "hin", "--model aghint on a graph whose target has no attributes", lambda: [
        *HIN[:3], "aghint", *HIN[4:], "--dataset", _graph(
            "g", **{"node.dat": "0\tn0\t0\n1\tn1\t0\n2\t\t1\n"})]
    yield "lda", "--out in a missing folder", lambda: [*LDA, "--out", "nodir/r.json"]
    yield "lda", "--out is a folder", lambda: [*LDA, "--out", "."]
    yield "lda", "--plot in a missing folder", lambda: [*LDA, "--plot", "nodir/ll.png"]
    yield "lda", "--checkpoint-dir is a file", lambda: [*LDA, "--checkpoint-dir", _file()]
    yield "lda", "resume with other settings", lambda: _other_run_lda()
    yield "lda", "resume with another K", lambda: _other_run_lda(["--topics", "5"])
    yield "lda", "checkpoint folder in use", lambda: _locked()
    yield "lda", "damaged newest checkpoint (falls back)", lambda: _damaged()
    yield "lda", "run.json not JSON", lambda: _bad_run_file()
    yield "lda", "--topics 1", lambda: [*LDA, "--topics", "1"]
    yield "lda", "--heldout 1.5", lambda: [*LDA, "--heldout", "1.5"]
    yield "lda", "missing corpus file", lambda: [*LDA, "--corpus", "nofile.txt"]
    yield "lda", "UCI word id out of range", lambda: [*LDA, "--corpus", _uci("1 9 1\n")]
    yield "lda", "UCI header not numbers", lambda: [*LDA, "--corpus", _uci(header="x\n3\n1\n")]
    yield "sbp", "--plot in a missing folder", lambda: ["sbp", "pipeline", "--plot", "no/t.png"]
    yield "sbp", "--mesh malformed", lambda: ["sbp", "plan", "--mesh", "data=two"]
    yield "sbp", "--stages above --layers", lambda: ["sbp", "pipeline", "--stages", "8",
                                                     "--layers", "4"]
    yield "sbp", "--batch not divisible by --microbatches", lambda: [
        "sbp", "pipeline", "--batch", "30", "--microbatches", "8"]
    yield "remat", "planned system", lambda: ["remat", "plan"]


def _file() -> str:
    Path("a-file").write_text("")
    return "a-file"


def _uci(body: str = "1 1 2\n", header: str = "1\n3\n1\n") -> str:
    Path("docword.t.txt").write_text(header + body)
    Path("vocab.t.txt").write_text("x\ny\nz\n")
    return "docword.t.txt"


def _quietly(argv):
    from jaxhin.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(argv)


def _corrupt_cache():
    argv = [*HIN, "--dataset", _graph("g")]
    _quietly(argv)
    for entry in Path(os.environ["JAXHIN_CACHE"]).rglob("*.npz"):
        entry.write_bytes(b"garbage")
    return argv


def _other_run_hin():
    _quietly([*HIN, "--checkpoint-dir", "ck"])
    return [*HIN, "--epochs", "3", "--checkpoint-dir", "ck"]


def _other_run_lda(change=("--alpha", "0.9", "--sampler", "gibbs")):
    _quietly([*LDA, "--checkpoint-dir", "ck"])
    return [*LDA, "--iters", "4", *change, "--checkpoint-dir", "ck"]


def _locked():
    from jaxhin.train import run_folder

    stack = contextlib.ExitStack()
    stack.enter_context(run_folder("ck", {"held": "by fault_table"}))
    _HELD.append(stack)
    return [*LDA, "--checkpoint-dir", "ck"]


def _damaged():
    _quietly([*LDA, "--iters", "4", "--checkpoint-every", "2", "--checkpoint-dir", "ck"])
    for f in Path("ck/4").rglob("*"):
        if f.is_file():
            f.write_bytes(b"garbage")
    return [*LDA, "--iters", "6", "--checkpoint-dir", "ck"]


def _bad_run_file():
    Path("ck").mkdir()
    Path("ck/run.json").write_text("{not json")
    return [*LDA, "--checkpoint-dir", "ck"]


_HELD: list[contextlib.ExitStack] = []


def run_case(setup) -> tuple[int | str, str]:
    """Exit status and the last line of stderr (or the exception, for a traceback)."""
    import warnings

    from jaxhin.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        argv = setup()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = main(argv)
        lines = [f"warning: {w.message}" for w in caught if "jaxhin" in str(w.filename)
                 or "cache" in str(w.message) or "step" in str(w.message)]
        return code, (lines[-1] if lines else "(completed)")
    except SystemExit as exit_:
        text = err.getvalue().strip().splitlines()
        return exit_.code, (text[-1] if text else "")
    except BaseException as exc:  # a traceback: the table reports it as a failure
        return "TRACEBACK", "".join(traceback.format_exception_only(exc)).strip()
    finally:
        while _HELD:
            _HELD.pop().close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", default=None, help="also write the table here")
    args = parser.parse_args(argv)
    rows, bad = [], 0
    home = Path.cwd()
    for system, what, setup in _cases():
        folder = Path(tempfile.mkdtemp(prefix="jaxhin-fault-"))
        os.environ["JAXHIN_CACHE"] = str(folder / "cache")
        os.chdir(folder)
        try:
            code, message = run_case(setup)
        finally:
            os.chdir(home)
            shutil.rmtree(folder, ignore_errors=True)
        ok = code in (0, 2) and message and "Traceback" not in message
        bad += not ok
        rows.append(f"| {system} | {what} | {code} | {message.replace('|', '/')[:230]} |")
        print(rows[-1], flush=True)
    table = "\n".join(["| system | case | exit | message |", "|---|---|---|---|", *rows])
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
    print(f"{len(rows)} cases, {bad} ending in a traceback or without a message")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
