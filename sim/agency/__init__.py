"""The municipal agency as SimPy processes: screening, investigation, decisions, measures, follow-up."""
