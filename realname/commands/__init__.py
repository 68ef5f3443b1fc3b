"""Sub-commands of the ``realname`` CLI, one module each."""
