"""Generate the committed Python stubs from `protos/`.

    python -m tools.gen_protos              # regenerate clients/python/src/ibkr/<domain>/v1/*
    python -m tools.gen_protos --check      # exit 1 listing stale files (the freshness check)
    python -m tools.gen_protos --deps-only  # only prepare .build/proto-deps (what `buf lint` needs)

The googleapis protos we import (google/type, google/rpc) are never fetched from the network: they are
copied from the installed `googleapis-common-protos` wheel into `.build/proto-deps/` (gitignored), which
buf.yaml lists as a second, unlinted module. At runtime their Python modules come from that same wheel
(`google.type.decimal_pb2`), so only our `ibkr` files are generated here.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.util
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
DEPS_DIR = ROOT / ".build" / "proto-deps"
OUT_DIR = ROOT / "clients" / "python" / "src"

# googleapis files our protos may import, relative to the `google` package of googleapis-common-protos.
DEP_FILES = (
    "type/date.proto",
    "type/decimal.proto",
    "type/money.proto",
    "rpc/code.proto",
    "rpc/error_details.proto",
    "rpc/status.proto",
)

SERVICE_RE = re.compile(r"^\s*service\s+\w+", re.MULTILINE)
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
INIT_TEXT = '"""Generated from protos/{package} by tools/gen_protos.py. Do not edit."""\n'
ROOT_INIT_TEXT = '"""IBKR Local API: generated protobuf/gRPC stubs (ibkr.<domain>.v1) and the client."""\n'


def googleapis_root() -> Path:
    """The directory holding the `google/` tree of the installed googleapis-common-protos wheel."""
    spec = importlib.util.find_spec("google.type.decimal_pb2")
    if spec is None or spec.origin is None:
        raise SystemExit("googleapis-common-protos is not installed (run `make venv`)")
    return Path(spec.origin).resolve().parent.parent.parent


def grpc_tools_include() -> Path:
    """grpc_tools' bundled well-known types (google/protobuf/*.proto)."""
    import grpc_tools

    return Path(grpc_tools.__file__).resolve().parent / "_proto"


def prepare_deps(deps_dir: Path = DEPS_DIR) -> Path:
    """Copy the googleapis protos we import into `deps_dir`; only files that changed are rewritten."""
    source = googleapis_root() / "google"
    for rel in DEP_FILES:
        src = source / rel
        if not src.is_file():
            raise SystemExit(f"{src} is missing from googleapis-common-protos")
        dst = deps_dir / "google" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or not filecmp.cmp(src, dst, shallow=False):
            shutil.copyfile(src, dst)
    return deps_dir


def proto_files() -> list[str]:
    """Every proto of ours, relative to protos/, sorted (deterministic order)."""
    return sorted(p.relative_to(PROTO_ROOT).as_posix() for p in PROTO_ROOT.glob("ibkr/**/*.proto"))


def include_args() -> list[str]:
    """The protoc include paths: ours, the googleapis deps, the well-known types."""
    return [f"-I{PROTO_ROOT}", f"-I{DEPS_DIR}", f"-I{grpc_tools_include()}"]


def run_protoc(args: list[str]) -> None:
    """Run grpc_tools' protoc with our include paths; exit with its output on failure."""
    from grpc_tools import protoc

    argv = ["grpc_tools.protoc", *include_args(), *args]
    code = protoc.main(argv)
    if code != 0:
        raise SystemExit(f"protoc failed ({code}): {' '.join(argv)}")


def build_descriptor_set(out_file: Path, *, source_info: bool = True) -> Path:
    """Write a FileDescriptorSet of every ibkr proto (with comments when `source_info`) to `out_file`."""
    prepare_deps()
    args = [f"--descriptor_set_out={out_file}", "--include_imports"]
    if source_info:
        args.append("--include_source_info")
    run_protoc([*args, *proto_files()])
    return out_file


def package_dirs(files: list[str]) -> list[str]:
    """The package directories needing an __init__.py: `ibkr`, `ibkr/<domain>`, `ibkr/<domain>/v1`."""
    dirs: set[str] = set()
    for rel in files:
        parts = Path(rel).parent.parts
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return sorted(dirs)


