"""HGB (Lv et al., KDD 2021) node-classification datasets in their original text format.

Files: `info.dat` (optional JSON: node types, link types, classes), `node.dat[.gz]`
(`id<TAB>name<TAB>type[<TAB>f1,f2,...]`), `link.dat` (`src<TAB>dst<TAB>type<TAB>weight`),
`label.dat` (train + val) and `label.dat.test` (`id<TAB>name<TAB>type<TAB>c[,c...]`),
`meta.dat` (optional, ignored). Without `info.dat` the node types are numbered as `node.dat`
numbers them (named "type0", ...), each link type joins the types of its first link's ends,
the target type is the labelled nodes' type and the classes are the ids the label files use.
Lines may end in LF or CRLF; a graph where no type has attributes loads (each type a learned
embedding in the models). Parsed once and cached as `.npz` under
`cache_dir()/hgb`, keyed by a hash of the source files' contents, written atomically (the
data folder may be read-only); an unreadable cache entry is rebuilt with a warning. A malformed
line, an empty label file, a node labelled twice or in both label files raises
`HgbFormatError` naming file and line.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import warnings
import zlib
from pathlib import Path

import numpy as np

from jaxhin.data._io import atomic_write
from jaxhin.data._root import DATASETS, DataError, cache_dir, dataset_dir

_CACHE_VERSION = 2  # 2: label files validated, content-hash key
FEATS_TYPES = (0, 1, 2, 3, 4, 5)


class HgbFormatError(DataError):
    """An HGB file that does not follow the format; the message names file and line."""


@dataclasses.dataclass(frozen=True, eq=False)
class HgbData:
    """An HGB dataset as host arrays; node ids are contiguous per type.

    Attributes:
      name: dataset name.
      node_types: type names by type id.
      type_offsets: (T + 1,) first node id of each type, then N.
      features: per type, None (featureless) or a CSR triple `(data, indices, indptr)` with
        `dims[t]` columns; `dense(t)` densifies.
      dims: per type, the attribute dimension (0 for featureless).
      src, dst, edge_type: (E,) int32 links; `weight` (E,) float32.
      edge_types: per link type, `(meaning, src type, dst type)`.
      target_type: the labelled node type.
      class_names: C class names.
      multi_label: IMDB-style multi-label.
      labelled_ids, labelled: train + val node ids and labels, (L,) int32 or (L, C) uint8.
      test_ids, test_labels: the same for `label.dat.test`.
    """

    name: str
    node_types: tuple[str, ...]
    type_offsets: np.ndarray
    features: tuple
    dims: tuple[int, ...]
    src: np.ndarray
    dst: np.ndarray
    edge_type: np.ndarray
    weight: np.ndarray
    edge_types: tuple[tuple[str, int, int], ...]
    target_type: int
    class_names: tuple[str, ...]
    multi_label: bool
    labelled_ids: np.ndarray
    labelled: np.ndarray
    test_ids: np.ndarray
    test_labels: np.ndarray

    @property
    def num_nodes(self) -> int:
        return int(self.type_offsets[-1])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def type_count(self, t: int) -> int:
        return int(self.type_offsets[t + 1] - self.type_offsets[t])

    def dense(self, t: int) -> np.ndarray | None:
        """Type t's attributes as a dense float32 (n_t, dims[t]) array, or None."""
        if self.features[t] is None:
            return None
        data, indices, indptr = self.features[t]
        out = np.zeros((self.type_count(t), self.dims[t]), np.float32)
        rows = np.repeat(np.arange(self.type_count(t)), np.diff(indptr))
        out[rows, indices] = data
        return out

    def __repr__(self) -> str:
        types = ", ".join(f"{n}={self.type_count(t)}" for t, n in enumerate(self.node_types))
        return (f"HgbData({self.name}: {types}; E={len(self.src)} in {len(self.edge_types)} "
                f"link types; {self.num_classes} classes"
                f"{' multi-label' if self.multi_label else ''}; labelled {len(self.labelled_ids)}"
                f", test {len(self.test_ids)})")


