#!/usr/bin/python3
"""Mark notebooks trusted for the project's Jupyter server, the way `jupyter trust` does.

Jupyter runs the scripts in a notebook's outputs (our Plotly charts) only when the notebook is
trusted: its HMAC signature, keyed with a secret, is in a signature database. `npm run notebook`
starts its server with `--NotebookNotary.data_dir=<project>/.jupyter/notary`, so the secret
(`notebook_secret`) and database (`nbsignatures.db`) there are the ones that count, not the ones in
~/.local/share/jupyter that a bare `jupyter trust` would use.

Used by src/notebook/trust.ts (`senet-lab notebook trust`, and `npm run notebook` at start for
results/*.ipynb) and by scripts/run_notebook.py (every notebook it writes). Signing stores the
signature in the database only: the notebook files are not rewritten.

    /usr/bin/python3 scripts/trust_notebooks.py --notary-dir DIR [--check] FILE...

Prints one JSON line per file: {"path", "trusted_before", "trusted"}. --check only reports.
"""

import argparse
import json
import os
import sys

import nbformat
from nbformat.sign import NotebookNotary


def notary_for(data_dir):
    """The notary the project's server uses: same data_dir, hence same secret and database."""
    os.makedirs(data_dir, exist_ok=True)
    return NotebookNotary(data_dir=data_dir)


def sign_file(notary, path, check_only=False):
    """Signs one notebook file as the server will read it; returns (trusted before, trusted now)."""
    # Read exactly as Jupyter Notebook's contents manager does, so the hash is the one it computes.
    nb = nbformat.read(path, as_version=4)
    before = bool(notary.check_signature(nb))
    if not before and not check_only:
        notary.sign(nb)
    return before, bool(notary.check_signature(nb))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notary-dir", required=True, help="data dir holding notebook_secret and nbsignatures.db")
    ap.add_argument("--check", action="store_true", help="only report whether each file is trusted")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    notary = notary_for(args.notary_dir)
    code = 0
    for path in args.files:
        try:
            before, now = sign_file(notary, path, args.check)
            print(json.dumps({"path": path, "trusted_before": before, "trusted": now}), flush=True)
        except Exception as exc:  # unreadable or not a notebook: say which, go on with the others
            print(json.dumps({"path": path, "error": "%s: %s" % (type(exc).__name__, exc)}), flush=True)
            code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
