"""Server-rendered web UI (Jinja2 templates, small hand-written CSS/JS, Plotly charts)."""
