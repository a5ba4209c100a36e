"""Estimators: MLE and MAP point estimates, and the NUTS posterior."""
