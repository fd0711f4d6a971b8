#!/usr/bin/python3
"""Execute one notebook through a Jupyter kernel, the papermill way, and save it whatever happens.

Called by `senet-lab notebook run` (src/notebook/run.ts) with Debian's /usr/bin/python3, which has
nbclient; papermill itself is not packaged for Debian and has no TypeScript translator, so this
script does the parts of papermill we need:

* parameters: the cell tagged `parameters` declares them (`const name: T = value;`); values given
  with -p are checked against those declarations (name known, same JSON type, string-literal unions
  respected) before the kernel starts, then written into a new cell tagged `injected-parameters`
  right after it (tslab lets a later cell re-declare a const);
* timings and counts: every code cell gets an execution count and papermill-style metadata
  (start, end, duration, status); the notebook's metadata records the parameters, start, end,
  duration and the exception, if any;
* failure: execution stops at the first failing cell, the notebook is still written (with a banner
  cell naming the failing cell), the cell's real error is printed (tslab reports errors with an
  empty name and message and puts the text in the cell's stderr) and the exit status is 1.

Every file is written to a temporary name and renamed, so a killed run never leaves half a notebook;
the files get the mode an ordinary write would (0666 less the umask, usually 0644), not mkstemp's
0600. The caller (src/notebook/run.ts) passes temporary output paths and decides afterwards
whether the run replaces the real output; --record-output names the real one in the metadata.
With --notary-dir, the notebook written is then signed into that Jupyter notary (secret and
signature database; scripts/trust_notebooks.py), so the project's server trusts it and runs the
chart scripts in its outputs.
"""

import argparse
import datetime as dt
import json
import os
import re
import sys
import tempfile
import time
import warnings

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

DECL = re.compile(
    r"^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*([^=]+?))?\s*=\s*(.+?)\s*;?\s*(?://.*)?$"
)


def now_iso():
    return dt.datetime.now(dt.timezone.utc).isoformat()


def file_mode():
    """The mode open() gives a new file: 0666 less the process umask (read without changing it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: read it the classic way (single-threaded here)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path, text):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates 0600; a notebook or export is an ordinary shared file.
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def declared_parameters(cell_source):
    """Maps each name declared in the parameters cell to (default value or None, literal choices)."""
    out = {}
    for line in cell_source.splitlines():
        m = DECL.match(line)
        if not m:
            continue
        name, annotation, init = m.group(1), m.group(2), m.group(3)
        try:
            default = json.loads(init)
        except ValueError:
            default = None
        choices = None
        if annotation:
            lits = re.findall(r'"([^"]*)"', annotation)
            rest = re.sub(r'"[^"]*"|\|', "", annotation).strip()
            if lits and not rest:
                choices = lits
        out[name] = (default, choices)
    return out


def parse_value(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def fail_usage(message):
    # One write: print() sends the newline separately, and the caller forwards any chunk that
    # does not start with the prefix, which printed a stray blank line before the error.
    sys.stderr.write("senet-lab notebook run: " + " ".join(message.splitlines()) + "\n")
    sys.stderr.flush()
    sys.exit(2)


def first_line(exc):
    """An exception's first non-empty line, for one-line errors (schema errors run to pages)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def read_notebook(path):
    """Reads and validates the input, or exits 2 with one line saying why it is not a notebook.

    nbformat's warnings (e.g. MissingIDFieldWarning for cells written by older tools) are
    silenced: they are not errors, and on stderr they would be taken for part of one.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except Exception as exc:  # NotJSONError, ValidationError, KeyError, UnicodeDecodeError...
            fail_usage("%s is not a Jupyter notebook: %s" % (path, first_line(exc)))
    return nb


def validate_params(params, declared):
    for name, value in params.items():
        if name not in declared:
            allowed = ", ".join(sorted(declared)) or "(none: the notebook has no parameters cell)"
            fail_usage("unknown parameter %s; this notebook declares: %s" % (json.dumps(name), allowed))
        default, choices = declared[name]
        if choices is not None and value not in choices:
            fail_usage(
                "parameter %s must be one of %s; got %s"
                % (name, ", ".join(json.dumps(c) for c in choices), json.dumps(value))
            )
        if default is not None and json_type(value) != json_type(default):
            fail_usage(
                "parameter %s must be a %s (its default is %s); got %s"
                % (name, json_type(default), json.dumps(default), json.dumps(value))
            )


def inject(nb, params):
    """Removes an old injected cell and inserts one after the parameters cell; returns its index."""
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    index = next(
        (i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])),
        None,
    )
    if not params:
        return index, None
    if index is None:
        fail_usage("parameters were given but the notebook has no cell tagged 'parameters'")
    lines = ["// Parameters injected by senet-lab notebook run"]
    for name, value in params.items():
        lines.append("const %s = %s;" % (name, json.dumps(value)))
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, cell)
    return index, index + 1


def cell_error_text(cell):
    """The real error of a failed cell: tslab's error outputs are empty, its stderr has the text."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            head = ("%s: %s" % (out.get("ename", ""), out.get("evalue", ""))).strip(": ")
            if head:
                parts.append(head)
            tb = "\n".join(out.get("traceback", []))
            if tb and tb not in "\n".join(parts):
                parts.append(tb)
    text = "\n".join(p.rstrip() for p in parts if p.strip())
    return text or "(the kernel reported an error without any text)"


