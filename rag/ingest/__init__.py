"""From files to documents: reading, listing format, chunking, the injection guard, path
confinement, the indexer and uploads."""
