"""The data domain's pages: datasets, one dataset with its quality trend, a version, a diff."""
