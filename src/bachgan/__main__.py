"""``python -m bachgan`` (also what ``torchrun -m bachgan`` runs)."""

import sys

from .cli import main

sys.exit(main())
