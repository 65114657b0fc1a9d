#!/usr/bin/env python3
"""Fails when a folder of src/ or include/rediscache/ includes one above it in the layer order.

The order (lowest first) is the one in CONTRIBUTING.md and src/CMakeLists.txt. A file may include
its own folder and any folder below it. Installed headers may include only installed headers, and
never hiredis or OpenSSL (they are private dependencies). Prints file:line for each violation.
"""
import pathlib
import re
import sys

LAYERS = ["util", "net", "topology", "client", "near", "cache", "helpers", "recipes", "observe"]
RANK = {name: rank for rank, name in enumerate(LAYERS)}
# Top-level headers: version/export are below everything; the umbrella is above everything.
ROOT_RANK = {"version.hpp": -1, "export.hpp": -1, "rediscache.hpp": len(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
PRIVATE_DEPS = ("hiredis/", "openssl/")


def target_rank(name):
    parts = name.split("/")
    if parts[0] == "rediscache":
        if len(parts) == 2:
            return ROOT_RANK.get(parts[1])
        return RANK.get(parts[1])
    return RANK.get(parts[0])


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    problems = []
    for base, public in ((root / "src", False), (root / "include" / "rediscache", True)):
        for path in sorted(base.rglob("*")):
            if path.suffix not in (".hpp", ".cpp", ".h") or not path.is_file():
                continue
            rel = path.relative_to(base).parts
            if len(rel) == 1:
                where = f"{path.relative_to(root)}"
                if not public:
                    problems.append(f"{where}: a source outside every layer folder")
                continue
            if rel[0] not in RANK:
                problems.append(f"{path.relative_to(root)}: folder '{rel[0]}' is not a layer "
                                f"({', '.join(LAYERS)})")
                continue
            own = RANK[rel[0]]
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                delimiter, name = match.groups()
                where = f"{path.relative_to(root)}:{number}"
                if public and name.startswith(PRIVATE_DEPS):
                    problems.append(f"{where}: installed header includes <{name}>")
                    continue
                if delimiter == "<":
                    continue
                if public and not name.startswith("rediscache/"):
                    problems.append(f"{where}: installed header includes private \"{name}\"")
                    continue
                rank = target_rank(name)
                if rank is None:
                    continue  # same-folder relative include or a non-layer path
                if rank > own:
                    problems.append(f"{where}: {rel[0]}/ includes \"{name}\", which is above it "
                                    f"in the layer order")
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_layers: {len(problems)} problem(s); layer order: {' < '.join(LAYERS)}")
        return 1
    print(f"check_layers: every include points down ({' < '.join(LAYERS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
