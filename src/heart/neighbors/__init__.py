"""Neighbors: the people HEART serves — their records, linkage across encounters, familiar-neighbor flags."""
