"""The ``provisioner`` command: the composition root that starts and drives every part."""
