"""The native adapter's own tests: its captured payloads and its protocol contract."""
