"""The knowledge room's engines: plain Python, dataclasses in and out, no ORM."""