def generate(out_dir: Path) -> None:
    """Generate stubs and package __init__ files for every proto into `out_dir`."""
    prepare_deps()
    files = proto_files()
    out_dir.mkdir(parents=True, exist_ok=True)
    run_protoc([f"--python_out={out_dir}", f"--pyi_out={out_dir}", f"--grpc_python_out={out_dir}", *files])
    drop_empty_grpc_modules(out_dir, files)
    for pkg in package_dirs(files):
        init = out_dir / pkg / "__init__.py"
        if init.exists():
            continue  # keep an existing (possibly hand-written) __init__, e.g. the `ibkr` package's
        text = ROOT_INIT_TEXT if pkg == "ibkr" else INIT_TEXT.format(package=pkg)
        init.write_text(text)


def drop_empty_grpc_modules(out_dir: Path, files: list[str]) -> None:
    """Remove the `_pb2_grpc.py` protoc writes for protos that declare no service (it holds no code)."""
    for rel in files:
        if not SERVICE_RE.search((PROTO_ROOT / rel).read_text()):
            (out_dir / rel.removesuffix(".proto")).with_name(Path(rel).stem + "_pb2_grpc.py").unlink(
                missing_ok=True
            )


def generated_files(base: Path) -> set[str]:
    """Generated stub files under `base` (relative paths), in our versioned package directories only."""
    found: set[str] = set()
    for path in base.glob("ibkr/*/v*/*"):
        if path.is_file() and path.name.endswith(GENERATED_SUFFIXES):
            found.add(path.relative_to(base).as_posix())
    return found


def expected_inits(files: list[str]) -> set[str]:
    """The __init__.py files the package layout needs."""
    return {f"{pkg}/__init__.py" for pkg in package_dirs(files)}


def check() -> int:
    """Generate into a temp dir and compare with the committed output; print and count stale files."""
    with tempfile.TemporaryDirectory(prefix="gen_protos_") as tmp:
        fresh_dir = Path(tmp)
        generate(fresh_dir)
        fresh = generated_files(fresh_dir)
        committed = generated_files(OUT_DIR)
        stale = sorted(
            rel
            for rel in fresh
            if not (OUT_DIR / rel).is_file() or not filecmp.cmp(fresh_dir / rel, OUT_DIR / rel, shallow=False)
        )
        extra = sorted(committed - fresh)
        missing_inits = sorted(i for i in expected_inits(proto_files()) if not (OUT_DIR / i).is_file())
    problems = [f"stale or missing: {OUT_DIR.relative_to(ROOT) / rel}" for rel in stale]
    problems += [
        f"not generated by any proto (delete it): {OUT_DIR.relative_to(ROOT) / rel}" for rel in extra
    ]
    problems += [f"missing package file: {OUT_DIR.relative_to(ROOT) / rel}" for rel in missing_inits]
    for line in problems:
        print(line)
    if problems:
        print("generated code is stale: run `make protos` (python -m tools.gen_protos) and commit the result")
        return 1
    print(f"generated code is fresh ({len(fresh)} files)")
    return 0


def regenerate() -> int:
    """Regenerate into clients/python/src, removing stubs whose proto is gone."""
    generate(OUT_DIR)
    with tempfile.TemporaryDirectory(prefix="gen_protos_") as tmp:
        generate(Path(tmp))
        fresh = generated_files(Path(tmp))
    for rel in sorted(generated_files(OUT_DIR) - fresh):
        (OUT_DIR / rel).unlink()
        print(f"removed {OUT_DIR.relative_to(ROOT) / rel}")
    print(f"generated {len(fresh)} files under {OUT_DIR.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gen_protos", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 listing stale files; write nothing")
    mode.add_argument("--deps-only", action="store_true", help="only prepare .build/proto-deps for buf")
    args = parser.parse_args(argv)
    if args.deps_only:
        print(f"prepared {prepare_deps().relative_to(ROOT)}")
        return 0
    if args.check:
        return check()
    return regenerate()


if __name__ == "__main__":
    sys.exit(main())
