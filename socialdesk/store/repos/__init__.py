"""Read queries by area. Writes go through socialdesk.actions."""
