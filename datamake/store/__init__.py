"""Everything that outlives the process: files on any store, storage options, the state database."""
