"""OneID: one person across every channel."""
