"""Transport: the /ws/learn protocol, REST routes and wire schemas."""
