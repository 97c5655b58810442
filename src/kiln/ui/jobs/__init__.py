"""The job queue's pages: the list of jobs and one job with its attempts."""
