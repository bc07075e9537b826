#!/usr/bin/env python3
"""Generate the TFLM golden vectors in ioto-ml/tests/golden/.

Usage (from the repository root):

    .venv/bin/python ioto-ml/tools/gen_goldens.py            # regenerate everything
    .venv/bin/python ioto-ml/tools/gen_goldens.py --only shared
    .venv/bin/python ioto-ml/tools/gen_goldens.py --only ops
    .venv/bin/python ioto-ml/tools/gen_goldens.py --check    # regenerate into a temp dir, diff

Shared models are read from ``--models`` (default: the nearest ``shared/models``
beside the repository or one of its parents) and verified against SHA256SUMS; nothing reads that folder at test
time. Output is deterministic: running twice gives identical bytes.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))

import golden_lib  # noqa: E402
import shared_models  # noqa: E402

REPO = TOOLS.parent.parent
GOLDEN = REPO / "ioto-ml" / "tests" / "golden"
APACHE = Path("/usr/share/common-licenses/Apache-2.0")


def gen_shared(out: Path, models_dir: Path) -> None:
    """Golden sets for every model in the shared folder."""
    sums = shared_models.read_checksums(models_dir)
    for model in shared_models.SHARED_MODELS:
        data = shared_models.load_verified(models_dir, model, sums)
        meta = golden_lib.write_set(
            out, model.name, data, f"{model.origin}: {model.upstream_path}", model.float_range
        )
        (out / model.name / "NOTICE").write_text(shared_models.notice_text(model, data))
        print(f"{model.name}: {meta['cases']} cases, ops {meta['ops']}")


def gen_ops(out: Path) -> None:
    """Golden sets for the single-operator models."""
    import op_models  # imported lazily: only needed for this part

    for spec in op_models.all_specs():
        meta = golden_lib.write_set(
            out,
            spec.name,
            spec.model_bytes,
            spec.source,
            spec.float_range,
        )
        print(f"{spec.name}: {meta['cases']} cases")
    for name, reason in op_models.DROPPED:
        print(f"dropped {name}: {reason}")


def write_licence(out: Path) -> None:
    """Apache-2.0 text beside the copied models."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(APACHE, out / "LICENSE-APACHE-2.0")


def default_models_dir() -> Path:
    """The nearest ``shared/models`` folder beside the repository or one of its parents."""
    for parent in REPO.parents:
        candidate = parent / "shared" / "models"
        if (candidate / "SHA256SUMS").is_file():
            return candidate
    return REPO.parent / "shared" / "models"


def compare_trees(expected: Path, actual: Path) -> list[str]:
    """Relative paths that differ between two golden trees."""
    diffs = []
    exp_files = {p.relative_to(expected) for p in expected.rglob("*") if p.is_file()}
    act_files = {p.relative_to(actual) for p in actual.rglob("*") if p.is_file()}
    for rel in sorted(exp_files | act_files):
        if rel not in exp_files or rel not in act_files:
            diffs.append(f"{rel} (missing on one side)")
        elif not filecmp.cmp(expected / rel, actual / rel, shallow=False):
            diffs.append(str(rel))
    return diffs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=default_models_dir())
    parser.add_argument("--only", choices=["shared", "ops"], help="generate one part only")
    parser.add_argument("--check", action="store_true", help="regenerate to a temp dir and compare")
    args = parser.parse_args()

    tmp = None
    out = GOLDEN
    if args.check:
        tmp = tempfile.TemporaryDirectory()
        out = Path(tmp.name)
    write_licence(out)
    if args.only in (None, "shared"):
        gen_shared(out, args.models)
    if args.only in (None, "ops"):
        gen_ops(out)
    if tmp is not None:
        diffs = compare_trees(GOLDEN, out)
        if args.only == "shared":
            diffs = [d for d in diffs if not d.startswith("op_")]
        elif args.only == "ops":
            diffs = [d for d in diffs if d.startswith("op_") or d.startswith("LICENSE")]
        tmp.cleanup()
        if diffs:
            print("golden vectors differ from a fresh run:\n  " + "\n  ".join(diffs))
            return 1
        print("golden vectors reproduce byte for byte")
    return 0


if __name__ == "__main__":
    sys.exit(main())
