"""The central side: the receiver of the stations' documents."""