def _node_file(folder: Path) -> Path:
    for name in ("node.dat", "node.dat.gz"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{folder} has no node.dat or node.dat.gz")


def _lines(path: Path):
    """Yield `(line number, line)` of a text file, gzipped or not; a file that is not UTF-8
    text (or a truncated or corrupt gzip stream) is an `HgbFormatError` naming it."""
    gz = path.suffix == ".gz"
    lineno = 0
    try:
        with (gzip.open(path, "rt", encoding="utf-8") if gz
              else open(path, encoding="utf-8")) as f:
            for lineno, line in enumerate(f, 1):
                yield lineno, line
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as err:
        kind = "gzip-compressed UTF-8 text" if gz else "UTF-8 text"
        raise HgbFormatError(f"{path}:{lineno + 1}: cannot be read as {kind} "
                             f"({type(err).__name__}: {err})") from None


def _read_info(path: Path) -> dict:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        node_types = {int(k): v for k, v in info["node.dat"]["node type"].items()}
        links = {int(k): (str(v.get("meaning", k)), int(v["start"]), int(v["end"]))
                 for k, v in info["link.dat"]["link type"].items()}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise HgbFormatError(f"{path}: expected HGB info JSON with node.dat/'node type' and "
                             f"link.dat/'link type' ({err})") from None
    classes: dict[int, str] = {}
    label_info = info.get("label.dat", {}).get("node type", {})
    target = None
    for t, names in label_info.items():
        target = int(t)
        classes = {int(k): str(v) for k, v in names.items()}
    return {"node_types": node_types, "links": links, "classes": classes, "target": target}


def _attribute_values(text: str) -> np.ndarray:
    """A node's comma-separated attributes as float32. A row of single digits (a binary bag,
    as DBLP's and ACM's paper attributes are) is read from its bytes, ~100x faster than NumPy's
    per-value float parse, which took 10 of DBLP's 12 s first load; others parse each value."""
    raw = text.encode("utf-8")
    if len(raw) % 2:
        codes = np.frombuffer(raw, np.uint8)
        digits, commas = codes[0::2], codes[1::2]
        if (commas == ord(",")).all() and ((digits >= ord("0")) & (digits <= ord("9"))).all():
            return (digits - ord("0")).astype(np.float32)
    return np.array(text.split(","), dtype=np.float32)


def _parse_nodes(path: Path, node_types: dict[int, str] | None):
    """`node_types` None (no info.dat): any non-negative type id is accepted."""
    ids, types, feats = [], [], {}
    dims: dict[int, int] = {}
    for lineno, line in _lines(path):
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) not in (3, 4):
            raise HgbFormatError(f"{path}:{lineno}: expected 3 or 4 tab-separated fields "
                                 f"(id, name, type[, attributes]), got {len(parts)}")
        try:
            node, t = int(parts[0]), int(parts[2])
        except ValueError:
            raise HgbFormatError(f"{path}:{lineno}: id and type must be integers, got "
                                 f"{parts[0]!r}, {parts[2]!r}") from None
        if node_types is None and t < 0:
            raise HgbFormatError(f"{path}:{lineno}: negative node type {t}")
        if node_types is not None and t not in node_types:
            raise HgbFormatError(f"{path}:{lineno}: node type {t} is not in info.dat "
                                 f"(types {sorted(node_types)})")
        ids.append(node)
        types.append(t)
        if len(parts) == 4 and parts[3]:
            try:
                values = _attribute_values(parts[3])
            except ValueError:
                raise HgbFormatError(f"{path}:{lineno}: attributes must be comma-separated "
                                     f"numbers, got {parts[3][:40]!r}") from None
            if not np.isfinite(values).all():
                raise HgbFormatError(f"{path}:{lineno}: non-finite attribute")
            if dims.setdefault(t, len(values)) != len(values):
                raise HgbFormatError(f"{path}:{lineno}: {len(values)} attributes, but "
                                     f"type {t} had {dims[t]} on earlier lines")
            feats.setdefault(t, []).append((node, values))
    return np.asarray(ids), np.asarray(types), feats, dims


def _csr(rows: list[np.ndarray]):
    indptr = np.zeros(len(rows) + 1, np.int64)
    data, indices = [], []
    for i, row in enumerate(rows):
        nz = np.flatnonzero(row)
        data.append(row[nz])
        indices.append(nz.astype(np.int32))
        indptr[i + 1] = indptr[i] + len(nz)
    return (np.concatenate(data).astype(np.float32), np.concatenate(indices), indptr)


