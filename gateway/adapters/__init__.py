"""The gateway's clients of other parties: the services behind it."""
