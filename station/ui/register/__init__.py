"""The incoming register screen of the station (Sổ đến)."""
