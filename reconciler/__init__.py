"""ftctl: a declarative, GitOps-style reconciler for fine-tuned language models.

The public surface is the command line (`reconciler.cli`); this module holds only the version.
"""

__version__ = "0.1.0"
