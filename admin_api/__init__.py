"""admin_api surface: each module defining `bp` is mounted by the app factory."""
