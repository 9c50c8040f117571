"""Where base models come from: the default model's data wheels, a hub id, or a folder."""
