"""Projects: their SQL (:mod:`.repository`) and their status machine (:mod:`.lifecycle`)."""
