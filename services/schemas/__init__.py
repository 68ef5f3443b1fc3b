"""Pydantic models per use (``XCreate``, ``XUpdate``, ``XPublic``, query models) of the API.

Field constraints match the columns (lengths, ranges, enums), so the database never sees a value
it cannot store. Routes declare them with ``realname.contract.endpoint``; services receive them.
"""