def _parse_links(path: Path, num_nodes: int, links: dict | None, node_type_of: np.ndarray):
    """(src, dst, type, weight, links); `links` None (no info.dat): each link type joins the
    node types of its first link's ends, and every other link of the type must join the same."""
    try:
        table = np.loadtxt(path, delimiter="\t", dtype=np.float64, ndmin=2)
        if table.shape[1] != 4:
            raise ValueError
    except ValueError:
        _find_bad_line(path, 4, "src, dst, type, weight")
        raise
    src, dst, etype = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2]
    etype = etype.astype(np.int64)
    if links is None:
        if (etype < 0).any() or (src < 0).any() or (dst < 0).any() or \
                (src >= num_nodes).any() or (dst >= num_nodes).any():
            links = {}  # the range checks below name the line
        else:
            kinds, first = np.unique(etype, return_index=True)
            links = {int(e): (str(e), int(node_type_of[src[i]]), int(node_type_of[dst[i]]))
                     for e, i in zip(kinds, first, strict=True)}
    for name, bad in (("node id", (src < 0) | (src >= num_nodes) | (dst < 0) | (dst >= num_nodes)),
                      ("link type", ~np.isin(etype, list(links)))):
        if bad.any():
            line = int(np.flatnonzero(bad)[0]) + 1
            raise HgbFormatError(f"{path}:{line}: {name} out of range ({int(src[line - 1])}, "
                                 f"{int(dst[line - 1])}, type {int(etype[line - 1])}; "
                                 f"{num_nodes} nodes, types {sorted(links)})")
    start = np.array([links.get(e, ("", -1, -1))[1] for e in range(max(links, default=-1) + 1)])
    end = np.array([links.get(e, ("", -1, -1))[2] for e in range(max(links, default=-1) + 1)])
    wrong = (node_type_of[src] != start[etype]) | (node_type_of[dst] != end[etype])
    if wrong.any():
        line = int(np.flatnonzero(wrong)[0]) + 1
        raise HgbFormatError(f"{path}:{line}: link type {int(etype[line - 1])} joins types "
                             f"{start[etype[line - 1]]}->{end[etype[line - 1]]}, but nodes "
                             f"{int(src[line - 1])}->{int(dst[line - 1])} have types "
                             f"{node_type_of[src[line - 1]]}->{node_type_of[dst[line - 1]]}")
    return (src.astype(np.int32), dst.astype(np.int32), etype.astype(np.int32),
            table[:, 3].astype(np.float32), links)


def _find_bad_line(path: Path, fields: int, what: str) -> None:
    for lineno, line in _lines(path):
        parts = line.rstrip("\r\n").split("\t")
        try:
            if len(parts) != fields:
                raise ValueError
            [float(p) for p in parts]
        except ValueError:
            raise HgbFormatError(f"{path}:{lineno}: expected {fields} tab-separated numbers "
                                 f"({what}), got {line.strip()[:80]!r}") from None


def _parse_labels(path: Path, target: int, node_type_of: np.ndarray):
    """One labelled node per line; a bad line, a node that is not a target node, a node
    labelled twice or an empty file is an `HgbFormatError` naming file and line."""
    ids, labels, line_of = [], [], {}
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) != 4:
            raise HgbFormatError(f"{path}:{lineno}: expected 4 tab-separated fields "
                                 f"(id, name, type, labels), got {len(parts)}")
        try:
            node, t = int(parts[0]), int(parts[2])
            classes = [int(c) for c in parts[3].split(",")]
        except ValueError:
            raise HgbFormatError(f"{path}:{lineno}: expected integer id, type and "
                                 f"comma-separated class ids, got {line.strip()[:80]!r}"
                                 ) from None
        if not 0 <= node < len(node_type_of):
            raise HgbFormatError(f"{path}:{lineno}: node {node} is not in node.dat "
                                 f"(ids 0..{len(node_type_of) - 1})")
        if t != target:
            raise HgbFormatError(f"{path}:{lineno}: labels must be on the target type "
                                 f"{target}, got type {t}")
        if node_type_of[node] != t:
            raise HgbFormatError(f"{path}:{lineno}: node {node} has type "
                                 f"{node_type_of[node]} in node.dat, not {t}")
        if min(classes) < 0:
            raise HgbFormatError(f"{path}:{lineno}: negative class id in {parts[3]!r}")
        if node in line_of:
            raise HgbFormatError(f"{path}:{lineno}: node {node} is labelled again (first on "
                                 f"line {line_of[node]}); expected one label set per node")
        line_of[node] = lineno
        ids.append(node)
        labels.append(classes)
    if not ids:
        raise HgbFormatError(f"{path}: no labelled nodes; expected lines "
                             f"'id<TAB>name<TAB>type<TAB>class[,class...]'")
    return np.asarray(ids, np.int32), labels, line_of


