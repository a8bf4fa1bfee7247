"""Measuring music: metrics, harmony profiles, judges, originality, reports."""
