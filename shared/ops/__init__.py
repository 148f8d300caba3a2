"""What the ops console and ``provisioner doctor`` read about the fleet: counts, failures,
search, and retrying a whole group of failed projects."""
