"""Model answers used by the scripted teacher in tests: realistic markdown replies."""

from __future__ import annotations

PROBLEM = (
    "Write a function `add(a, b)` that returns the sum of two integers. "
    "Include unit tests that cover positive and negative numbers."
)

GOOD = """Here is the solution with its tests.

```python
def add(a, b):
    return a + b


assert add(2, 3) == 5
assert add(-1, 1) == 0
print("all tests passed")
```
"""

BUGGY = """```python
def add(a, b):
    return a - b


assert add(2, 3) == 5, "add(2, 3) should be 5"
```
"""

NO_TESTS = """```python
def add(a, b):
    return a + b


print(add(2, 3))
```
"""

UNITTEST = """```python3
import unittest


def add(a, b):
    return a + b


class AddTest(unittest.TestCase):
    def test_positive(self):
        self.assertEqual(add(2, 3), 5)

    def test_negative(self):
        self.assertEqual(add(-2, -3), -5)


if __name__ == "__main__":
    unittest.main()
```
"""

WITH_PACKAGE = """This needs the `tabulate` package.

```bash
pip install tabulate==0.9.0
```

```python
from tabulate import tabulate


def table(rows):
    return tabulate(rows, headers=["n", "square"], tablefmt="plain")


out = table([[2, 4], [3, 9]])
assert "square" in out
assert out.splitlines()[1].split() == ["2", "4"]
print(out)
```
"""

EXPLANATION = (
    "The test `add(2, 3) == 5` failed: the function subtracts instead of adding. "
    "Please return a + b and send the whole corrected program."
)

SNIPPET = "def add(x, y):\n    return x + y\n"
