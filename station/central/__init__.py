"""The central side: the receiver that stores delivered documents, and the fleet dashboard.
Imports the wire module and plumbing only; never a station room."""
