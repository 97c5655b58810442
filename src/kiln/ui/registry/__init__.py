"""Registry pages: models, versions, the upload form."""
