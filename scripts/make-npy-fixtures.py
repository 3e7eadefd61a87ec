#!/usr/bin/env python3
"""Write the .npy fixtures in test/fixtures/npy/ and their expected values.

Run once by hand when the fixture set changes (python3 with NumPy); the
test suite only reads the committed files. Every array is small, so each
file stays under a few KB. expected.json lists, for each file, its dtype,
shape, memory order and its values flattened in C order. Values that JSON
cannot hold exactly (NaN, infinities, 64-bit integers beyond 2**53) are
written as strings.
"""

import json
import os
import sys

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "npy")

DTYPES = ["f2", "f4", "f8", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "b1"]


def sample_values(dtype, shape):
    """Distinct values that exercise the range and special values of dtype."""
    count = int(np.prod(shape))
    kind = np.dtype(dtype).kind
    if kind == "f":
        base = np.linspace(-3.25, 7.5, count)
        values = base.astype(dtype)
        special = [np.nan, np.inf, -np.inf, -0.0, np.finfo(dtype).max, np.finfo(dtype).tiny]
        if dtype == "f2":
            # Smallest float16 subnormal, so the half decoder's subnormal path runs.
            special.append(np.float16(2.0**-24))
        for i, value in enumerate(special[: count]):
            values[i] = value
        return values.reshape(shape)
    if kind == "b":
        return (np.arange(count) % 3 == 0).reshape(shape)
    info = np.iinfo(dtype)
    values = (np.arange(count) * 7 - 5).astype(np.int64)
    values = np.clip(values, max(info.min, -(2**62)), min(info.max, 2**62))
    values = values.astype(dtype)
    values[0] = info.min
    values[-1] = info.max
    return values.reshape(shape)


def to_json_value(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        value = int(value)
        return value if abs(value) <= 2**53 else str(value)
    value = float(value)
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def write(name, array, version, expected):
    path = os.path.join(OUT_DIR, name)
    with open(path, "wb") as file:
        np.lib.format.write_array(file, array, version=version)
    fortran = bool(array.flags.f_contiguous and not array.flags.c_contiguous)
    expected[name] = {
        "descr": array.dtype.str,
        "shape": list(array.shape),
        "fortranOrder": fortran,
        "version": list(version),
        "values": [to_json_value(v) for v in np.ascontiguousarray(array).ravel(order="C")],
    }


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name in os.listdir(OUT_DIR):
        if name.endswith(".npy") or name == "expected.json":
            os.remove(os.path.join(OUT_DIR, name))
    expected = {}

    # Every dtype in both byte orders and both memory orders, header 1.0.
    for dtype in DTYPES:
        for order_char in ["<", ">"]:
            if np.dtype(dtype).itemsize == 1 and order_char == ">":
                continue  # One-byte dtypes have no byte order ("|").
            typed = np.dtype(order_char + dtype) if np.dtype(dtype).itemsize > 1 else np.dtype(dtype)
            base = sample_values(dtype, (3, 4)).astype(typed)
            endian = "le" if order_char == "<" else "be"
            if typed.itemsize == 1:
                endian = "na"
            write(f"{dtype}-{endian}-c-v1.npy", np.ascontiguousarray(base), (1, 0), expected)
            write(f"{dtype}-{endian}-f-v1.npy", np.asfortranarray(base), (1, 0), expected)

    # Header versions 2.0 and 3.0 for a few dtypes and both memory orders.
    for version in [(2, 0), (3, 0)]:
        tag = f"v{version[0]}"
        for dtype, order_char in [("f4", "<"), ("f8", ">"), ("i8", "<"), ("f2", ">")]:
            base = sample_values(dtype, (2, 3, 4)).astype(np.dtype(order_char + dtype))
            endian = "le" if order_char == "<" else "be"
            write(f"{dtype}-{endian}-c-{tag}.npy", np.ascontiguousarray(base), version, expected)
            write(f"{dtype}-{endian}-f-{tag}.npy", np.asfortranarray(base), version, expected)

    # Shapes at the edges: 0-d, 1-d, empty, rank 4 in Fortran order.
    write("scalar-f8.npy", np.array(2.5), (1, 0), expected)
    write("vector-i4.npy", np.arange(-3, 4, dtype="<i4"), (1, 0), expected)
    write("empty-f4.npy", np.zeros((0, 5), dtype="<f4"), (1, 0), expected)
    rank4 = np.arange(2 * 3 * 2 * 5, dtype=">f4").reshape(2, 3, 2, 5) / 8
    write("rank4-f4-be-f.npy", np.asfortranarray(rank4), (1, 0), expected)

    # Logits and labels for the score command, with float64 reference losses.
    rng = np.random.default_rng(20240611)
    logits = (rng.standard_normal((16, 10)) * 3).astype("<f4")
    labels = rng.integers(0, 10, size=16).astype("<i8")
    write("logits-f4.npy", logits, (1, 0), expected)
    write("labels-i8.npy", labels, (1, 0), expected)
    write("logits-f8-be-f.npy", np.asfortranarray(logits.astype(">f8")), (1, 0), expected)
    z = logits.astype(np.float64)
    lse = z.max(axis=1) + np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1))
    losses = lse - z[np.arange(16), labels]
    expected["logits-f4.npy"]["sparseLosses"] = [float(v) for v in losses]

    # Arrays the reader must reject, each with a clear message.
    rejected = {
        "reject-complex.npy": np.zeros(3, dtype="<c8"),
        "reject-structured.npy": np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]),
        "reject-unicode.npy": np.array(["ab", "c"]),
        "reject-datetime.npy": np.array(["2024-01-01"], dtype="<M8[D]"),
        "reject-object.npy": np.array([1, "a"], dtype=object),
    }
    for name, array in rejected.items():
        with open(os.path.join(OUT_DIR, name), "wb") as file:
            np.lib.format.write_array(file, array, allow_pickle=True)
        expected[name] = {"descr": str(array.dtype.descr if array.dtype.names else array.dtype.str)}

    with open(os.path.join(OUT_DIR, "expected.json"), "w") as file:
        json.dump(expected, file, indent=1, sort_keys=True)
        file.write("\n")
    print(f"wrote {len(expected)} fixtures to {os.path.normpath(OUT_DIR)}", file=sys.stderr)


if __name__ == "__main__":
    main()
