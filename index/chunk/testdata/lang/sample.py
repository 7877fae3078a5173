"""Module doc."""
import os
from typing import List

MAX = 10


# Helper comment
def helper(x):
    return x + 1


@dataclass
class Outer:
    """Outer class."""
    field: int = 0

    def method(self):
        return self.field

    class Inner:
        def deep(self):
            pass

    @staticmethod
    def static():
        pass


if __name__ == "__main__":
    helper(1)
