"""ZKTeco ADMS ("PUSH") protocol adapter, mounted under /iclock."""
