"""Where images come from besides archives on disk: registries (and, next, the Docker and Podman engines).

Each source turns a name into something the archive readers already know
-- a registry pull becomes an OCI layout directory in the cache, its blobs
verified against their digests -- so the loader, the analysis, the viewer
and extraction work the same on every source.  ``reference`` parses image
names with Docker Hub's rules; ``credentials`` reads what ``docker login``
left; ``registry`` speaks the OCI distribution API; ``pull`` fetches an
image into the cache, safe under concurrent runs; ``blobcache`` keeps the
cache within its bounds.
"""
