"""Backfills: historical data files turned into input events."""
