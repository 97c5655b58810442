"""Pages of experiment tracking: experiments, runs, comparison."""