def _check_disjoint(train_path: Path, train_lines: dict, test_path: Path,
                    test_lines: dict) -> None:
    """A node in both label files would put test nodes into training: refuse it."""
    shared = sorted(set(train_lines) & set(test_lines), key=test_lines.get)
    if shared:
        node = shared[0]
        raise HgbFormatError(
            f"{test_path}:{test_lines[node]}: node {node} is also labelled in {train_path.name} "
            f"(line {train_lines[node]}); the test nodes must not be training nodes "
            f"({len(shared)} node(s) in both files)")


def _source_key(files: list[Path]) -> str:
    """The cache key: a hash of the source files' contents, not their sizes and mtimes (a
    same-size edit with its mtime restored would otherwise reuse a stale cache). HGB files are
    megabytes, so hashing costs milliseconds."""
    h = hashlib.sha1(f"hgb-cache-v{_CACHE_VERSION}".encode())
    for p in files:
        h.update(f"{p.name}:".encode())
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def _label_type(path: Path) -> int:
    """The node type of a label file's first line (the target type when there is no info.dat);
    `_parse_labels` then checks every line against it."""
    for lineno, line in _lines(path):
        parts = line.rstrip("\r\n").split("\t")
        if line.strip():
            try:
                return int(parts[2])
            except (IndexError, ValueError):
                raise HgbFormatError(f"{path}:{lineno}: expected 4 tab-separated fields "
                                     f"(id, name, type, labels), got {line.strip()[:80]!r}"
                                     ) from None
    raise HgbFormatError(f"{path}: no labelled nodes; expected lines "
                         f"'id<TAB>name<TAB>type<TAB>class[,class...]'")


def _parse(folder: Path, name: str) -> dict:
    if (folder / "info.dat").is_file():
        info = _read_info(folder / "info.dat")
    else:  # inferred from the other files (see the module docstring)
        info = {"node_types": None, "links": None, "classes": {}, "target": None}
    ids, types, feats, dims = _parse_nodes(_node_file(folder), info["node_types"])
    if info["node_types"] is None:
        info["node_types"] = {int(t): f"type{t}" for t in range(int(types.max()) + 1)} \
            if len(types) else {}
    order = np.argsort(ids, kind="stable")
    if not np.array_equal(ids[order], np.arange(len(ids))):
        raise HgbFormatError(f"{_node_file(folder)}: node ids must be 0..N-1, each once")
    node_type_of = types[order]
    if np.any(np.diff(node_type_of) < 0):
        raise HgbFormatError(f"{_node_file(folder)}: node ids must be contiguous per type")
    num_types = max(info["node_types"]) + 1
    offsets = np.searchsorted(node_type_of, np.arange(num_types + 1)).astype(np.int64)
    arrays: dict[str, np.ndarray] = {"type_offsets": offsets}
    for t in range(num_types):
        if t in feats:
            rows = sorted(feats[t], key=lambda r: r[0])
            if len(rows) != offsets[t + 1] - offsets[t]:
                raise HgbFormatError(f"{_node_file(folder)}: type {t} has attributes on only "
                                     f"{len(rows)} of its {offsets[t + 1] - offsets[t]} nodes")
            data, indices, indptr = _csr([r[1] for r in rows])
            arrays.update({f"feat{t}_data": data, f"feat{t}_indices": indices,
                           f"feat{t}_indptr": indptr, f"feat{t}_dim": np.asarray(dims[t])})
    src, dst, etype, weight, links = _parse_links(folder / "link.dat", len(ids), info["links"],
                                                  node_type_of)
    info["links"] = links
    arrays.update(src=src, dst=dst, edge_type=etype, weight=weight)
    target = info["target"] if info["target"] is not None else _label_type(
        folder / "label.dat")
    lab_ids, lab, lab_lines = _parse_labels(folder / "label.dat", target, node_type_of)
    test_ids, test, test_lines = _parse_labels(folder / "label.dat.test", target, node_type_of)
    _check_disjoint(folder / "label.dat", lab_lines, folder / "label.dat.test", test_lines)
    multi = any(len(x) > 1 for x in lab + test)
    num_classes = max(len(info["classes"]), 1 + max(c for x in lab + test for c in x))

    def encode(rows):
        if multi:
            out = np.zeros((len(rows), num_classes), np.uint8)
            for i, x in enumerate(rows):
                out[i, x] = 1
            return out
        return np.asarray([x[0] for x in rows], np.int32)

    arrays.update(labelled_ids=lab_ids, labelled=encode(lab), test_ids=test_ids,
                  test_labels=encode(test), target_type=np.asarray(target),
                  multi_label=np.asarray(multi))
    meta = {"name": name, "node_types": [info["node_types"][t] for t in range(num_types)],
            "edge_types": [list(info["links"][e]) for e in sorted(info["links"])],
            "class_names": [info["classes"].get(c, str(c)) for c in range(num_classes)]}
    arrays["meta"] = np.asarray(json.dumps(meta))
    return arrays


