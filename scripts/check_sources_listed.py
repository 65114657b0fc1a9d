#!/usr/bin/env python3
"""Fails when a C++ file under src/ or tests/ is not named in its CMakeLists.txt.

Sources are listed, never globbed (CONTRIBUTING.md), so the failure a glob would have had (a
stray file silently joining the library) becomes the opposite one: a new file that nobody added
to a list is silently not built, and its tests silently never run. This check closes that gap.
Prints each unlisted file.
"""
import pathlib
import sys

# Each tree and the CMakeLists.txt that lists its files by path relative to that tree.
TREES = {"src": "src/CMakeLists.txt", "tests": "tests/CMakeLists.txt"}
# Trees that list their files in a CMakeLists.txt of their own.
OWN_LISTS = ("tests/package",)


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    missing = []
    for tree, lists in TREES.items():
        text = (root / lists).read_text()
        named = set(text.split())
        for path in sorted((root / tree).rglob("*")):
            if path.suffix not in (".cpp", ".hpp") or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            if any(rel.startswith(own + "/") for own in OWN_LISTS):
                continue
            inner = path.relative_to(root / tree).as_posix()
            if not any(word.strip("()") == inner for word in named):
                missing.append(f"{rel}: not listed in {lists}")
    for line in missing:
        print(line)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
