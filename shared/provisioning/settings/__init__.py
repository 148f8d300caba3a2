"""Repository settings: what a project may ask of its repository, and how each is applied."""
