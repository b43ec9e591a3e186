"""Tags: the declarative catalogue, their computation from the lake, and the bitmap index."""
