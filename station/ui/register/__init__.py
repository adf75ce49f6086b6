"""The incoming register screen of the station (Sổ đến), its exports and its API.
Imports the running station and the records rules; never the central side."""
