"""The evaluation's screens, by audience."""
