"""Audiences: one expression language over person and store tags, evaluated on the bitmap index."""
