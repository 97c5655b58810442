"""The pipelines' pages: the list, one pipeline with its steps, versions and runs, one run."""
