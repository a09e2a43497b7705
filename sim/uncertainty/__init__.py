"""The decision's uncertainty: parameter draws from the evidence (``parameters``), a probabilistic sensitivity
analysis over them in twin worlds (``psa``), and what it says for a decision (``decision``: acceptability curves,
the value of perfect and partial perfect information, on the maths of ``voi``; ``sensitivity``: variance-based
indices)."""
