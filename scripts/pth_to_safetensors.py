#!/usr/bin/python3
"""PyTorch state dict (.pth / .pt / .pth.tar / .ckpt) -> safetensors, with torch alone.

    /usr/bin/python3 scripts/pth_to_safetensors.py IN.pth OUT.safetensors

senet-lab reads safetensors directly; this converter is its bridge for PyTorch pickles
(src/pretrained/pth.ts runs it). It loads the file on the CPU with torch.load, unwraps the usual
checkpoint wrappers ({"state_dict": ...}, {"model": ...}, {"model_state": ...}, {"net": ...},
{"module": ...}), keeps every tensor (float32/float16/bfloat16 as stored, float64 as F64,
int64 as I64; other dtypes are refused by name), and writes safetensors by hand: 8-byte
little-endian header length, JSON header sorted by key and padded with spaces to 8 bytes, raw
little-endian data. No safetensors package needed.

Exit status: 0 written; 2 bad usage or unreadable input; 3 torch is not installed (the message
says what to install).
"""
import json
import struct
import sys

DTYPES = {}  # torch dtype -> (safetensors name, element size), filled once torch is imported
WRAPPERS = ("state_dict", "model", "model_state", "model_state_dict", "net", "module")


def fail(code, message):
    sys.stderr.write(message + "\n")
    sys.exit(code)


def unwrap(obj):
    """The tensor dict inside a checkpoint: the object itself or one of the common wrappers."""
    import torch

    for _ in range(3):
        if isinstance(obj, dict) and obj and all(torch.is_tensor(v) for v in obj.values()):
            return obj
        if isinstance(obj, dict):
            inner = next((obj[k] for k in WRAPPERS if k in obj and isinstance(obj[k], dict)), None)
            if inner is not None:
                obj = inner
                continue
            tensors = {k: v for k, v in obj.items() if torch.is_tensor(v)}
            if tensors:
                return tensors
        if hasattr(obj, "state_dict"):  # a whole pickled nn.Module
            obj = obj.state_dict()
            continue
        break
    fail(2, f"no state dict found (top-level type {type(obj).__name__}; looked for tensors and the keys {', '.join(WRAPPERS)})")


def write_safetensors(tensors, path):
    header, chunks, offset = {}, [], 0
    for key in sorted(tensors):
        t = tensors[key].detach().cpu().contiguous()
        if t.dtype not in DTYPES:
            fail(2, f"tensor {key!r} has dtype {t.dtype}; supported: {', '.join(str(d) for d in DTYPES)}")
        name, size = DTYPES[t.dtype]
        # Raw bytes, little-endian (x86 / ARM hosts are): view as bytes through an int16/uint8 copy.
        data = t.view(-1).view(torch_uint8()).numpy().tobytes() if t.numel() else b""
        header[key] = {"dtype": name, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        assert len(data) == t.numel() * size
        chunks.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for c in chunks:
            f.write(c)


def torch_uint8():
    import torch

    return torch.uint8


def main(argv):
    if len(argv) != 3:
        fail(2, "usage: pth_to_safetensors.py IN.pth OUT.safetensors")
    try:
        import torch
    except ImportError:
        fail(3, "PyTorch is not installed for this Python; install it (Debian: apt-get install python3-torch; elsewhere: pip install torch), or convert the file to safetensors on a machine that has it")
    if sys.byteorder != "little":
        fail(2, "this converter writes little-endian data and needs a little-endian host")
    DTYPES.update({
        torch.float32: ("F32", 4),
        torch.float16: ("F16", 2),
        torch.bfloat16: ("BF16", 2),
        torch.float64: ("F64", 8),
        torch.int64: ("I64", 8),
    })
    try:
        obj = torch.load(argv[1], map_location="cpu")
    except Exception as e:  # noqa: BLE001 - report any unreadable pickle the same way
        fail(2, f"torch.load could not read {argv[1]!r}: {type(e).__name__}: {e}")
    write_safetensors(unwrap(obj), argv[2])


if __name__ == "__main__":
    main(sys.argv)
