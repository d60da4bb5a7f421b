"""Build the compiled hot loops (everything else is in pyproject.toml).

Why a setup.py: setuptools declares C extensions only here. ``pip install`` (editable or not)
cythonizes ``src/ticktape/_native/*.pyx`` and compiles them with the machine's C compiler.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "ticktape._native.fastdecode",
        ["src/ticktape/_native/fastdecode.pyx"],
        extra_compile_args=["-O2"],  # no -ffast-math: the float parsing must stay IEEE exact
    ),
    Extension(
        "ticktape._native.arbquiet",
        ["src/ticktape/_native/arbquiet.pyx"],
        extra_compile_args=["-O2"],  # no -ffast-math: comparisons must stay IEEE (NaN false)
    ),
    Extension(
        "ticktape._native.eventpack",
        ["src/ticktape/_native/eventpack.pyx"],
        extra_compile_args=["-O2"],
    ),
]

setup(ext_modules=cythonize(extensions, language_level=3, quiet=True))
