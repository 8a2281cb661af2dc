"""How long OpenMP threads spin before sleeping, set before torch or llama.cpp load.

libgomp threads spin up to 300,000 times while waiting for each other. When other work
holds a core (normal on a 2-core appliance) llama.cpp generation became 10-50x slower in
measurements here. Never spinning (OMP_WAIT_POLICY=PASSIVE) cost 4x on an idle machine;
a short spin keeps idle speed and most of the gain under load. libgomp reads the value
once, when it is first loaded, so this must run before the first torch/llama import.
"""

import os

GOMP_SPINCOUNT = "10000"


def apply_openmp_wait_policy() -> None:
    """Set the short spin count unless the operator chose one."""
    os.environ.setdefault("GOMP_SPINCOUNT", GOMP_SPINCOUNT)