def export_html(nb, path):
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    atomic_write(path, body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--params", default="{}", help="JSON object of parameter values")
    ap.add_argument("--kernel", default="tslab")
    ap.add_argument("--cwd", default=None, help="kernel working directory (default: the input's folder)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds a cell may run")
    ap.add_argument("--html", default=None, help="also write an HTML export here")
    ap.add_argument("--summary", default=None, help="write a JSON summary of the run here")
    ap.add_argument("--notary-dir", default=None, help="sign the output into this Jupyter notary data dir")
    ap.add_argument(
        "--record-output", default=None, help="output path recorded in the metadata (default: output)"
    )
    args = ap.parse_args()

    nb = read_notebook(args.input)
    params = json.loads(args.params)
    param_index = next(
        (i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])),
        None,
    )
    declared = declared_parameters(nb.cells[param_index].source) if param_index is not None else {}
    validate_params(params, declared)
    inject(nb, params)
    effective = {k: v[0] for k, v in declared.items()}
    effective.update(params)

    cwd = args.cwd or os.path.dirname(os.path.abspath(args.input))
    start_wall = time.time()
    meta = {
        "input_path": os.path.relpath(os.path.abspath(args.input)),
        "output_path": os.path.relpath(os.path.abspath(args.record_output or args.output)),
        "parameters": effective,
        "injected": params,
        "kernel": args.kernel,
        "start_time": now_iso(),
        "end_time": None,
        "duration": None,
        "status": "running",
        "exception": None,
        "failed_cell": None,
    }
    nb.metadata["papermill"] = meta
    nb.metadata["kernelspec"] = {"name": args.kernel, "display_name": "TypeScript", "language": "typescript"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata["papermill"] = {"status": "pending"}

    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=120,
        record_timing=True,
        resources={"metadata": {"path": cwd}},
    )
    error = None
    count = 0
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                count += 1
                t0 = time.time()
                cell.metadata["papermill"] = {"start_time": now_iso(), "status": "running"}
                failed = False
                try:
                    client.execute_cell(cell, index, execution_count=count)
                except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
                    failed = True
                    error = (index, count, exc)
                cell.execution_count = count
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "execute_result":
                        out["execution_count"] = count
                if not failed and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                    failed = True
                    error = (index, count, None)
                pm = cell.metadata["papermill"]
                pm["end_time"] = now_iso()
                pm["duration"] = round(time.time() - t0, 3)
                pm["status"] = "failed" if failed else "completed"
                if failed:
                    break
    except Exception as exc:  # kernel failed to start, or died between cells
        error = (None, count, exc)

    meta["end_time"] = now_iso()
    meta["duration"] = round(time.time() - start_wall, 3)
    code = 0
    if error is not None:
        index, n, exc = error
        text = cell_error_text(nb.cells[index]) if index is not None else repr(exc)
        if index is not None and isinstance(exc, (CellTimeoutError, DeadKernelError)):
            text = "%s\n%s" % (type(exc).__name__, text)
        meta["status"] = "failed"
        meta["exception"] = text
        meta["failed_cell"] = n
        banner = nbformat.v4.new_markdown_cell(
            '<span style="color:red; font-size:1.3em">An exception was encountered at '
            '<a href="#papermill-error-cell">In [%s]</a>; execution stopped there.</span>' % n
        )
        banner.metadata["tags"] = ["papermill-error-cell-tag"]
        nb.cells.insert(0, banner)
        if index is not None:
            nb.cells[index + 1].metadata.setdefault("tags", []).append("papermill-error-cell")
        print("Cell In [%s] failed:\n%s" % (n, text), file=sys.stderr)
        code = 1
    else:
        meta["status"] = "completed"
    # nbformat copies dicts on assignment, so store the final metadata now.
    nb.metadata["papermill"] = meta

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # see read_notebook
        text = nbformat.writes(nb)
    atomic_write(args.output, text)
    if args.notary_dir:
        from trust_notebooks import notary_for, sign_file

        sign_file(notary_for(args.notary_dir), args.output)
    if args.html:
        export_html(nb, args.html)
    if args.summary:
        cells = [
            {"index": i, "count": c.execution_count, **c.metadata.get("papermill", {})}
            for i, c in enumerate(nb.cells)
            if c.cell_type == "code"
        ]
        atomic_write(args.summary, json.dumps({**meta, "cells": cells}, indent=2))
    sys.exit(code)


if __name__ == "__main__":
    main()
