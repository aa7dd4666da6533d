"""The ctypes structs of magclust._lib against the C compiler's layout."""
import ctypes
import subprocess

import pytest

from magclust import _lib

from conftest import LAYOUT


def c_layout():
    if not LAYOUT.exists():
        pytest.skip("no python_layout program at %s (built with the tests)" % LAYOUT)
    out = subprocess.run([str(LAYOUT)], capture_output=True, text=True, check=True).stdout
    sizes, offsets = {}, {}
    for line in out.splitlines():
        struct, field, value = line.split()
        if field == "-":
            sizes[struct] = int(value)
        else:
            offsets.setdefault(struct, {})[field] = int(value)
    return sizes, offsets


def test_every_mirrored_struct_matches_c():
    sizes, offsets = c_layout()
    sizes.pop("mc_status_count", None)
    assert set(sizes) == set(_lib.LAYOUT), "python_layout.c and _lib.LAYOUT list other structs"
    for name, cls in _lib.LAYOUT.items():
        assert ctypes.sizeof(cls) == sizes[name], name
        fields = [f for f, _ in cls._fields_]
        assert fields == list(offsets[name]), "%s: fields differ from the header's" % name
        for field in fields:
            assert getattr(cls, field).offset == offsets[name][field], "%s.%s" % (name, field)


def test_status_codes_match_c():
    """Every mc_status code has its MC_* constant in _lib with the C value,
    and an exception class (MC_OK aside)."""
    sizes, offsets = c_layout()
    codes = offsets["mc_status"]
    assert len(codes) == sizes["mc_status_count"], "python_layout.c misses a status code"
    for name, value in codes.items():
        assert getattr(_lib, name) == value, name
        if value:
            assert value in _lib._ERROR_CLASS, name
