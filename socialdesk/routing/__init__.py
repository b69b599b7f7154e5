"""Routing: teams with skills, agents with capacity and shifts, explainable decisions."""