def _from_arrays(arrays) -> HgbData:
    meta = json.loads(str(arrays["meta"]))
    offsets = arrays["type_offsets"]
    num_types = len(offsets) - 1
    features, dims = [], []
    for t in range(num_types):
        if f"feat{t}_data" in arrays:
            features.append((arrays[f"feat{t}_data"], arrays[f"feat{t}_indices"],
                             arrays[f"feat{t}_indptr"]))
            dims.append(int(arrays[f"feat{t}_dim"]))
        else:
            features.append(None)
            dims.append(0)
    return HgbData(meta["name"], tuple(meta["node_types"]), offsets, tuple(features),
                   tuple(dims), arrays["src"], arrays["dst"], arrays["edge_type"],
                   arrays["weight"], tuple(tuple(e) for e in meta["edge_types"]),
                   int(arrays["target_type"]), tuple(meta["class_names"]),
                   bool(arrays["multi_label"]), arrays["labelled_ids"], arrays["labelled"],
                   arrays["test_ids"], arrays["test_labels"])


def load_hgb_folder(folder: str | os.PathLike[str], *, name: str | None = None,
                    cache: str | os.PathLike[str] | None = None) -> HgbData:
    """Load an HGB dataset from `folder`, through the `.npz` cache.

    Args:
      folder: holds node.dat[.gz], link.dat, label.dat, label.dat.test and optionally
        info.dat (see the module docstring for what is inferred without it).
      name: dataset name (default: the folder's name).
      cache: cache folder (default `cache_dir()`); the file goes to `<cache>/hgb/`.

    Raises:
      FileNotFoundError: a required file is missing (names it).
      HgbFormatError: a malformed line (names file and line).
    """
    folder = Path(folder)
    name = name or folder.name
    required = [folder / "link.dat", folder / "label.dat", folder / "label.dat.test"]
    missing = [p.name for p in required if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"HGB dataset {name!r} in {folder} lacks {', '.join(missing)}")
    info = [folder / "info.dat"] if (folder / "info.dat").is_file() else []
    sources = [*info, *required, _node_file(folder)]
    target = Path(cache_dir(cache)) / "hgb" / f"{name}-{_source_key(sources)}.npz"
    if target.is_file():
        try:
            with np.load(target, allow_pickle=False) as arrays:
                return _from_arrays(dict(arrays))
        except Exception as err:  # any unreadable cache entry is rebuilt from the sources
            warnings.warn(f"HGB cache {target} is unreadable ({type(err).__name__}: {err}); "
                          f"rebuilding it from {folder}", stacklevel=2)
    arrays = _parse(folder, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    with atomic_write(target, "wb") as f:
        f.write(buffer.getvalue())
    return _from_arrays(arrays)


def load_hgb(name: str, root: str | os.PathLike[str] | None = None, *,
             cache: str | os.PathLike[str] | None = None) -> HgbData:
    """Load HGB `name` ("DBLP", "ACM", "IMDB") from `<data root>/hgb/<name>`."""
    if name not in ("DBLP", "ACM", "IMDB") or name not in DATASETS:
        raise KeyError(f"unknown HGB dataset {name!r}; expected DBLP, ACM or IMDB "
                       f"(or load_hgb_folder(PATH) for another folder in HGB format)")
    return load_hgb_folder(dataset_dir(name, root), name=name, cache=cache)


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """How one node type enters a model.

    Attributes:
      kind: "given" (its attributes), "embedding" (a learned table, one row per node: HGB's
        identity features without the identity matrix) or "zeros" (a constant `dim`-vector).
      dim: input dimension: attribute dimension ("given"), node count ("embedding", the
        identity's width) or vector size ("zeros").
      count: nodes of the type.
    """

    kind: str
    dim: int
    count: int


def feature_specs(data: HgbData, feats_type: int) -> tuple[FeatureSpec, ...]:
    """HGB's `feats_type` options (its baseline code, `utils/data.py`):
    0 all attributes (featureless types: embedding); 1 target type's attributes, others a zero
    10-vector; 2 target type's, others embedding; 3 embedding for all; 4 type 2's (DBLP terms),
    others embedding; 5 type 2's, others zeros."""
    if feats_type not in FEATS_TYPES:
        raise ValueError(f"feats_type must be one of {FEATS_TYPES}, got {feats_type}")
    keep = {0: None, 1: 0, 2: 0, 3: -1, 4: 2, 5: 2}[feats_type]
    other = "zeros" if feats_type in (1, 5) else "embedding"
    specs = []
    for t in range(len(data.node_types)):
        given = data.features[t] is not None and (keep is None or keep == t)
        count = data.type_count(t)
        if given:
            specs.append(FeatureSpec("given", data.dims[t], count))
        elif other == "zeros" and keep is not None and keep != t:
            # the kept type keeps its identity features when it has no attributes, as in
            # HGB's code (a featureless type's features are the identity matrix)
            specs.append(FeatureSpec("zeros", 10, count))
        else:
            specs.append(FeatureSpec("embedding", count, count))
    return tuple(specs)


def save_hgb_folder(data: HgbData, folder: str | os.PathLike[str], *, info: bool = True,
                    attributes: bool = True, newline: str = "\n") -> Path:
    """Write `data` in HGB's format into `folder` (created if needed); returns the folder.

    Each file is written to a temporary file and renamed, so a failure leaves no half-written
    file. `info=False` leaves out `info.dat` (`load_hgb_folder` then infers it),
    `attributes=False` leaves out every type's attributes, `newline="\r\n"` writes CRLF lines:
    together, the kinds of folder other tools produce.

    Example:
      >>> data, _ = synthetic_hin(jax.random.key(0))
      >>> load_hgb_folder(save_hgb_folder(data, "/tmp/syn", info=False))  # doctest: +SKIP
    """
    if newline not in ("\n", "\r\n"):
        raise ValueError(f"newline must be '\\n' or '\\r\\n', got {newline!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, lines) -> None:
        with atomic_write(folder / name, "w", newline="") as f:
            for line in lines:
                f.write(line + newline)

    def nodes():
        for t in range(len(data.node_types)):
            dense = data.dense(t) if attributes else None
            for i in range(data.type_count(t)):
                node = int(data.type_offsets[t]) + i
                attrs = "" if dense is None else "\t" + ",".join(f"{v:g}" for v in dense[i])
                yield f"{node}\t{data.node_types[t]}{i}\t{t}{attrs}"

    def labels(ids, rows):
        for node, row in zip(ids, rows, strict=True):
            classes = np.flatnonzero(row) if data.multi_label else [row]
            yield (f"{node}\t{data.node_types[data.target_type]}{node}\t{data.target_type}\t"
                   f"{','.join(str(int(c)) for c in classes)}")

    write("node.dat", nodes())
    write("link.dat", (f"{s}\t{d}\t{e}\t{w:g}" for s, d, e, w in zip(
        data.src, data.dst, data.edge_type, data.weight, strict=True)))
    write("label.dat", labels(data.labelled_ids, data.labelled))
    write("label.dat.test", labels(data.test_ids, data.test_labels))
    if info:
        write("info.dat", [json.dumps({
            "node.dat": {"node type": dict(enumerate(data.node_types))},
            "link.dat": {"link type": {e: {"start": a, "end": b, "meaning": m}
                                       for e, (m, a, b) in enumerate(data.edge_types)}},
            "label.dat": {"node type": {data.target_type: dict(enumerate(data.class_names))}},
        })])
    elif (folder / "info.dat").is_file():
        (folder / "info.dat").unlink()  # a stale one would describe another graph
    return folder
