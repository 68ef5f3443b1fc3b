"""The rootdir's conftest: the suite's fixtures (``tests/suite.py``) for every test folder, those
under ``tests/`` and the protocol adapters' own (``devices/adms/tests``, ``devices/native/tests``).
"""

pytest_plugins = ["tests.suite"]
