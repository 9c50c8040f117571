"""A tiny corpus of Python packages on disk: a repository with three packages and a test."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

MIT = "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining"
GPL = "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n"

MODULES = {
    "mathy/arith.py": '''
        """Small arithmetic helpers."""


        def add(a, b):
            """Return the sum of a and b.

            >>> add(2, 3)
            5
            """
            return a + b


        def mean(values):
            """Return the arithmetic mean of a list of numbers."""
            total = sum(values)
            return total / len(values)


        def clamp(x, low, high):
            """Clamp x into the closed interval from low to high."""
            # keep x inside the bounds
            if x < low:
                return low
            return min(x, high)
        ''',
    "mathy/seq.py": '''
        def fibonacci(n):
            """Return the n-th Fibonacci number.

            >>> fibonacci(10)
            55
            """
            a, b = 0, 1
            for _ in range(n):
                a, b = b, a + b
            return a


        def squares(n):
            """Return the squares of the numbers below n as a list."""
            return [i * i for i in range(n)]
        ''',
    "texty/words.py": '''
        import re


        def count_words(text):
            """Count the words in a text, ignoring punctuation."""
            # split the text on anything that is not a word character
            words = re.findall(r"\\w+", text)
            return len(words)


        def title_case(text):
            """Capitalise the first letter of every word in the text."""
            return " ".join(w[:1].upper() + w[1:] for w in text.split())


        class Stack:
            """A last-in, first-out stack of items."""

            def __init__(self):
                self.items = []

            def push(self, item):
                """Put an item on top of the stack."""
                self.items.append(item)
                return len(self.items)

            def pop(self):
                """Remove the top item of the stack and return it."""
                item = self.items[-1]
                del self.items[-1]
                return item
        ''',
    "filey/paths.py": '''
        import os


        def list_python_files(folder):
            """Return the names of the Python files in a folder, sorted."""
            # read the folder and keep the files ending in .py
            names = os.listdir(folder)
            return sorted(n for n in names if n.endswith(".py"))


        def read_port(path):
            """Read a port number from a config file and return it as an int."""
            with open(path) as handle:
                text = handle.read().strip()
            return int(text)
        ''',
    "filey/tests/test_paths.py": '''
        def test_nothing():
            """A test file: left out of the dataset."""
            assert True
        ''',
}


def write_corpus(root: Path, git: bool = False, licence: str = MIT) -> Path:
    """A repository with three packages (``mathy``, ``texty``, ``filey``)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "LICENSE").write_text(licence, encoding="utf-8")
    for relative, text in MODULES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    if git:
        run = {"cwd": root, "check": True, "capture_output": True}
        subprocess.run(["git", "init", "-q"], **run)
        subprocess.run(["git", "add", "."], **run)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm",
                        "corpus"], **run)
    return root
