"""Event logs: what the engines record per visit, logs written as CSV, Parquet or XES, and calibration from a log."""
