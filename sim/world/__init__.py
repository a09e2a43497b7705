"""The vectorised world: population, institutions, wellbeing, reports, outcomes."""
