"""The rules of the domain, once: both APIs and the device layer call these."""
