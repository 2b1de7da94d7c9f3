"""`feint ui`: a local web app over the datasets, runs, studies and graphs under the folders it is given.

Layout, one concern per module:
- roots.py: the folders the app may read (every file it serves is checked against them) and its own
  work folder (the only place it writes: new graph files, preview renders, the thumbnail cache);
- catalog.py: what lies under the folders (datasets, runs, studies, graphs), found by their marker files;
- app.py: the FastAPI application, its safety middleware (host check, token) and the shared routes;
- datasets.py, studies.py, runs.py, graphs.py, embedding.py: one page each, its routes and its data;
- thumbs.py: image thumbnails with boxes drawn, cached on disk in the work folder;
- templates/ and static/: Jinja2 pages and plain JavaScript and CSS, no frontend build.
"""
