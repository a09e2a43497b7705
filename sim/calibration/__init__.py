"""Calibration: published figures as data (``conf/targets/*.csv``), one metric function per figure, a
side-by-side table over replications, and a routine that fits free parameters to a targets file."""
