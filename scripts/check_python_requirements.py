"""Exit 0 if every requirement in the given file is installed, 1 otherwise."""
import sys
from importlib import metadata

missing = []
for line in open(sys.argv[1]):
    name = line.split("#")[0].strip()
    if not name:
        continue
    dist = name.split("==")[0].split(">=")[0].strip()
    try:
        metadata.version(dist)
    except metadata.PackageNotFoundError:
        missing.append(dist)
if missing:
    print("missing:", " ".join(missing))
    sys.exit(1)
