"""Build the peers' virtualenvs under bench/.peers/ from the pinned requirements beside this file.

    python bench/peers/build.py [--force] [roundup] [django-helpdesk]

Each peer gets bench/.peers/NAME, a venv with NAME.txt installed from PyPI. A venv whose
requirements have not changed since it was built is reused (its copy of them is kept inside it).
A build that fails (no network, no PyPI) leaves no venv behind and says why on one line.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENVS = HERE.parent / ".peers"
PEERS = ("roundup", "django-helpdesk")


def requirements(name: str) -> Path:
    return HERE / f"{name}.txt"


def venv_dir(name: str) -> Path:
    return VENVS / name


def built(name: str) -> bool:
    """Whether NAME's venv exists and was built from the requirements as they are now."""
    stamp = venv_dir(name) / "requirements.txt"
    return stamp.is_file() and stamp.read_text() == requirements(name).read_text()


def build(name: str, force: bool = False) -> str | None:
    """Make NAME's venv; None when it is ready, else one line saying why it could not be built."""
    if built(name) and not force:
        return None
    target = venv_dir(name)
    shutil.rmtree(target, ignore_errors=True)
    try:
        venv.create(target, with_pip=True, clear=True)
        result = subprocess.run([str(target / "bin" / "python"), "-m", "pip", "install", "-q",
                                 "--disable-pip-version-check", "-r", str(requirements(name))],
                                capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        return f"{name}: venv not built ({exc})"
    if result.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        # pip's last error line says what failed (no network: "Could not find a version ...")
        errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        return f"{name}: pip install -r {requirements(name).name} failed: {(errors or ['?'])[-1]}"
    shutil.copyfile(requirements(name), target / "requirements.txt")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peers", nargs="*", metavar="|".join(PEERS), help="default: all of them")
    parser.add_argument("--force", action="store_true", help="rebuild even when the requirements are unchanged")
    args = parser.parse_args()
    unknown = set(args.peers) - set(PEERS)
    if unknown:
        parser.error(f"no such peer: {', '.join(sorted(unknown))} (known: {', '.join(PEERS)})")
    failed = False
    for name in args.peers or PEERS:
        problem = build(name, args.force)
        print(problem or f"{name}: ready in {venv_dir(name)}")
        failed |= problem is not None
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
