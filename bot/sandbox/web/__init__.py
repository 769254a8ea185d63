"""The sandbox's browser page: index.html, app.css and app.js, served by webui.py."""
