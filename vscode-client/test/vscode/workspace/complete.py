import os


def python_files(folder):
    """Return the names of the .py files in folder, sorted."""
    names = [name for name in os.listdir(folder) if 
