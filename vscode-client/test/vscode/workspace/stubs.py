def is_palindrome(text):
    """Return True if text reads the same backwards, ignoring case."""
    pass


def add(a, b):
    """Return the sum of a and b."""
    ...
