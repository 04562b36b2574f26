"""Read LightGBM's model text (``model.txt``, ``Booster.model_to_string()``) into a `TreeEnsemble`.

The text is what LightGBM itself saves and loads, so nothing needs LightGBM to read
it: a header of ``key=value`` lines, one ``Tree=N`` block per tree (parallel arrays:
``split_feature``, ``threshold``, ``decision_type``, ``left_child``, ``right_child``,
where a negative child ``~j`` is leaf ``j``, then ``leaf_value`` and the training
statistics), the feature importances, and the training parameters as ``[name: value]``.
"""

from __future__ import annotations

from typing import Any

from pytest_repro.diagnose.tree_ensembles import Node, Tree, TreeEnsemble

LIBRARY = "LightGBM"
# The first line of every model text LightGBM writes.
MAGIC = "tree\n"
# Per-tree arrays that describe the nodes themselves; every other numeric array is a statistic.
_STRUCTURE = frozenset(
    {
        "split_feature",
        "threshold",
        "decision_type",
        "left_child",
        "right_child",
        "leaf_value",
        "num_leaves",
        "cat_boundaries",
        "cat_threshold",
    }
)
# Follow from the trees, which are compared themselves: each tree's size in bytes, and how
# often each feature is split on (or its total gain).
_DERIVED = frozenset({"tree_sizes", "feature_importances"})
# Header values that hold one item per feature, space-separated: compared item by item.
_PER_FEATURE = frozenset({"feature_names", "feature_infos"})
# decision_type's bits (LightGBM's tree.h): categorical split, missing values go left, missing type.
_CATEGORICAL, _DEFAULT_LEFT = 1, 2
_MISSING = {0: "", 1: "zero is missing", 2: "NaN is missing"}


def is_lightgbm_text(head: bytes) -> bool:
    """Whether a file's first bytes are LightGBM's model text."""
    return head.startswith(MAGIC.encode()) and b"version=" in head[:64]


def read_lightgbm_text(text: str) -> TreeEnsemble:
    """Parse a LightGBM model text; raise ValueError if it is not one."""
    if not text.startswith(MAGIC):
        raise ValueError("not a LightGBM model text (it does not start with 'tree')")
    header: dict[str, Any] = {}
    params: dict[str, str] = {}
    blocks: list[dict[str, str]] = []
    section = "header"
    for line in text.splitlines()[1:]:
        if not line.strip() or line == "feature_importances:":
            continue
        if line.startswith("Tree="):
            section = "tree"
            blocks.append({"Tree": line[5:]})
        elif line == "end of trees":
            section = "importances"
        elif line == "parameters:":
            section = "parameters"
        elif line == "end of parameters":
            section = "tail"
        elif section == "parameters" and line.startswith("[") and line.endswith("]"):
            name, _, value = line[1:-1].partition(": ")
            params[name] = value
        elif section == "importances" and "=" in line:
            continue  # derived from the trees (see _DERIVED)
        elif section == "tree" and "=" in line:
            name, _, value = line.partition("=")
            blocks[-1][name] = value
        elif "=" in line and section == "header":
            name, _, value = line.partition("=")
            if name not in _DERIVED:
                header[name] = value.split(" ") if name in _PER_FEATURE else value
        elif ":" in line:  # pandas_categorical:[...] after the parameters
            name, _, value = line.partition(":")
            header[name] = value
        else:
            raise ValueError(f"unexpected line in a LightGBM model text: {line[:60]!r}")
    return TreeEnsemble(LIBRARY, tuple(_tree(block) for block in blocks), header, params)


def _tree(block: dict[str, str]) -> Tree:
    """One ``Tree=N`` block as a `Tree`: its nodes depth-first, the rest as statistics or fields."""
    arrays = {name: value.split() for name, value in block.items() if name != "Tree"}
    leaves = [float(v) for v in arrays.get("leaf_value", [])]
    nodes: list[Node] = []
    if int(block.get("num_leaves", "1")) <= 1 or not arrays.get("split_feature"):
        nodes.append(Node("leaf 0", None, value=(leaves[0],) if leaves else ()))
    else:
        _visit(0, arrays, leaves, nodes)
    stats: dict[str, tuple[float, ...]] = {}
    fields: dict[str, Any] = {}
    for name, values in arrays.items():
        if name in _STRUCTURE:
            continue
        try:
            stats[name] = tuple(float(v) for v in values)
        except ValueError:
            fields[name] = " ".join(values)
    return Tree(tuple(nodes), stats, fields)


def _visit(index: int, arrays: dict[str, list[str]], leaves: list[float], nodes: list[Node]) -> None:
    """Append split `index` and everything below it, left subtree first."""
    # An explicit stack: a tree of 131072 leaves would pass the recursion limit.
    stack = [index]
    while stack:
        child = stack.pop()
        if child < 0:
            leaf = ~child
            nodes.append(Node(f"leaf {leaf}", None, value=(leaves[leaf],)))
            continue
        nodes.append(Node(f"node {child}", *_split(child, arrays)))
        stack += [int(arrays["right_child"][child]), int(arrays["left_child"][child])]


def _split(index: int, arrays: dict[str, list[str]]) -> tuple[str, float | None, tuple[()], str]:
    """What split `index` tests, its numeric threshold (None for a categorical split), how it treats missing values."""
    feature = arrays["split_feature"][index]
    decision = int(arrays.get("decision_type", ["0"] * (index + 1))[index])
    missing = _MISSING.get((decision >> 2) & 3, "")
    # Where a missing value goes matters only when the split has missing values at all.
    note = f"{missing}, sent {'left' if decision & _DEFAULT_LEFT else 'right'}" if missing else ""
    if decision & _CATEGORICAL:
        # The threshold indexes this tree's category bitsets: show the categories themselves.
        slot = int(float(arrays["threshold"][index]))
        bounds = arrays.get("cat_boundaries", [])
        words = arrays.get("cat_threshold", [])[int(bounds[slot]) : int(bounds[slot + 1])] if bounds else []
        categories = [
            w * 32 + bit for w, word in enumerate(words) for bit in range(32) if int(word) >> bit & 1
        ]
        return f"x[{feature}] in {{{', '.join(map(str, categories))}}}", None, (), note
    return f"x[{feature}] <=", float(arrays["threshold"][index]), (), note
